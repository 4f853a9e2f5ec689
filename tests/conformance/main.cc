// kvstore_conformance: the conformance suite, run against a test proxy over
// gRPC. Flags are parsed here and nowhere else; GoogleTest's own flags
// (--gtest_filter, ...) work as usual, and --gtest_output=xml:FILE writes the
// suite's own JUnit XML (known failures as <skipped>).
//
// Exit status: 0 when every test passed or is a listed known failure; 1 when
// some other test failed, the count differs from --expect_tests, or (with
// --strict_known_failures) a listed test passed; 2 for bad flags, a bad
// known-failures file, or a proxy that does not answer.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/conformance/harness.h"
#include "tests/conformance/known_failures.h"
#include "tests/conformance/markup.h"
#include "tests/conformance/outcomes.h"
#include "tests/conformance/rules.h"

ABSL_FLAG(std::string, proxy_addr, "",
          "host:port of a running test proxy; empty: start --proxy_binary");
ABSL_FLAG(std::string, proxy_binary, KVSTORE_PROXY_BINARY,
          "Proxy to start with --port=0 --port_file=F when --proxy_addr is "
          "empty");
ABSL_FLAG(std::string, store_binary, KVSTORE_SERVER_BINARY,
          "kvstore_server binary; each test starts one (port 0, in memory)");
ABSL_FLAG(std::string, known_failures, "",
          "File of tests expected to fail: 'name-or-regex  # reason' a line");
ABSL_FLAG(bool, strict_known_failures, false,
          "Fail the run when a test listed as a known failure passes");
ABSL_FLAG(int, expect_tests, -1,
          "Fail the run unless exactly this many tests ran (-1: any number)");
ABSL_FLAG(std::string, report, "",
          "Write a Markdown conformance matrix (method x group) to this file");
ABSL_FLAG(std::string, check_rules, "",
          "Check the rules of this spec (docs/conformance.md) against the "
          "tests' declared rules, print every disagreement, and exit");
ABSL_FLAG(bool, list_rules, false, "Print each test with its rules and exit");
ABSL_FLAG(std::string, timeline_dir, "",
          "Write each failed test's timeline here (created if missing): "
          "Suite.Test.html (one self-contained page: the proxy RPCs, the "
          "store's requests and injection events, the failed assertions, on "
          "one time axis) and Suite.Test.json; the JUnit XML links them");
ABSL_FLAG(std::string, timeline, "failed",
          "Which tests get a timeline with --timeline_dir: failed or all");

namespace kvstore::conformance {
namespace {

bool ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  *text = buffer.str();
  return true;
}

std::vector<std::string> TestNamesOnly() {
  std::vector<std::string> names;
  for (const std::string& full : AllTestNames()) {
    names.push_back(full.substr(full.find('.') + 1));
  }
  return names;
}

int CheckRulesAgainst(const std::string& spec_path) {
  std::string spec;
  if (!ReadFile(spec_path, &spec)) {
    std::fprintf(stderr, "kvstore_conformance: cannot read %s\n",
                 spec_path.c_str());
    return 2;
  }
  std::vector<SpecRule> rules = ParseSpecRules(spec);
  std::vector<std::string> problems =
      CheckRules(rules, TestNamesOnly(), RegisteredRules());
  for (const std::string& p : problems) std::printf("%s\n", p.c_str());
  std::printf("kvstore_conformance: %zu rules, %zu tests, %zu problems\n",
              rules.size(), TestNamesOnly().size(), problems.size());
  return problems.empty() ? 0 : 1;
}

int ListRules() {
  for (const std::string& name : TestNamesOnly()) {
    auto it = RegisteredRules().find(name);
    std::printf("%s  %s\n", name.c_str(),
                it == RegisteredRules().end()
                    ? "(none)"
                    : absl::StrJoin(it->second, " ").c_str());
  }
  return 0;
}

// Loads --known_failures; false (with a message) when it is unreadable or bad.
bool LoadKnownFailures(const std::string& path, KnownFailures* known) {
  if (path.empty()) return true;
  std::string text;
  if (!ReadFile(path, &text)) {
    std::fprintf(stderr, "kvstore_conformance: cannot read %s\n", path.c_str());
    return false;
  }
  auto parsed = KnownFailures::Parse(text, AllTestNames());
  if (!parsed.ok()) {
    std::fprintf(stderr, "kvstore_conformance: %s: %s\n", path.c_str(),
                 std::string(parsed.status().message()).c_str());
    return false;
  }
  *known = std::move(*parsed);
  return true;
}

// Takes --gtest_output=xml:FILE from GoogleTest (whose XML knows nothing of
// known failures) and returns FILE; empty when not given.
std::string TakeJunitPath() {
  std::string output = GTEST_FLAG_GET(output);
  if (!absl::StartsWith(output, "xml:")) return "";
  GTEST_FLAG_SET(output, "");
  return output.substr(4);
}

// --timeline_dir and --timeline into `config`, the directory made; false
// (with a message) when they are bad.
bool TimelineFlags(HarnessConfig* config) {
  const std::string which = absl::GetFlag(FLAGS_timeline);
  if (which != "failed" && which != "all") {
    std::fprintf(stderr,
                 "kvstore_conformance: --timeline must be failed or all, not "
                 "'%s'\n",
                 which.c_str());
    return false;
  }
  config->timeline_all = which == "all";
  config->timeline_dir = absl::GetFlag(FLAGS_timeline_dir);
  if (config->timeline_dir.empty()) return true;
  std::error_code error;
  std::filesystem::create_directories(config->timeline_dir, error);
  if (error) {
    std::fprintf(stderr, "kvstore_conformance: cannot make %s: %s\n",
                 config->timeline_dir.c_str(), error.message().c_str());
    return false;
  }
  return true;
}

// The run's exit status from what the recorder saw.
int Verdict(const OutcomeRecorder& recorder, int gtest_status) {
  int status = 0;
  if (recorder.Count(TestOutcome::kFailed) > 0) status = 1;
  const int expected = absl::GetFlag(FLAGS_expect_tests);
  const int ran = static_cast<int>(recorder.outcomes().size());
  if (expected >= 0 && ran != expected) {
    std::printf("kvstore_conformance: %d tests ran, --expect_tests=%d\n", ran,
                expected);
    status = 1;
  }
  if (absl::GetFlag(FLAGS_strict_known_failures) &&
      recorder.Count(TestOutcome::kKnownPassed) > 0) {
    std::printf(
        "kvstore_conformance: --strict_known_failures: %d listed tests "
        "passed\n",
        recorder.Count(TestOutcome::kKnownPassed));
    status = 1;
  }
  // An environment failure is reported by GoogleTest on its own.
  if (gtest_status != 0 &&
      ::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed()) {
    status = 1;
  }
  return status;
}

int Run(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);  // takes the --gtest_* flags
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_check_rules).empty()) {
    return CheckRulesAgainst(absl::GetFlag(FLAGS_check_rules));
  }
  if (absl::GetFlag(FLAGS_list_rules)) return ListRules();

  HarnessConfig config;
  config.proxy_addr = absl::GetFlag(FLAGS_proxy_addr);
  config.proxy_binary = absl::GetFlag(FLAGS_proxy_binary);
  config.store_binary = absl::GetFlag(FLAGS_store_binary);
  if (!TimelineFlags(&config)) return 2;
  SetHarnessConfig(config);
  KnownFailures known;
  if (!LoadKnownFailures(absl::GetFlag(FLAGS_known_failures), &known)) {
    return 2;
  }
  const std::string junit = TakeJunitPath();

  ::testing::AddGlobalTestEnvironment(new ProxyEnvironment());
  auto* recorder = new OutcomeRecorder(&known, &RegisteredRules());
  ::testing::UnitTest::GetInstance()->listeners().Append(recorder);
  if (!config.timeline_dir.empty()) {
    ::testing::UnitTest::GetInstance()->listeners().Append(
        NewTimelineListener());
  }
  const int gtest_status = RUN_ALL_TESTS();
  std::printf("%s\n", recorder->SummaryLine().c_str());
  const std::string proxy =
      config.proxy_addr.empty() ? config.proxy_binary : config.proxy_addr;
  if (!junit.empty() && !WriteTextFile(junit, JunitXml(recorder->outcomes()))) {
    std::fprintf(stderr, "kvstore_conformance: cannot write %s\n",
                 junit.c_str());
    return 2;
  }
  const std::string report = absl::GetFlag(FLAGS_report);
  if (!report.empty() &&
      !WriteTextFile(report, MarkdownReport(recorder->outcomes(), proxy))) {
    std::fprintf(stderr, "kvstore_conformance: cannot write %s\n",
                 report.c_str());
    return 2;
  }
  std::fflush(stdout);
  return Verdict(*recorder, gtest_status);
}

}  // namespace
}  // namespace kvstore::conformance

int main(int argc, char** argv) {
  return kvstore::conformance::Run(argc, argv);
}
