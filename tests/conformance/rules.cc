#include "tests/conformance/rules.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "re2/re2.h"

namespace kvstore::conformance {
namespace {

// "**CH-2.** text" -> "CH-2".
bool RuleHeader(absl::string_view line, std::string* id) {
  static const RE2* header = new RE2(R"(\*\*([A-Z]+-[0-9]+)\.\*\*.*)");
  return RE2::FullMatch(re2::StringPiece(line.data(), line.size()), *header,
                        id);
}

// The backquoted items of a "Tests:" line.
std::vector<std::string> Patterns(absl::string_view line) {
  std::vector<std::string> out;
  std::vector<absl::string_view> parts = absl::StrSplit(line, '`');
  for (size_t i = 1; i < parts.size(); i += 2) out.emplace_back(parts[i]);
  return out;
}

// A pattern's `*` matches any run of characters; the rest is literal.
std::string GlobRegex(const std::string& pattern) {
  std::vector<std::string> pieces;
  for (absl::string_view piece : absl::StrSplit(pattern, '*')) {
    pieces.push_back(
        RE2::QuoteMeta(re2::StringPiece(piece.data(), piece.size())));
  }
  return absl::StrJoin(pieces, ".*");
}

}  // namespace

std::vector<SpecRule> ParseSpecRules(absl::string_view markdown) {
  std::vector<SpecRule> rules;
  for (absl::string_view line : absl::StrSplit(markdown, '\n')) {
    std::string id;
    if (RuleHeader(line, &id)) {
      rules.push_back(SpecRule{id, {}});
    } else if (absl::StartsWith(line, "Tests:") && !rules.empty() &&
               rules.back().patterns.empty()) {
      rules.back().patterns = Patterns(line);
    }
  }
  return rules;
}

std::vector<std::string> CheckRules(
    const std::vector<SpecRule>& spec, const std::vector<std::string>& tests,
    const std::map<std::string, std::vector<std::string>>& declared) {
  std::vector<std::string> problems;
  std::set<std::string> ids;
  for (const SpecRule& rule : spec) ids.insert(rule.id);
  std::map<std::string, std::set<std::string>> declaring;  // rule -> tests
  for (const std::string& test : tests) {
    auto it = declared.find(test);
    if (it == declared.end() || it->second.empty()) {
      problems.push_back(absl::StrCat("test ", test, " names no rule"));
      continue;
    }
    for (const std::string& id : it->second) {
      if (ids.count(id) == 0) {
        problems.push_back(absl::StrCat("test ", test, " names rule ", id,
                                        ", which the spec does not have"));
      }
      declaring[id].insert(test);
    }
  }
  for (const SpecRule& rule : spec) {
    if (rule.patterns.empty()) {
      problems.push_back(absl::StrCat("rule ", rule.id, " lists no test"));
      continue;
    }
    std::set<std::string> listed;
    for (const std::string& pattern : rule.patterns) {
      bool any = false;
      const RE2 glob(GlobRegex(pattern));
      for (const std::string& test : tests) {
        if (RE2::FullMatch(test, glob)) {
          listed.insert(test);
          any = true;
        }
      }
      if (!any) {
        problems.push_back(absl::StrCat("rule ", rule.id, ": `", pattern,
                                        "` matches no test"));
      }
    }
    const std::set<std::string>& named = declaring[rule.id];
    for (const std::string& test : listed) {
      if (named.count(test) == 0) {
        problems.push_back(absl::StrCat("rule ", rule.id, " lists ", test,
                                        ", which does not name ", rule.id));
      }
    }
    for (const std::string& test : named) {
      if (listed.count(test) == 0) {
        problems.push_back(
            absl::StrCat("test ", test, " names ", rule.id,
                         ", whose Tests line does not match it"));
      }
    }
  }
  return problems;
}

}  // namespace kvstore::conformance
