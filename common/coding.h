// Fixed-width big-endian and protobuf-varint coding of integers, shared by the
// storage key codec, the data API's row encoder and the clients' stream
// readers.
//
// Pure functions; thread-safe. Readers report a short or malformed input by
// returning false (never reading past `in`).
#ifndef KVSTORE_COMMON_CODING_H_
#define KVSTORE_COMMON_CODING_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace kvstore {

// Appends `v` as 4 or 8 bytes, most significant first (so byte order sorts as
// unsigned integer order).
void AppendBigEndian32(uint32_t v, std::string* out);
void AppendBigEndian64(uint64_t v, std::string* out);
// Reads the first 4 or 8 bytes of `in`; false if `in` is shorter.
bool ReadBigEndian32(absl::string_view in, uint32_t* v);
bool ReadBigEndian64(absl::string_view in, uint64_t* v);

// Appends `v` as a protobuf base-128 varint (1 to 10 bytes).
void AppendVarint(uint64_t v, std::string* out);
// The number of bytes AppendVarint writes for `v`.
size_t VarintSize(uint64_t v);
// Reads a varint at the front of `in` into `v` and its length into `length`;
// false if `in` ends first or the varint is longer than 10 bytes.
bool ReadVarint(absl::string_view in, uint64_t* v, size_t* length);

}  // namespace kvstore

#endif  // KVSTORE_COMMON_CODING_H_
