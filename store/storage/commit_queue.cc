#include "store/storage/commit_queue.h"

#include <pthread.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/end_of_turn.h"
#include "common/status_http.h"

namespace kvstore::store {

std::unique_ptr<CommitQueue> CommitQueue::Create(const Options& options,
                                                 WriteFn write, SyncFn sync,
                                                 FlushFn flush,
                                                 RecoverFn recover) {
  return std::unique_ptr<CommitQueue>(
      new CommitQueue(options, std::move(write), std::move(sync),
                      std::move(flush), std::move(recover)));
}

CommitQueue::CommitQueue(const Options& options, WriteFn write, SyncFn sync,
                         FlushFn flush, RecoverFn recover)
    : options_(options),
      write_(std::move(write)),
      flush_(std::move(flush)),
      sync_(std::move(sync)),
      has_recovery_(recover != nullptr),
      recover_(std::move(recover)) {
  int shards = options.shards < 1 ? 1 : options.shards;
  for (int i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
  if (!options_.inline_writes) {
    for (auto& shard : shards_) {
      shard->thread = std::thread([this, s = shard.get()] {
        pthread_setname_np(pthread_self(), "kv-writer");
        RunShard(s);
      });
    }
  }
  if (options_.sync == SyncMode::kEverySecond) {
    periodic_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "kv-fsync");
      RunPeriodicSync();
    });
  }
  if (recover_ != nullptr) {
    recovery_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "kv-recover");
      RunRecovery();
    });
  }
}

CommitQueue::~CommitQueue() { Close(); }

void CommitQueue::Submit(uint64_t shard_key, ApplyFn apply, DoneFn done) {
  Shard& shard = *shards_[shard_key % shards_.size()];
  if (options_.inline_writes) {
    RunInline(shard, std::move(apply), std::move(done));
    return;
  }
  {
    absl::MutexLock lock(&shard.mu);
    if (!shard.closing) {
      shard.queue.push_back(Task{std::move(apply), std::move(done)});
      return;
    }
  }
  std::move(done)(absl::FailedPreconditionError("the store is shutting down"));
}

void CommitQueue::Close() {
  if (closed_.exchange(true)) return;
  for (auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    shard->closing = true;
  }
  for (auto& shard : shards_) {
    if (shard->thread.joinable()) shard->thread.join();
  }
  if (periodic_thread_.joinable()) {
    {
      absl::MutexLock lock(&periodic_mu_);
      periodic_closing_ = true;
    }
    periodic_thread_.join();
  }
  if (options_.sync != SyncMode::kNever && dirty_.exchange(false)) {
    // Best effort: nobody is waiting for this one.
    SyncCovering(written_seq_.load()).IgnoreError();
  }
  if (recovery_thread_.joinable()) {
    {
      absl::MutexLock lock(&recovery_mu_);
      recovery_closing_ = true;
    }
    recovery_thread_.join();
  }
}

absl::Status CommitQueue::SyncCovering(uint64_t group_seq) {
  absl::MutexLock lock(&sync_mu_);
  if (!sticky_error_.ok()) return sticky_error_;
  if (synced_seq_ >= group_seq) return absl::OkStatus();  // already covered
  // Every group numbered <= target was written before we read it: this sync
  // covers it.
  uint64_t target = written_seq_.load(std::memory_order_acquire);
  absl::Status status = sync_();
  syncs_.fetch_add(1, std::memory_order_relaxed);
  if (!status.ok()) {
    Refuse(status, "write-ahead log sync");
    return sticky_error_;
  }
  synced_seq_ = target;
  return absl::OkStatus();
}

absl::Status CommitQueue::StickyError() {
  absl::MutexLock lock(&sync_mu_);
  return sticky_error_;
}

void CommitQueue::RunInline(Shard& shard, ApplyFn apply, DoneFn done) {
  absl::Status status;
  bool wrote = false;
  {
    absl::MutexLock lock(&shard.mu);
    if (shard.closing) {
      status = absl::FailedPreconditionError("the store is shutting down");
    } else if (status = StickyError(); !status.ok()) {
      CountRefused();
    }
    if (status.ok()) {
      rocksdb::WriteBatchWithIndex& batch = shard.inline_batch;
      batch.Clear();
      status = std::move(apply)(batch);
      if (status.ok() && batch.GetWriteBatch()->Count() > 0) {
        absl::Status written = write_(batch);
        if (written.ok()) {
          written_seq_.fetch_add(1, std::memory_order_acq_rel);
          dirty_.store(true, std::memory_order_relaxed);
          wrote = true;
        } else {
          status = FailWrite(written);
          CountRefused();
        }
      }
    }
  }
  if (wrote && options_.defer_acks && flush_ != nullptr) {
    DeferAck(std::move(done));
    return;
  }
  std::move(done)(std::move(status));
}

namespace {
// The acknowledgements this thread deferred to the end of its loop's turn.
struct DeferredAcks {
  CommitQueue* queue = nullptr;
  std::vector<CommitQueue::DoneFn> dones;
};
thread_local std::shared_ptr<DeferredAcks> thread_acks;
}  // namespace

void CommitQueue::DeferAck(DoneFn done) {
  if (thread_acks != nullptr && thread_acks->queue == this) {
    thread_acks->dones.push_back(std::move(done));  // already scheduled
    return;
  }
  // (A batch of another queue keeps its own scheduled flush.)
  auto acks = std::make_shared<DeferredAcks>();
  acks->queue = this;
  acks->dones.push_back(std::move(done));
  thread_acks = acks;
  bool deferred = DeferToEndOfTurn([acks] {
    if (thread_acks == acks) thread_acks.reset();
    acks->queue->FlushAndAck(std::move(acks->dones));
  });
  if (!deferred) {
    thread_acks.reset();
    FlushAndAck(std::move(acks->dones));
  }
}

void CommitQueue::FlushAndAck(std::vector<DoneFn> dones) {
  absl::Status status = StickyError();
  if (status.ok()) {
    absl::Status flushed = flush_();
    flushes_.fetch_add(1, std::memory_order_relaxed);
    if (!flushed.ok()) status = FailWrite(flushed);
  }
  if (!status.ok()) CountRefused(dones.size());
  for (DoneFn& done : dones) std::move(done)(status);
}

absl::Status CommitQueue::FailWrite(const absl::Status& written) {
  // Like a failed sync, a failed write leaves the log's state unknown.
  absl::MutexLock lock(&sync_mu_);
  Refuse(written, "write");
  return sticky_error_;
}

void CommitQueue::Refuse(const absl::Status& failure, absl::string_view what) {
  if (!sticky_error_.ok()) return;
  if (has_recovery_) {
    absl::MutexLock lock(&recovery_mu_);
    recovery_wanted_ = true;
  }
  if (absl::IsResourceExhausted(failure)) {
    sticky_error_ = WithHttpStatus(
        absl::ResourceExhaustedError(
            absl::StrCat("disk full: writes are refused until space is freed (",
                         what, " failed: ", failure.message(), ")")),
        507);
  } else {
    sticky_error_ = absl::InternalError(
        absl::StrCat(what,
                     " failed; writes are refused until the storage "
                     "recovers: ",
                     failure.message()));
  }
}

void CommitQueue::RunRecovery() {
  absl::MutexLock lock(&recovery_mu_);
  while (true) {
    recovery_mu_.Await(
        absl::Condition(this, &CommitQueue::RecoveryWantedOrClosing));
    // Give the cause a moment (space to be freed) before each try.
    recovery_mu_.AwaitWithTimeout(absl::Condition(&recovery_closing_),
                                  options_.recover_every);
    if (recovery_closing_) return;
    recovery_mu_.Unlock();
    absl::Status recovered = recover_();
    if (recovered.ok()) {
      absl::MutexLock sync_lock(&sync_mu_);
      // The recovery flushed everything written so far to new files.
      sticky_error_ = absl::OkStatus();
      synced_seq_ = written_seq_.load(std::memory_order_acquire);
      recoveries_.fetch_add(1, std::memory_order_relaxed);
      absl::MutexLock wanted_lock(&recovery_mu_);
      recovery_wanted_ = false;  // a refusal after this sets it again
    }
    recovery_mu_.Lock();
  }
}

void CommitQueue::RunShard(Shard* shard) {
  std::vector<Task> group;
  std::vector<absl::Status> results;
  rocksdb::WriteBatchWithIndex batch(rocksdb::BytewiseComparator(), 0,
                                     /*overwrite_key=*/true);
  while (true) {
    {
      absl::MutexLock lock(&shard->mu);
      shard->mu.Await(absl::Condition(
          +[](Shard* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
            return !s->queue.empty() || s->closing;
          },
          shard));
      if (shard->queue.empty()) return;  // closing and drained
      group.swap(shard->queue);
    }
    results.clear();
    batch.Clear();
    absl::Status sticky = StickyError();
    bool applied = false;
    for (Task& task : group) {
      if (!sticky.ok()) {
        results.push_back(sticky);
        CountRefused();
        continue;
      }
      batch.SetSavePoint();
      absl::Status status = std::move(task.apply)(batch);
      if (status.ok()) {
        batch.PopSavePoint().PermitUncheckedError();
        applied = true;
      } else {
        batch.RollbackToSavePoint().PermitUncheckedError();
      }
      results.push_back(std::move(status));
    }
    if (applied && batch.GetWriteBatch()->Count() > 0) {
      absl::Status written = write_(batch);
      if (!written.ok()) {
        written = FailWrite(written);
      } else {
        uint64_t seq = written_seq_.fetch_add(1, std::memory_order_acq_rel) + 1;
        if (options_.sync == SyncMode::kAlways) {
          written = SyncCovering(seq);
        } else {
          dirty_.store(true, std::memory_order_relaxed);
        }
      }
      if (!written.ok()) {
        for (absl::Status& r : results) {
          if (!r.ok()) continue;
          r = written;
          CountRefused();
        }
      }
    }
    for (size_t i = 0; i < group.size(); ++i) {
      std::move(group[i].done)(std::move(results[i]));
    }
    group.clear();
  }
}

void CommitQueue::RunPeriodicSync() {
  absl::MutexLock lock(&periodic_mu_);
  while (!periodic_closing_) {
    periodic_mu_.AwaitWithTimeout(absl::Condition(&periodic_closing_),
                                  absl::Seconds(1));
    if (dirty_.exchange(false)) {
      periodic_mu_.Unlock();
      // A failure is sticky and fails later writes.
      SyncCovering(written_seq_.load()).IgnoreError();
      periodic_mu_.Lock();
    }
  }
}

}  // namespace kvstore::store
