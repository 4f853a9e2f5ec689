// The one conversion between absl::Status and the wire's kvstore.v1.Status
// ({code, message}, protos/kvstore/v1/store.proto), used by the store's answers
// and by the clients that read them.
//
// Pure functions; thread-safe.
#ifndef KVSTORE_COMMON_STATUS_PROTO_H_
#define KVSTORE_COMMON_STATUS_PROTO_H_

#include "absl/status/status.h"
#include "kvstore/v1/store.pb.h"

namespace kvstore {

// Fills `out` with the status's code and message (payloads are not sent).
void StatusToProto(const absl::Status& status, v1::Status* out);
v1::Status StatusToProto(const absl::Status& status);

// The status a message carries. A code outside the canonical 0..16 becomes
// UNKNOWN, with the number kept in the message.
absl::Status StatusFromProto(const v1::Status& proto);

}  // namespace kvstore

#endif  // KVSTORE_COMMON_STATUS_PROTO_H_
