#include "store/api/seed_query.h"

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace kvstore::store {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<std::string> DecodeQueryComponent(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      int hi = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            "Error: malformed percent-encoding in query (need %XX with hex "
            "digits)");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

absl::StatusOr<SeedQuery> ParseSeedQuery(absl::string_view query) {
  std::optional<SeedQuery> found;
  for (absl::string_view piece : absl::StrSplit(query, '&')) {
    size_t eq = piece.find('=');
    if (eq == absl::string_view::npos || eq + 1 == piece.size()) continue;
    if (found.has_value()) {
      return absl::InvalidArgumentError(
          "Error: query must have a single field=value pair");
    }
    SeedQuery q;
    KV_ASSIGN_OR_RETURN(q.field, DecodeQueryComponent(piece.substr(0, eq)));
    KV_ASSIGN_OR_RETURN(q.value, DecodeQueryComponent(piece.substr(eq + 1)));
    found = std::move(q);
  }
  if (!found.has_value()) {
    return absl::InvalidArgumentError(
        "Error: query must have a single field=value pair");
  }
  return *std::move(found);
}

}  // namespace kvstore::store
