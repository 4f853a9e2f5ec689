#include "tests/conformance/known_failures.h"

#include <cstdio>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kvstore::conformance {

absl::StatusOr<KnownFailures> KnownFailures::Parse(
    const std::string& text, const std::vector<std::string>& test_names) {
  KnownFailures known;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = line.substr(0, line.find('#'));
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    auto re =
        std::make_shared<const RE2>(re2::StringPiece(line.data(), line.size()));
    if (!re->ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("known failures line ", line_number, ": bad regex '",
                       line, "': ", re->error()));
    }
    bool matched = false;
    for (const std::string& full : test_names) {
      absl::string_view name = full;
      name.remove_prefix(full.find('.') + 1);
      if (RE2::FullMatch(full, *re) ||
          RE2::FullMatch(re2::StringPiece(name.data(), name.size()), *re)) {
        matched = true;
        break;
      }
    }
    if (!matched) {
      return absl::InvalidArgumentError(
          absl::StrCat("known failures line ", line_number, ": '", line,
                       "' matches no test (renamed or removed? delete it)"));
    }
    known.entries_.push_back(std::move(re));
  }
  return known;
}

bool KnownFailures::Matches(const std::string& suite,
                            const std::string& name) const {
  const std::string full = absl::StrCat(suite, ".", name);
  for (const auto& re : entries_) {
    if (RE2::FullMatch(full, *re) || RE2::FullMatch(name, *re)) return true;
  }
  return false;
}

std::vector<std::string> AllTestNames() {
  std::vector<std::string> names;
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    for (int j = 0; j < suite.total_test_count(); ++j) {
      names.push_back(
          absl::StrCat(suite.name(), ".", suite.GetTestInfo(j)->name()));
    }
  }
  return names;
}

void SummaryListener::OnTestEnd(const ::testing::TestInfo& info) {
  const ::testing::TestResult& result = *info.result();
  const bool known = known_->Matches(info.test_suite_name(), info.name());
  if (result.Skipped()) {
    ++skipped_;
  } else if (result.Failed()) {
    ++(known ? known_failed_ : failed_);
  } else {
    ++passed_;
    if (known) ++known_passed_;
  }
}

void SummaryListener::OnTestProgramEnd(const ::testing::UnitTest&) {
  std::string line =
      absl::StrCat("kvstore_conformance: ", passed_, " passed, ", failed_,
                   " failed, ", known_failed_, " known-failed");
  if (skipped_ > 0) absl::StrAppend(&line, ", ", skipped_, " skipped");
  if (known_passed_ > 0) {
    absl::StrAppend(&line, " (", known_passed_,
                    " listed as known failures passed: update the list)");
  }
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace kvstore::conformance
