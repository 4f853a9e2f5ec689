// --known_failures: tests expected to fail against a given proxy.
//
// The file has one entry per line: a test name or regular expression (RE2,
// full match against "Suite.Name" or "Name"), then `#` and the reason it
// fails (`ReadRows_Retry_.*  # no resumption yet`). Blank lines and lines that
// start with '#' are ignored. An entry without a reason is an error, and so is
// one that matches no test, so a renamed test cannot silently leave a stale
// entry behind.
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
  // The reason of the first entry that matches; empty if none does.
  std::string Reason(const std::string& suite, const std::string& name) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::shared_ptr<const RE2> re;
    std::string reason;
  };
  const Entry* Find(const std::string& suite, const std::string& name) const;
  std::vector<Entry> entries_;
};

// Every registered test as "Suite.Name".
std::vector<std::string> AllTestNames();

}  // namespace kvstore::conformance

#endif  // KVSTORE_TESTS_CONFORMANCE_KNOWN_FAILURES_H_
