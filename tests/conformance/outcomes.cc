#include "tests/conformance/outcomes.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/conformance/markup.h"

namespace kvstore::conformance {
namespace {

std::string FailureText(const ::testing::TestResult& result) {
  std::string text;
  for (int i = 0; i < result.total_part_count(); ++i) {
    const ::testing::TestPartResult& part = result.GetTestPartResult(i);
    if (!part.failed()) continue;
    absl::StrAppend(&text, part.file_name() ? part.file_name() : "?", ":",
                    part.line_number(), ": ", part.message(), "\n");
  }
  return text;
}

// "ReadRows_Retry_Resumes" -> {"ReadRows", "Retry"}.
std::pair<std::string, std::string> MethodAndGroup(const std::string& name) {
  std::vector<std::string> parts = absl::StrSplit(name, '_');
  if (parts.size() < 3) return {name, "Other"};
  return {parts[0], parts[1]};
}

std::string FirstLine(absl::string_view text) {
  absl::string_view line = text.substr(0, text.find('\n'));
  return std::string(line.substr(
      line.find(": ") == absl::string_view::npos ? 0 : line.find(": ") + 2));
}

}  // namespace

void OutcomeRecorder::OnTestEnd(const ::testing::TestInfo& info) {
  const ::testing::TestResult& result = *info.result();
  TestOutcome outcome;
  outcome.suite = info.test_suite_name();
  outcome.name = info.name();
  outcome.seconds = static_cast<double>(result.elapsed_time()) / 1000.0;
  auto rules = rules_->find(outcome.name);
  if (rules != rules_->end()) outcome.rules = rules->second;
  for (int i = 0; i < result.test_property_count(); ++i) {
    const ::testing::TestProperty& p = result.GetTestProperty(i);
    if (std::string(p.key()) == "timeline") outcome.timeline = p.value();
  }
  const bool known = known_->Matches(outcome.suite, outcome.name);
  if (known) outcome.reason = known_->Reason(outcome.suite, outcome.name);
  if (result.Skipped()) {
    outcome.kind = TestOutcome::kSkipped;
  } else if (result.Failed()) {
    outcome.kind = known ? TestOutcome::kKnownFailed : TestOutcome::kFailed;
    outcome.failure = FailureText(result);
  } else {
    outcome.kind = known ? TestOutcome::kKnownPassed : TestOutcome::kPassed;
  }
  outcomes_.push_back(std::move(outcome));
}

int OutcomeRecorder::Count(TestOutcome::Kind kind) const {
  int n = 0;
  for (const TestOutcome& o : outcomes_) n += o.kind == kind ? 1 : 0;
  return n;
}

std::string OutcomeRecorder::SummaryLine() const {
  const int passed =
      Count(TestOutcome::kPassed) + Count(TestOutcome::kKnownPassed);
  std::string line = absl::StrCat(
      "kvstore_conformance: ", passed, " passed, ", Count(TestOutcome::kFailed),
      " failed, ", Count(TestOutcome::kKnownFailed), " known-failed");
  if (Count(TestOutcome::kSkipped) > 0) {
    absl::StrAppend(&line, ", ", Count(TestOutcome::kSkipped), " skipped");
  }
  if (Count(TestOutcome::kKnownPassed) > 0) {
    absl::StrAppend(&line, " (", Count(TestOutcome::kKnownPassed),
                    " listed as known failures passed: update the list)");
  }
  return line;
}

std::string JunitXml(const std::vector<TestOutcome>& outcomes) {
  std::map<std::string, std::vector<const TestOutcome*>> suites;
  int failures = 0, skipped = 0;
  for (const TestOutcome& o : outcomes) {
    suites[o.suite].push_back(&o);
    failures += o.kind == TestOutcome::kFailed ? 1 : 0;
    skipped +=
        o.kind == TestOutcome::kKnownFailed || o.kind == TestOutcome::kSkipped
            ? 1
            : 0;
  }
  std::string xml = absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\""
      "kvstore_conformance\" tests=\"",
      outcomes.size(), "\" failures=\"", failures, "\" skipped=\"", skipped,
      "\">\n");
  for (const auto& [suite, tests] : suites) {
    absl::StrAppend(&xml, "  <testsuite name=\"", XmlEscaped(suite),
                    "\" tests=\"", tests.size(), "\">\n");
    for (const TestOutcome* o : tests) {
      absl::StrAppend(&xml, "    <testcase name=\"", XmlEscaped(o->name),
                      "\" classname=\"", XmlEscaped(suite), "\" time=\"",
                      o->seconds,
                      "\">\n      <properties><property name=\""
                      "rules\" value=\"",
                      absl::StrJoin(o->rules, " "), "\"/>",
                      o->timeline.empty()
                          ? ""
                          : absl::StrCat("<property name=\"timeline\" value=\"",
                                         XmlEscaped(o->timeline), "\"/>"),
                      "</properties>\n");
      if (o->kind == TestOutcome::kFailed) {
        absl::StrAppend(&xml, "      <failure message=\"",
                        XmlEscaped(FirstLine(o->failure)), "\">",
                        XmlEscaped(o->failure), "</failure>\n");
      } else if (o->kind == TestOutcome::kKnownFailed) {
        absl::StrAppend(&xml, "      <skipped message=\"known failure: ",
                        XmlEscaped(o->reason), "\"/>\n");
      } else if (o->kind == TestOutcome::kSkipped) {
        absl::StrAppend(&xml, "      <skipped/>\n");
      }
      if (!o->timeline.empty()) {
        absl::StrAppend(&xml,
                        "      <system-out>timeline: ", XmlEscaped(o->timeline),
                        "</system-out>\n");
      }
      absl::StrAppend(&xml, "    </testcase>\n");
    }
    absl::StrAppend(&xml, "  </testsuite>\n");
  }
  absl::StrAppend(&xml, "</testsuites>\n");
  return xml;
}

std::string MarkdownReport(const std::vector<TestOutcome>& outcomes,
                           const std::string& proxy) {
  const std::vector<std::string> groups = {"Generic", "Retry", "NoRetry"};
  struct Cell {
    int run = 0, passed = 0, known = 0;
    std::set<std::string> failed_rules;
  };
  std::map<std::string, std::map<std::string, Cell>> matrix;
  int passed = 0;
  for (const TestOutcome& o : outcomes) {
    auto [method, group] = MethodAndGroup(o.name);
    Cell& cell = matrix[method][group];
    ++cell.run;
    if (o.kind == TestOutcome::kPassed || o.kind == TestOutcome::kKnownPassed) {
      ++cell.passed;
      ++passed;
    } else if (o.kind == TestOutcome::kKnownFailed ||
               o.kind == TestOutcome::kFailed) {
      cell.known += o.kind == TestOutcome::kKnownFailed ? 1 : 0;
      cell.failed_rules.insert(o.rules.begin(), o.rules.end());
    }
  }
  std::string md = absl::StrCat(
      "# kvstore conformance: ", proxy, "\n\n", passed, " of ", outcomes.size(),
      " tests passed. Rules: docs/conformance.md. A cell is passed/run; "
      "a failing cell names the rules its failures check (known failures "
      "counted as such).\n\n| method | ",
      absl::StrJoin(groups, " | "), " |\n|---|---|---|---|\n");
  for (const auto& [method, cells] : matrix) {
    absl::StrAppend(&md, "| ", method, " |");
    for (const std::string& group : groups) {
      auto it = cells.find(group);
      if (it == cells.end()) {
        absl::StrAppend(&md, " |");
        continue;
      }
      const Cell& c = it->second;
      absl::StrAppend(&md, " ", c.passed == c.run ? "✅ " : "❌ ", c.passed, "/",
                      c.run);
      if (c.known > 0) absl::StrAppend(&md, " (", c.known, " known)");
      if (!c.failed_rules.empty()) {
        absl::StrAppend(&md, " ", absl::StrJoin(c.failed_rules, ", "));
      }
      absl::StrAppend(&md, " |");
    }
    absl::StrAppend(&md, "\n");
  }
  bool header = false;
  for (const TestOutcome& o : outcomes) {
    if (o.kind != TestOutcome::kFailed && o.kind != TestOutcome::kKnownFailed) {
      continue;
    }
    if (!header) absl::StrAppend(&md, "\n## Failures\n\n");
    header = true;
    absl::StrAppend(
        &md, "- `", o.name, "` (", absl::StrJoin(o.rules, ", "), ")",
        o.kind == TestOutcome::kKnownFailed
            ? absl::StrCat(" known failure: ", o.reason)
            : absl::StrCat(": ", FirstLine(o.failure)),
        o.timeline.empty() ? ""
                           : absl::StrCat(" ([timeline](", o.timeline, "))"),
        "\n");
  }
  return md;
}

}  // namespace kvstore::conformance
