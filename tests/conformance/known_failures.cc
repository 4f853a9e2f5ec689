#include "tests/conformance/known_failures.h"

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
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t hash = line.find('#');
    absl::string_view reason =
        hash == absl::string_view::npos
            ? absl::string_view()
            : absl::StripAsciiWhitespace(line.substr(hash + 1));
    line = absl::StripAsciiWhitespace(line.substr(0, hash));
    if (reason.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("known failures line ", line_number, ": '", line,
                       "' has no reason (write: name  # why it fails)"));
    }
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
    known.entries_.push_back(Entry{std::move(re), std::string(reason)});
  }
  return known;
}

const KnownFailures::Entry* KnownFailures::Find(const std::string& suite,
                                                const std::string& name) const {
  const std::string full = absl::StrCat(suite, ".", name);
  for (const Entry& entry : entries_) {
    if (RE2::FullMatch(full, *entry.re) || RE2::FullMatch(name, *entry.re)) {
      return &entry;
    }
  }
  return nullptr;
}

bool KnownFailures::Matches(const std::string& suite,
                            const std::string& name) const {
  return Find(suite, name) != nullptr;
}

std::string KnownFailures::Reason(const std::string& suite,
                                  const std::string& name) const {
  const Entry* entry = Find(suite, name);
  return entry == nullptr ? "" : entry->reason;
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

}  // namespace kvstore::conformance
