// kvstore_conformance: the conformance suite, run against a test proxy over
// gRPC. Flags are parsed here and nowhere else; GoogleTest's own flags
// (--gtest_filter, --gtest_output=xml:FILE for JUnit XML, ...) work as usual.
//
// Exit status: 0 when every test passed or is a listed known failure; 1 when
// some other test failed; 2 for bad flags or a bad known-failures file.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "gtest/gtest.h"
#include "tests/conformance/harness.h"
#include "tests/conformance/known_failures.h"

ABSL_FLAG(std::string, proxy_addr, "",
          "host:port of a running test proxy; empty: start --proxy_binary");
ABSL_FLAG(std::string, proxy_binary, KVSTORE_PROXY_BINARY,
          "Proxy to start on port 0 when --proxy_addr is empty");
ABSL_FLAG(std::string, store_binary, KVSTORE_SERVER_BINARY,
          "kvstore_server binary; each test starts one (port 0, in memory)");
ABSL_FLAG(std::string, known_failures, "",
          "File of tests expected to fail: a name or regex a line, # comments");

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);  // takes the --gtest_* flags
  absl::ParseCommandLine(argc, argv);

  kvstore::conformance::HarnessConfig config;
  config.proxy_addr = absl::GetFlag(FLAGS_proxy_addr);
  config.proxy_binary = absl::GetFlag(FLAGS_proxy_binary);
  config.store_binary = absl::GetFlag(FLAGS_store_binary);
  kvstore::conformance::SetHarnessConfig(config);

  kvstore::conformance::KnownFailures known;
  const std::string known_path = absl::GetFlag(FLAGS_known_failures);
  if (!known_path.empty()) {
    std::ifstream in(known_path);
    if (!in) {
      std::fprintf(stderr, "kvstore_conformance: cannot read %s\n",
                   known_path.c_str());
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = kvstore::conformance::KnownFailures::Parse(
        text.str(), kvstore::conformance::AllTestNames());
    if (!parsed.ok()) {
      std::fprintf(stderr, "kvstore_conformance: %s: %s\n", known_path.c_str(),
                   std::string(parsed.status().message()).c_str());
      return 2;
    }
    known = std::move(*parsed);
  }

  ::testing::AddGlobalTestEnvironment(
      new kvstore::conformance::ProxyEnvironment());
  auto* summary = new kvstore::conformance::SummaryListener(&known);
  ::testing::UnitTest::GetInstance()->listeners().Append(summary);
  const int gtest_status = RUN_ALL_TESTS();
  // Known failures do not fail the run; anything else that failed does (and
  // so does an environment failure, which GoogleTest reports on its own).
  if (summary->failed() > 0) return 1;
  if (gtest_status != 0 &&
      ::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed()) {
    return 1;
  }
  return 0;
}
