// The store's share of the process's file-descriptor limit (RLIMIT_NOFILE).
//
// Every connection costs a descriptor, and so do RocksDB's files, the logs
// and the event loops. At start-up the server raises its soft limit to the
// hard one, keeps a reserve for itself, and serves at most the connections
// that fit in the rest, so that the connection past the limit still gets its
// 503 instead of a failing accept().
//
// Thread-compatible free functions; call them from main before serving.
#ifndef KVSTORE_STORE_SERVER_FILE_LIMIT_H_
#define KVSTORE_STORE_SERVER_FILE_LIMIT_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace kvstore::store {

struct ConnectionBudget {
  uint64_t limit = 0;     // the soft descriptor limit
  uint64_t reserved = 0;  // kept for the store's own descriptors
  int connections = 0;    // connections that fit; at most the number wanted
};

// Pure: the budget for `wanted` connections under a soft limit of `limit`.
// The store keeps 64 descriptors plus one in eight of the limit.
ConnectionBudget BudgetFor(uint64_t limit, int wanted);

// Pure: the smallest limit whose budget fits `connections`.
uint64_t LimitFor(int connections);

// The fewest connections worth serving; below it the server refuses to start.
inline constexpr int kMinConnections = 8;

// Raises the soft limit to the hard one (where it is lower), then
// BudgetFor(soft limit, wanted). FailedPrecondition, naming the limits, when
// fewer than kMinConnections fit; Internal if the limit cannot be read.
absl::StatusOr<ConnectionBudget> RaiseFileLimitFor(int wanted);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_SERVER_FILE_LIMIT_H_
