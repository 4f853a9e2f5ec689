// The vocabulary of error injection shared by the registry, its armings and
// the code at the points: which points exist, what an arming may do there,
// what a request at a point is matched on, and what the caller does next.
// Plain values; no threads.
#ifndef KVSTORE_STORE_INJECTION_INJECTION_TYPES_H_
#define KVSTORE_STORE_INJECTION_INJECTION_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kvstore::store {

enum class PointId : int {
  kRequestParsed,  // request.parsed
  kBeforeCommit,   // mutation.before_commit
  kAfterCommit,    // mutation.after_commit
  kBulkEntry,      // mutate_rows.entry
  kReadRowsRow,    // read_rows.row
  kStorageWrite,   // storage.write
  kSeedRequest,    // seed.request
  kStorageSync,    // storage.sync
  kCount,
};

enum class InjectAction {
  kError,
  kDelay,
  kPause,
  kDrop,
  kReset,
  kTruncate,
  kCrash,
  kOff,  // a fault-script step that lets its hits pass (every point has it)
  // Transport faults on the answer to the request (the request runs).
  kSlow,          // send the answer at bytes_per_s
  kStall,         // send after_bytes, then nothing until timeout_ms
  kCorruptChunk,  // a malformed chunk header where the body would go on
  kDelayHeaders,  // send nothing for delay_ms, then the whole answer
  // The disk.
  kPowerCut,  // lose what was not synced, and die
  kIoError,   // the file operation fails with EIO
  kDiskFull,  // the file operation fails with ENOSPC
};
absl::string_view InjectActionName(InjectAction action);

struct PointInfo {
  PointId id;
  absl::string_view name;
  absl::string_view description;
  std::vector<InjectAction> actions;  // what the point supports
};

// What a request at a point is matched on, and what events report of it.
struct RequestInfo {
  std::string method;
  std::string path;
  std::string table;
  std::string row_key;
  std::string tag;             // the X-Test-Tag header
  uint64_t connection_id = 0;  // the HTTP server's, if known (else 0)
};

// How to send the answer of a request a transport fault fired on (kReset,
// kSlow, kStall, kCorruptChunk, kDelayHeaders).
struct TransportFault {
  InjectAction action = InjectAction::kReset;
  int64_t after_bytes = -1;  // reset, stall: bytes sent first; -1: half
  int64_t bytes_per_s = 0;   // slow
  absl::Duration delay;      // delay_headers
  absl::Duration timeout;    // stall: how long the connection stays open
};

// What the caller does once past a point.
struct Verdict {
  // kTransport: run the request, then send its answer as `transport` says
  // (a reset cuts it and resets the connection).
  // kFileFault: (storage points) fail the file operation with `error`:
  // ResourceExhausted as a full disk, any other as an I/O error.
  enum Kind { kProceed, kError, kDrop, kTransport, kTruncate, kFileFault };
  Kind kind = kProceed;
  // kError: the error to answer with. Its code is the arming's `code`, else
  // the one its `status` maps to (UNAVAILABLE for the default 503). The
  // arming's HTTP status rides on it as an override (common/status_http.h),
  // so it reaches the client unchanged even from below the API
  // (storage.write).
  absl::Status error;
  int retry_after_s = -1;    // kError: a Retry-After header if >= 0
  bool text_body = false;    // kError: a text/plain body, no Status
  TransportFault transport;  // kTransport
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_INJECTION_INJECTION_TYPES_H_
