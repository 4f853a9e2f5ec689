// --known_failures: tests expected to fail against a given proxy.
//
// The file has one test name or regular expression (RE2, full match against
// "Suite.Name" or "Name") per line; blank lines and text after '#' are
// ignored. An entry that matches no test is an error, so a renamed test cannot
// silently leave a stale entry behind.
#ifndef KVSTORE_TESTS_CONFORMANCE_KNOWN_FAILURES_H_
#define KVSTORE_TESTS_CONFORMANCE_KNOWN_FAILURES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

namespace kvstore::conformance {

class KnownFailures {
 public:
  // Parses `text` and checks every entry against `test_names` ("Suite.Name").
  // InvalidArgument naming the line for a bad regex or an entry that matches
  // no test.
  static absl::StatusOr<KnownFailures> Parse(
      const std::string& text, const std::vector<std::string>& test_names);
  KnownFailures() = default;

  bool Matches(const std::string& suite, const std::string& name) const;
  size_t size() const { return entries_.size(); }

 private:
  std::vector<std::shared_ptr<const RE2>> entries_;
};

// Every registered test as "Suite.Name".
std::vector<std::string> AllTestNames();

// Counts outcomes and prints the one-line summary when the run ends:
// "kvstore_conformance: N passed, M failed, K known-failed[, J known failures
// passed]". A test in the known-failures list that fails counts as
// known-failed, not failed.
class SummaryListener final : public ::testing::EmptyTestEventListener {
 public:
  explicit SummaryListener(const KnownFailures* known) : known_(known) {}
  void OnTestEnd(const ::testing::TestInfo& info) override;
  void OnTestProgramEnd(const ::testing::UnitTest&) override;
  int failed() const { return failed_; }

 private:
  const KnownFailures* known_;
  int passed_ = 0, failed_ = 0, known_failed_ = 0, known_passed_ = 0,
      skipped_ = 0;
};

}  // namespace kvstore::conformance

#endif  // KVSTORE_TESTS_CONFORMANCE_KNOWN_FAILURES_H_
