// Group commit (private to the storage library: it exposes RocksDB types):
// writes run on dedicated writer threads and are acknowledged in
// groups that share one write-ahead-log fsync, so N concurrent durable writers
// cost about one fsync, not N.
//
// Tasks are spread over `shards` writer threads by a shard key (the engine uses
// a hash of the row key). Tasks with the same key run one at a time in
// submission order, so a task may read-modify-write its row without locks while
// other rows proceed on other shards.
//
// Each writer thread loops: take every queued task, run each task's `apply`
// (which writes without syncing), then, if SyncMode::kAlways, call `sync` once,
// then run each task's `done` with the task's outcome. With kEverySecond a
// background thread syncs once a second when something was written; with kNever
// nothing syncs (the OS page cache still survives a process crash).
//
// With `inline_writes` (the engine sets it when nothing is fsynced per write:
// there is no fsync to share) a task instead runs at once on the thread that
// submits it, under its shard's lock, and `done` runs before Submit returns
// (unless deferred, below).
// That saves two thread hand-offs per write; the price is that a RocksDB write
// stall holds up the submitting (I/O) thread.
//
// With `defer_acks` as well (the engine sets it with RocksDB's manual WAL
// flush, where a write lands in the log's user-space buffer), a successful
// write is acknowledged only after `flush` has handed that buffer to the OS.
// On a thread that runs an event loop (end_of_turn.h) the flush and the
// acknowledgements wait for the end of the loop's turn, so every write of the
// turn shares one flush, as Redis shares one AOF write() per loop iteration;
// elsewhere they happen at once. Either way an acknowledged write survives a
// crash of the process. It is visible to readers from the moment it is
// applied, a moment before it is acknowledged. A deferred acknowledgement
// holds a pointer to the queue: the loop must have stopped running deferred
// work (the HTTP server is shut down first) before the queue is destroyed.
//
// A failed write or sync refuses writes: that group and every later task fail
// with the same error (ResourceExhausted, HTTP 507, for a full disk; Internal
// otherwise), since the log's state is then unknown. With a RecoverFn, a
// recovery thread then calls it every `recover_every` until it succeeds
// (RocksDB's Resume, which flushes the memtables to new files and starts a
// new log) and writes are accepted again. Thread-safe. The queue must outlive
// no one: Close() (or the destructor) drains every queued task before
// returning.
#ifndef KVSTORE_STORE_STORAGE_COMMIT_QUEUE_H_
#define KVSTORE_STORE_STORAGE_COMMIT_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "store/storage/sync_mode.h"

namespace kvstore::store {

class CommitQueue {
 public:
  // Runs on a writer thread; adds the task's writes to the group's batch (and
  // may read through it). On error the task's additions are discarded.
  using ApplyFn =
      absl::AnyInvocable<absl::Status(rocksdb::WriteBatchWithIndex&) &&>;
  // Writes a group's batch, without syncing. Called from several threads at
  // once.
  using WriteFn =
      absl::AnyInvocable<absl::Status(rocksdb::WriteBatchWithIndex&) const>;
  // Receives the task's outcome after the group's sync; must not block.
  using DoneFn = absl::AnyInvocable<void(absl::Status) &&>;
  // Makes every write applied so far durable. Called from several threads.
  using SyncFn = absl::AnyInvocable<absl::Status()>;
  // Hands every write applied so far to the OS (see defer_acks). Called from
  // several threads at once.
  using FlushFn = absl::AnyInvocable<absl::Status() const>;
  // Brings the storage back after a failed write or sync (see the header
  // comment); called from the recovery thread only.
  using RecoverFn = absl::AnyInvocable<absl::Status()>;

  struct Options {
    SyncMode sync = SyncMode::kAlways;
    int shards = 1;  // writer threads (or, inline, lock stripes), >= 1
    bool inline_writes = false;  // see the header comment
    bool defer_acks = false;     // inline only; ignored without a FlushFn
    // How often a RecoverFn is tried while writes are refused.
    absl::Duration recover_every = absl::Seconds(1);
  };

  // `flush` may be null unless options.defer_acks; `recover` may be null
  // (then a refusal lasts until the queue is closed).
  static std::unique_ptr<CommitQueue> Create(const Options& options,
                                             WriteFn write, SyncFn sync,
                                             FlushFn flush = nullptr,
                                             RecoverFn recover = nullptr);
  ~CommitQueue();

  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues a task (inline: runs it). Once Close() has begun, `done` runs at
  // once with FailedPrecondition.
  void Submit(uint64_t shard_key, ApplyFn apply, DoneFn done);

  // Rejects new tasks, runs every queued one, syncs, and joins the threads.
  // Idempotent.
  void Close();

  // OK while writes are accepted, else the error they fail with.
  absl::Status Writable() ABSL_LOCKS_EXCLUDED(sync_mu_) {
    return StickyError();
  }
  // Tasks failed because writes were refused (the failing group included).
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  // Refusals ended by a successful RecoverFn.
  uint64_t recoveries() const {
    return recoveries_.load(std::memory_order_relaxed);
  }

  uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  // Calls of the FlushFn (with defer_acks, one per batch of acknowledgements).
  uint64_t flushes() const { return flushes_.load(std::memory_order_relaxed); }

 private:
  struct Task {
    ApplyFn apply;
    DoneFn done;
  };
  struct Shard {
    absl::Mutex mu;
    std::vector<Task> queue ABSL_GUARDED_BY(mu);
    bool closing ABSL_GUARDED_BY(mu) = false;
    std::thread thread;
    // Inline mode's batch, reused across tasks.
    rocksdb::WriteBatchWithIndex inline_batch ABSL_GUARDED_BY(mu){
        rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true};
  };

  CommitQueue(const Options& options, WriteFn write, SyncFn sync, FlushFn flush,
              RecoverFn recover);
  void RunShard(Shard* shard);
  void RunInline(Shard& shard, ApplyFn apply, DoneFn done);
  // Acknowledges a written task after a flush: at the end of the calling
  // thread's loop turn, together with the turn's other writes, or at once.
  void DeferAck(DoneFn done);
  // Flushes, then runs each `done` with the flush's outcome.
  void FlushAndAck(std::vector<DoneFn> dones);
  // Marks the log's state unknown after a failed write; returns the error.
  absl::Status FailWrite(const absl::Status& written)
      ABSL_LOCKS_EXCLUDED(sync_mu_);
  // Records the refusal that `failure` (of `what`) starts, unless one is on.
  void Refuse(const absl::Status& failure, absl::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_);
  void RunRecovery() ABSL_LOCKS_EXCLUDED(sync_mu_, recovery_mu_);
  bool RecoveryWantedOrClosing() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(recovery_mu_) {
    return recovery_wanted_ || recovery_closing_;
  }
  // Counts `n` tasks failed by a refusal.
  void CountRefused(uint64_t n = 1) {
    refused_.fetch_add(n, std::memory_order_relaxed);
  }
  void RunPeriodicSync();
  // Makes every group numbered <= `group_seq` durable: returns at once if a
  // sync that began after that group was written has finished, else syncs
  // everything written so far. A failure is recorded as sticky.
  absl::Status SyncCovering(uint64_t group_seq) ABSL_LOCKS_EXCLUDED(sync_mu_);
  absl::Status StickyError() ABSL_LOCKS_EXCLUDED(sync_mu_);

  const Options options_;
  const WriteFn write_;  // called by every shard's thread, concurrently
  const FlushFn flush_;  // null unless options_.defer_acks
  std::vector<std::unique_ptr<Shard>> shards_;

  absl::Mutex
      sync_mu_;  // serializes calls to sync_ and guards the sticky error
  SyncFn sync_ ABSL_GUARDED_BY(sync_mu_);
  absl::Status sticky_error_ ABSL_GUARDED_BY(sync_mu_);
  uint64_t synced_seq_ ABSL_GUARDED_BY(sync_mu_) =
      0;                                  // groups up to here are durable
  std::atomic<uint64_t> written_seq_{0};  // numbers written groups, in order

  // The recovery thread waits on its own mutex, so that waiting puts nothing
  // on sync_mu_, which every write takes. Order: sync_mu_, then recovery_mu_.
  absl::Mutex recovery_mu_ ABSL_ACQUIRED_AFTER(sync_mu_);
  bool recovery_wanted_ ABSL_GUARDED_BY(recovery_mu_) = false;  // a refusal
  bool recovery_closing_ ABSL_GUARDED_BY(recovery_mu_) = false;
  const bool has_recovery_;  // a RecoverFn was given
  RecoverFn recover_;        // the recovery thread's only
  std::thread recovery_thread_;

  absl::Mutex periodic_mu_;
  bool periodic_closing_ ABSL_GUARDED_BY(periodic_mu_) = false;
  std::thread periodic_thread_;

  std::atomic<bool> dirty_{false};  // written since the last periodic sync
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> flushes_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> recoveries_{0};
  std::atomic<bool> closed_{false};
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_STORAGE_COMMIT_QUEUE_H_
