// The conformance spec's rules (docs/conformance.md) against the tests that
// declare them (CONFORMANCE_TEST). A rule is a line starting "**ID.**" (ID as
// CH-2), followed by a line "Tests: `pattern`, ..." where `*` in a pattern
// matches any run of characters of a test name.
//
// Pure functions; thread-compatible.
#ifndef KVSTORE_TESTS_CONFORMANCE_RULES_H_
#define KVSTORE_TESTS_CONFORMANCE_RULES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace kvstore::conformance {

struct SpecRule {
  std::string id;
  std::vector<std::string> patterns;  // from its "Tests:" line
};

// The rules of a spec, in order. A rule without a Tests line has no patterns.
std::vector<SpecRule> ParseSpecRules(absl::string_view markdown);

// Every disagreement between the spec and the tests, one sentence each; empty
// when they agree: a rule with no test, a pattern that matches no test, a test
// that declares no rule or a rule the spec lacks, and a rule whose patterns
// and whose declaring tests differ. `declared` maps test name -> rule ids.
std::vector<std::string> CheckRules(
    const std::vector<SpecRule>& spec, const std::vector<std::string>& tests,
    const std::map<std::string, std::vector<std::string>>& declared);

}  // namespace kvstore::conformance

#endif  // KVSTORE_TESTS_CONFORMANCE_RULES_H_
