// Faults of the disk below RocksDB, for error injection: a failed write or
// sync, and a power cut. Given to the engine (EngineOptions::file_faults), it
// sees every file RocksDB writes through the engine's file system and follows
// what each one has synced:
//   - a file's synced length is its length when its last Sync/Fsync began
//     (RangeSync, which only starts write-back, syncs nothing);
//   - a file's directory entry is durable once its directory is fsynced after
//     the file was created; a rename is taken as durable at once (RocksDB
//     fsyncs the directory right after each rename it relies on), and a
//     deleted file is forgotten.
// CutPower() then does what losing power would: every file written by this
// process goes back to its synced length, files whose entry never became
// durable disappear, and the process dies (SIGKILL) before anything else
// reaches the disk. Files from before the process started count as synced.
//
// Ownership: shared by the server (which arms it) and the engine's file
// system. Thread-safe: RocksDB's writer, flush and compaction threads call it
// at once.
#ifndef KVSTORE_STORE_STORAGE_FILE_FAULTS_H_
#define KVSTORE_STORE_STORAGE_FILE_FAULTS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace kvstore::store {

class FileFaults {
 public:
  // Asked before each sync of a database file; an error fails the sync as
  // the disk would (ResourceExhausted: ENOSPC, any other: EIO). The server
  // wires the storage.sync injection point here. May be empty.
  using SyncHook = std::function<absl::Status(const std::string& file)>;

  explicit FileFaults(SyncHook before_sync)
      : before_sync_(std::move(before_sync)) {}

  // The next sync of a write-ahead log (a ".log" file) fails with `status`
  // (ResourceExhausted: ENOSPC, any other: EIO), once. (A sync, not an
  // append: RocksDB's log writer cannot go on after a failed append, and
  // Debian's build asserts that it does not.)
  void FailNextLogSync(absl::Status status);

  // Loses power: see the file comment. Never returns.
  [[noreturn]] void CutPower() ABSL_NO_THREAD_SAFETY_ANALYSIS;

  // For the engine's file system only. Each file operation holds io() shared
  // around the real call and the bookkeeping below, so that CutPower (which
  // takes it exclusively) sees no operation half done.
  absl::Mutex& io() { return io_; }
  absl::Status BeforeSync(const std::string& file) const;
  // The failure FailNextLogSync asked for, taken, if `file` is a log.
  std::optional<absl::Status> TakeLogSyncFailure(const std::string& file);
  // Opened empty; `entry_durable` if it existed before (it was truncated).
  void Created(const std::string& file, bool entry_durable);
  void Reopened(const std::string& file, uint64_t size);
  void Written(const std::string& file, uint64_t size);  // its new length
  void Synced(const std::string& file, uint64_t size);   // length at the start
  void DirectorySynced(const std::string& dir);
  void Renamed(const std::string& from, const std::string& to);
  void Deleted(const std::string& file);

 private:
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
    bool entry_durable = false;
  };

  const SyncHook before_sync_;
  absl::Mutex io_;  // shared: a file operation; exclusive: the power cut
  absl::Mutex mu_ ABSL_ACQUIRED_AFTER(io_);
  absl::flat_hash_map<std::string, FileState> files_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> log_sync_failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_STORAGE_FILE_FAULTS_H_
