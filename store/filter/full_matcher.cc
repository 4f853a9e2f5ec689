#include "store/filter/full_matcher.h"

#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kvstore::store {
namespace {

// True if RE2 reads every byte of `text` as itself: no metacharacter, so no
// escapes, classes, groups, flags, anchors or repetition.
bool IsLiteral(absl::string_view text) {
  for (char c : text) {
    if (std::strchr("\\.+*?()|[]{}^$", c) != nullptr || c == '\0') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<FullMatcher> FullMatcher::Compile(absl::string_view pattern,
                                                 absl::string_view where) {
  RE2::Options options(RE2::Latin1);
  options.set_log_errors(false);
  auto re = std::make_shared<const RE2>(
      re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " is not a valid RE2 pattern: ", re->error()));
  }
  FullMatcher matcher;
  if (IsLiteral(pattern)) {
    matcher.kind_ = Kind::kLiteral;
    matcher.literal_ = std::string(pattern);
  } else if (absl::EndsWith(pattern, ".*") &&
             IsLiteral(pattern.substr(0, pattern.size() - 2))) {
    // "." is any byte but '\n' (no (?s) flag can precede a literal).
    matcher.kind_ = Kind::kLiteralThenAnyLine;
    matcher.literal_ = std::string(pattern.substr(0, pattern.size() - 2));
  } else {
    matcher.re_ = std::move(re);
  }
  return matcher;
}

bool FullMatcher::Matches(absl::string_view bytes) const {
  switch (kind_) {
    case Kind::kLiteral:
      return bytes == literal_;
    case Kind::kLiteralThenAnyLine: {
      if (!absl::StartsWith(bytes, literal_)) return false;
      absl::string_view rest = bytes.substr(literal_.size());
      return std::memchr(rest.data(), '\n', rest.size()) == nullptr;
    }
    case Kind::kRegex:
      break;
  }
  return RE2::FullMatch(re2::StringPiece(bytes.data(), bytes.size()), *re_);
}

}  // namespace kvstore::store
