// What the conformance run found, test by test, and the ways it is reported:
// the one-line summary, JUnit XML (known failures as <skipped> with their
// reason) and a Markdown conformance matrix (method x group, with the rule ids
// of every failure) that a team can paste into its README.
//
// OutcomeRecorder is a GoogleTest listener: used on GoogleTest's thread only.
#ifndef KVSTORE_TESTS_CONFORMANCE_OUTCOMES_H_
#define KVSTORE_TESTS_CONFORMANCE_OUTCOMES_H_

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/conformance/known_failures.h"

namespace kvstore::conformance {

struct TestOutcome {
  enum Kind { kPassed, kFailed, kKnownFailed, kKnownPassed, kSkipped };
  std::string suite;
  std::string name;  // <Method>_<Group>_<What>
  Kind kind = kPassed;
  std::string reason;   // known failures: the list's reason
  std::string failure;  // failed tests: what GoogleTest reported
  double seconds = 0;
  std::vector<std::string> rules;  // the rule ids the test checks
  std::string timeline;            // its timeline page, if one was written
};

class OutcomeRecorder final : public ::testing::EmptyTestEventListener {
 public:
  // `known` and `rules` (test name -> rule ids) must outlive the recorder.
  OutcomeRecorder(const KnownFailures* known,
                  const std::map<std::string, std::vector<std::string>>* rules)
      : known_(known), rules_(rules) {}
  void OnTestEnd(const ::testing::TestInfo& info) override;

  const std::vector<TestOutcome>& outcomes() const { return outcomes_; }
  int Count(TestOutcome::Kind kind) const;
  // "kvstore_conformance: N passed, M failed, K known-failed[, ...]".
  std::string SummaryLine() const;

 private:
  const KnownFailures* known_;
  const std::map<std::string, std::vector<std::string>>* rules_;
  std::vector<TestOutcome> outcomes_;
};

// JUnit XML of the outcomes: one <testsuite> per suite; a failure is a
// <failure>, a known failure a <skipped> whose message is its reason; each
// test carries its rule ids as a "rules" property, and its timeline page (if
// written) as a "timeline" property and a line of its <system-out>.
std::string JunitXml(const std::vector<TestOutcome>& outcomes);

// The conformance matrix in Markdown: a row per method, a column per group
// (Generic, Retry, NoRetry), each cell "passed/run" and the rule ids of its
// failures; then every failure with its rules and first message line.
std::string MarkdownReport(const std::vector<TestOutcome>& outcomes,
                           const std::string& proxy);

}  // namespace kvstore::conformance

#endif  // KVSTORE_TESTS_CONFORMANCE_OUTCOMES_H_
