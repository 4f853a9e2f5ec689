// Parsing of the seed Simple-DB API's query strings (GET /set?k=v, GET
// /get?key=k).
//
// The rules follow the seed server, which used Python's parse_qs: the query
// splits on '&'; a piece without '=' or with an empty value is ignored; names
// and values are percent-decoded with
// '+' meaning a space, so any byte (%00 included) can be sent. Exactly one
// name=value pair must remain. Unlike the seed, a malformed escape ("%zz") is
// an error rather than kept literally.
//
// Pure functions; thread-safe.
#ifndef KVSTORE_STORE_API_SEED_QUERY_H_
#define KVSTORE_STORE_API_SEED_QUERY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvstore::store {

// Percent-decodes one query component ('+' is a space). InvalidArgument on a
// '%' not followed by two hex digits.
absl::StatusOr<std::string> DecodeQueryComponent(absl::string_view text);

struct SeedQuery {
  std::string field;  // decoded name of the single field
  std::string value;  // decoded value
};

// Parses `query` (the part after '?', without the '?'). InvalidArgument, with a
// short reason meant for the seed's 500 response, unless exactly one field
// remains.
absl::StatusOr<SeedQuery> ParseSeedQuery(absl::string_view query);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_SEED_QUERY_H_
