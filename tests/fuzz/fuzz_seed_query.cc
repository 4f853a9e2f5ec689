// libFuzzer target: the seed API's query decoder (store/api/seed_query.h).
// Any bytes must give a value or InvalidArgument, and a decoded component
// re-encoded as %XX escapes must decode back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "store/api/seed_query.h"

namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "seed query invariant broken: %s\n", what);
    std::abort();
  }
}

std::string Escape(absl::string_view raw) {
  std::string out;
  for (unsigned char c : raw) absl::StrAppendFormat(&out, "%%%02X", c);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  using kvstore::store::DecodeQueryComponent;
  absl::StatusOr<kvstore::store::SeedQuery> query =
      kvstore::store::ParseSeedQuery(input);
  if (query.ok()) {
    Check(!query->value.empty(), "empty value");
    auto again = kvstore::store::ParseSeedQuery(Escape(query->field) + "=" +
                                                Escape(query->value));
    Check(again.ok() && again->field == query->field &&
              again->value == query->value,
          "escaped pair does not parse back");
  } else {
    Check(absl::IsInvalidArgument(query.status()), "not InvalidArgument");
  }
  absl::StatusOr<std::string> decoded = DecodeQueryComponent(input);
  if (decoded.ok()) {
    Check(decoded->size() <= input.size(), "decoding grew the text");
    auto round = DecodeQueryComponent(Escape(*decoded));
    Check(round.ok() && *round == *decoded, "escape does not decode back");
  }
  return 0;
}
