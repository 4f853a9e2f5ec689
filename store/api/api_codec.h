// Encoding of the data API's bodies: each is a message of
// protos/kvstore/v1/store.proto, as binary protobuf (application/x-protobuf) or
// proto3 JSON (application/json), converted with protobuf's own parser and
// printer (no hand-written JSON).
//
// Pure functions; thread-safe.
#ifndef KVSTORE_STORE_API_API_CODEC_H_
#define KVSTORE_STORE_API_API_CODEC_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace kvstore::store {

enum class Encoding { kJson, kProto };

inline constexpr absl::string_view kJsonContentType = "application/json";
inline constexpr absl::string_view kProtoContentType = "application/x-protobuf";

// The encoding of a request body, from its Content-Type (parameters such as ";
// charset=utf-8" are ignored). An empty Content-Type means JSON.
// InvalidArgument for any other type.
absl::StatusOr<Encoding> RequestEncoding(absl::string_view content_type);

// The encoding of the response: the one Accept names first among ours, else the
// request's.
Encoding ResponseEncoding(absl::string_view accept, Encoding request);

absl::string_view ContentTypeOf(Encoding encoding);

// Parses `body` into `message` (cleared first); an empty body is the empty
// message. InvalidArgument, naming the problem, for a malformed body or an
// unknown JSON field.
absl::Status ParseMessage(absl::string_view body, Encoding encoding,
                          google::protobuf::Message* message);

// Serializes `message`. JSON uses lowerCamelCase names, prints fields with
// default values, and writes bytes as base64 and 64-bit integers as strings
// (proto3 JSON).
std::string SerializeMessage(const google::protobuf::Message& message,
                             Encoding encoding);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_API_CODEC_H_
