// Full-match regular expressions for row filters: RE2 in Latin-1 mode on raw
// bytes, with fast paths for the two shapes filters use most, a literal
// ("cf1") and a literal followed by ".*" ("user42.*"), which RE2 would run
// through its DFA byte by byte (a value regex then costs a pass over every
// value). The fast paths give exactly RE2's answer; a unit test holds them to
// it.
//
// Immutable after Compile; thread-safe.
#ifndef KVSTORE_STORE_FILTER_FULL_MATCHER_H_
#define KVSTORE_STORE_FILTER_FULL_MATCHER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "re2/re2.h"

namespace kvstore::store {

class FullMatcher {
 public:
  // InvalidArgument "<where> is not a valid RE2 pattern: ..." for a bad one.
  static absl::StatusOr<FullMatcher> Compile(absl::string_view pattern,
                                             absl::string_view where);

  // True if the whole of `bytes` matches.
  bool Matches(absl::string_view bytes) const;

 private:
  enum class Kind { kRegex, kLiteral, kLiteralThenAnyLine };
  FullMatcher() = default;

  Kind kind_ = Kind::kRegex;
  std::string literal_;
  std::shared_ptr<const RE2> re_;  // kRegex only
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_FILTER_FULL_MATCHER_H_
