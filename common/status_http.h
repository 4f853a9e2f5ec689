// The one mapping between canonical status codes (the same numbers as gRPC's)
// and HTTP statuses, used by the store for responses and by clients to read
// them. See docs/design.md.
//
// Pure functions; thread-safe. No errors: every input maps to an answer.
#ifndef KVSTORE_COMMON_STATUS_HTTP_H_
#define KVSTORE_COMMON_STATUS_HTTP_H_

#include "absl/status/status.h"

namespace kvstore {

// OK 200, INVALID_ARGUMENT 400, NOT_FOUND 404, ALREADY_EXISTS 409,
// FAILED_PRECONDITION 412, RESOURCE_EXHAUSTED 429, CANCELLED 499, INTERNAL 500,
// UNIMPLEMENTED 501, UNAVAILABLE 503, DEADLINE_EXCEEDED 504; the other codes as
// grpc-gateway maps them (OUT_OF_RANGE 400, UNAUTHENTICATED 401,
// PERMISSION_DENIED 403, ABORTED 409, UNKNOWN and DATA_LOSS 500).
int HttpStatusFromCode(absl::StatusCode code);

// The inverse, for an answer without a readable {code, message} body: each
// status of the table above maps back to its design code (409 to
// ALREADY_EXISTS, 400 to INVALID_ARGUMENT, 500 to INTERNAL); any other 2xx is
// OK, other 4xx FAILED_PRECONDITION, other 5xx UNAVAILABLE.
absl::StatusCode CodeFromHttpStatus(int http_status);

// An HTTP status to answer with instead of the table's, carried as a payload of
// the Status (so it survives layers that know nothing of HTTP, such as the
// storage engine under the storage.write injection point). `http_status`
// outside 100..599 leaves the status unchanged.
absl::Status WithHttpStatus(absl::Status status, int http_status);

// The HTTP status to answer `status` with: its WithHttpStatus override if it
// has one, else HttpStatusFromCode(status.code()).
int HttpStatusOf(const absl::Status& status);

}  // namespace kvstore

#endif  // KVSTORE_COMMON_STATUS_HTTP_H_
