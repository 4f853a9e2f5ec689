// Quoting input a caller sent back in an error message, bounded: a 100 KB
// path or id must not make an error so long that a client's transport rejects
// it (gRPC's metadata limit turns it into RESOURCE_EXHAUSTED).
//
// Pure function; thread-safe.
#ifndef KVSTORE_COMMON_QUOTE_H_
#define KVSTORE_COMMON_QUOTE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace kvstore {

// The longest prefix of input an error message repeats.
inline constexpr size_t kMaxQuotedBytes = 128;

// "'text'", or for longer input "'first kMaxQuotedBytes bytes...' (N bytes)",
// cut where no UTF-8 character is split. (Bytes that are not UTF-8 stay as
// they are; StatusToProto escapes them where a message leaves the process.)
std::string Quote(absl::string_view text);

}  // namespace kvstore

#endif  // KVSTORE_COMMON_QUOTE_H_
