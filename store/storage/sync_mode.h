// When the write-ahead log is fsynced (EngineOptions::sync, --fsync).
//
// Pure functions; thread-safe.
#ifndef KVSTORE_STORE_STORAGE_SYNC_MODE_H_
#define KVSTORE_STORE_STORAGE_SYNC_MODE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvstore::store {

// kAlways: a write is acknowledged once synced (concurrent writers share one
// fsync); kEverySecond: synced once a second; kNever: left to the OS.
enum class SyncMode { kAlways, kEverySecond, kNever };

// Parses "always", "everysec" or "never"; InvalidArgument otherwise.
absl::StatusOr<SyncMode> ParseSyncMode(absl::string_view text);
absl::string_view SyncModeName(SyncMode mode);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_STORAGE_SYNC_MODE_H_
