// Keeping text that crosses a protobuf `string` field well-formed UTF-8.
//
// Error messages quote what callers sent (row keys, names, paths), which can be
// any bytes; kvstore.v1.Status.message is a proto3 string, and a parser in
// another language (Python, Go, Java) rejects a message whose string fields
// are not UTF-8, so such an error could not even be read.
//
// Pure functions; thread-safe.
#ifndef KVSTORE_COMMON_UTF8_H_
#define KVSTORE_COMMON_UTF8_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace kvstore {

// The length of the well-formed UTF-8 sequence at the start of `text` (1 to
// 4), or 0 if it does not start with one (an overlong form, a surrogate, a
// code point past U+10FFFF, a stray or missing continuation byte).
size_t Utf8SequenceLength(absl::string_view text);

bool IsValidUtf8(absl::string_view text);

// `text` with every byte that is not part of a well-formed sequence written
// as the four characters \xNN; valid text comes back unchanged.
std::string ToValidUtf8(absl::string_view text);

}  // namespace kvstore

#endif  // KVSTORE_COMMON_UTF8_H_
