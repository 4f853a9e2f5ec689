#include "store/storage/commit_queue.h"

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/end_of_turn.h"
#include "common/status_http.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/options.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;
using ::kvstore::testing::StatusIs;

namespace kvstore::store {
namespace {

using Batch = rocksdb::WriteBatchWithIndex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Records the keys of every group handed to the write function.
class WriteLog {
 public:
  CommitQueue::WriteFn Fn() {
    return [this](Batch& batch) {
      std::unique_ptr<rocksdb::WBWIIterator> it(batch.NewIterator());
      std::vector<std::string> keys;
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        keys.push_back(it->Entry().key.ToString());
      }
      absl::MutexLock lock(&mu_);
      groups_.push_back(std::move(keys));
      return absl::OkStatus();
    };
  }
  std::vector<std::vector<std::string>> groups() {
    absl::MutexLock lock(&mu_);
    return groups_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::vector<std::string>> groups_ ABSL_GUARDED_BY(mu_);
};

CommitQueue::ApplyFn PutKey(std::string key) {
  return [key = std::move(key)](Batch& batch) {
    return batch.Put(key, "v").ok() ? absl::OkStatus()
                                    : absl::InternalError("put");
  };
}

absl::Status SubmitAndWait(CommitQueue& queue, uint64_t shard_key,
                           CommitQueue::ApplyFn apply) {
  absl::Notification done;
  absl::Status result;
  queue.Submit(shard_key, std::move(apply), [&](absl::Status s) {
    result = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

TEST(CommitQueueTest, ParsesSyncModes) {
  EXPECT_EQ(*ParseSyncMode("always"), SyncMode::kAlways);
  EXPECT_EQ(*ParseSyncMode("everysec"), SyncMode::kEverySecond);
  EXPECT_EQ(*ParseSyncMode("never"), SyncMode::kNever);
  EXPECT_EQ(ParseSyncMode("sometimes").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CommitQueueTest, AcknowledgesOnlyAfterWriteAndSync) {
  WriteLog log;
  std::atomic<int> written_when_synced{-1};
  auto queue = CommitQueue::Create({SyncMode::kAlways, 1}, log.Fn(), [&] {
    written_when_synced = static_cast<int>(log.groups().size());
    return absl::OkStatus();
  });
  EXPECT_THAT(SubmitAndWait(*queue, 1, PutKey("a")), IsOk());
  EXPECT_EQ(written_when_synced.load(), 1);  // written, then synced, then acked
  EXPECT_THAT(log.groups(), ElementsAre(ElementsAre("a")));
  EXPECT_EQ(queue->syncs(), 1u);
}

TEST(CommitQueueTest, ConcurrentWritersShareWritesAndSyncs) {
  WriteLog log;
  auto queue = CommitQueue::Create({SyncMode::kAlways, 1}, log.Fn(), [] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a slow disk
    return absl::OkStatus();
  });
  constexpr int kWriters = 32;
  constexpr int kEach = 20;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&queue, w] {
      for (int i = 0; i < kEach; ++i) {
        ASSERT_THAT(
            SubmitAndWait(*queue, w,
                          PutKey(std::to_string(w) + "/" + std::to_string(i))),
            IsOk());
      }
    });
  }
  for (auto& t : writers) t.join();
  size_t keys = 0;
  for (const auto& g : log.groups()) keys += g.size();
  EXPECT_EQ(keys, static_cast<size_t>(kWriters * kEach));
  // One write and one sync per request would be 640 of each.
  EXPECT_LT(log.groups().size(), static_cast<size_t>(kWriters * kEach) / 4);
  EXPECT_LT(queue->syncs(), static_cast<uint64_t>(kWriters * kEach) / 4);
}

TEST(CommitQueueTest, LaterTasksReadEarlierOnesThroughTheBatch) {
  WriteLog log;
  auto queue = CommitQueue::Create({SyncMode::kNever, 1}, log.Fn(),
                                   [] { return absl::OkStatus(); });
  // Hold the writer in a first task so the next two queue up as one group.
  absl::Notification writer_busy, release;
  absl::BlockingCounter left(3);
  queue->Submit(
      1,
      [&](Batch&) {
        writer_busy.Notify();
        release.WaitForNotification();
        return absl::OkStatus();
      },
      [&](absl::Status) { left.DecrementCount(); });
  writer_busy.WaitForNotification();
  std::string seen = "(not run)";
  queue->Submit(1, PutKey("x"), [&](absl::Status) { left.DecrementCount(); });
  queue->Submit(
      1,
      [&](Batch& batch) {
        std::string value;
        rocksdb::Status s =
            batch.GetFromBatch(rocksdb::DBOptions(), "x", &value);
        seen = s.ok() ? value : "(none)";
        return absl::OkStatus();
      },
      [&](absl::Status) { left.DecrementCount(); });
  release.Notify();
  left.Wait();
  EXPECT_EQ(seen, "v");
  EXPECT_THAT(log.groups(), ElementsAre(ElementsAre("x")));
}

TEST(CommitQueueTest, SameShardKeyRunsInOrder) {
  WriteLog log;
  auto queue = CommitQueue::Create({SyncMode::kNever, 4}, log.Fn(),
                                   [] { return absl::OkStatus(); });
  std::vector<int> order;
  absl::BlockingCounter left(100);
  for (int i = 0; i < 100; ++i) {
    queue->Submit(
        42,
        [&order, i](Batch&) {
          order.push_back(i);  // only the shard's thread touches it
          return absl::OkStatus();
        },
        [&](absl::Status) { left.DecrementCount(); });
  }
  left.Wait();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(CommitQueueTest, InlineWritesRunOnTheCallerAndFinishBeforeSubmitReturns) {
  WriteLog log;
  CommitQueue::Options options{SyncMode::kNever, 2};
  options.inline_writes = true;
  auto queue =
      CommitQueue::Create(options, log.Fn(), [] { return absl::OkStatus(); });
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran_on;
  absl::Status result = absl::UnknownError("not run");
  queue->Submit(
      7,
      [&](Batch& batch) {
        ran_on = std::this_thread::get_id();
        return batch.Put("k", "v").ok() ? absl::OkStatus()
                                        : absl::InternalError("put");
      },
      [&](absl::Status s) { result = std::move(s); });
  EXPECT_TRUE(result.ok()) << result;  // done ran inside Submit
  EXPECT_EQ(ran_on, caller);
  EXPECT_THAT(log.groups(), ElementsAre(ElementsAre("k")));
  // A failing task writes nothing.
  EXPECT_EQ(SubmitAndWait(*queue, 7,
                          [](Batch& batch) {
                            batch.Put("x", "v").PermitUncheckedError();
                            return absl::InvalidArgumentError("bad");
                          })
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log.groups().size(), 1u);
  EXPECT_EQ(queue->syncs(), 0u);
  queue->Close();
  EXPECT_EQ(SubmitAndWait(*queue, 7, PutKey("late")).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CommitQueueTest, InlineWritesOfOneShardAreSerialized) {
  CommitQueue::Options options{SyncMode::kEverySecond, 1};
  options.inline_writes = true;
  auto queue = CommitQueue::Create(
      options, [](Batch&) { return absl::OkStatus(); },
      [] { return absl::OkStatus(); });
  int counter = 0;  // unguarded: the shard's lock must serialize the tasks
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        queue->Submit(
            3,
            [&](Batch&) {
              int seen = counter;
              counter = seen + 1;
              return absl::OkStatus();
            },
            [](absl::Status) {});
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(counter, 4000);
}

// A stand-in for an event loop on the test's thread, installed for its
// lifetime: what is deferred to the end of the turn waits in `posted` until the
// test runs it.
struct FakeLoop {
  std::vector<std::function<void()>> posted;
  EndOfTurnScope scope{
      [this](std::function<void()> fn) { posted.push_back(std::move(fn)); }};
  void RunTurnEnd() {
    std::vector<std::function<void()>> now;
    now.swap(posted);
    for (auto& fn : now) fn();
  }
};

CommitQueue::Options DeferringOptions() {
  CommitQueue::Options options{SyncMode::kEverySecond, 2};
  options.inline_writes = true;
  options.defer_acks = true;
  return options;
}

TEST(CommitQueueTest, DeferredAcksWaitForOneSharedFlushAtTurnEnd) {
  WriteLog log;
  int flushes = 0;
  auto queue = CommitQueue::Create(
      DeferringOptions(), log.Fn(), [] { return absl::OkStatus(); },
      [&] {
        ++flushes;
        return absl::OkStatus();
      });
  FakeLoop loop;
  std::vector<absl::Status> acks;
  for (const char* key : {"a", "b", "c"}) {
    queue->Submit(absl::string_view(key) == "b" ? 1 : 2, PutKey(key),
                  [&](absl::Status s) { acks.push_back(std::move(s)); });
  }
  // Written (and so visible) at once, each in its own write...
  EXPECT_EQ(log.groups().size(), 3u);
  // ...but acknowledged only after the turn's one flush.
  EXPECT_TRUE(acks.empty());
  EXPECT_EQ(flushes, 0);
  ASSERT_EQ(loop.posted.size(), 1u);
  loop.RunTurnEnd();
  EXPECT_EQ(flushes, 1);
  EXPECT_EQ(queue->flushes(), 1u);
  ASSERT_EQ(acks.size(), 3u);
  for (const absl::Status& s : acks) EXPECT_TRUE(s.ok()) << s;
  // A failed task is answered at once: it wrote nothing to flush.
  absl::Status failed = absl::UnknownError("not run");
  queue->Submit(
      1, [](Batch&) { return absl::InvalidArgumentError("bad"); },
      [&](absl::Status s) { failed = std::move(s); });
  EXPECT_EQ(failed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(loop.posted.empty());
  // The next turn's writes get a flush of their own.
  queue->Submit(1, PutKey("d"), [&](absl::Status s) { acks.push_back(s); });
  loop.RunTurnEnd();
  EXPECT_EQ(flushes, 2);
  EXPECT_EQ(acks.size(), 4u);
}

TEST(CommitQueueTest, DeferredAcksWithoutALoopFlushAtOnce) {
  int flushes = 0;
  auto queue = CommitQueue::Create(
      DeferringOptions(), [](Batch&) { return absl::OkStatus(); },
      [] { return absl::OkStatus(); },
      [&] {
        ++flushes;
        return absl::OkStatus();
      });
  EXPECT_THAT(SubmitAndWait(*queue, 1, PutKey("a")), IsOk());
  EXPECT_THAT(SubmitAndWait(*queue, 1, PutKey("b")), IsOk());
  EXPECT_EQ(flushes, 2);
}

TEST(CommitQueueTest, FailedFlushFailsItsTurnAndIsSticky) {
  int writes = 0;
  auto queue = CommitQueue::Create(
      DeferringOptions(),
      [&](Batch&) {
        ++writes;
        return absl::OkStatus();
      },
      [] { return absl::OkStatus(); },
      [] { return absl::UnavailableError("disk full"); });
  FakeLoop loop;
  std::vector<absl::Status> acks;
  queue->Submit(1, PutKey("a"), [&](absl::Status s) { acks.push_back(s); });
  queue->Submit(2, PutKey("b"), [&](absl::Status s) { acks.push_back(s); });
  loop.RunTurnEnd();
  ASSERT_EQ(acks.size(), 2u);
  for (const absl::Status& s : acks) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("disk full"));
  }
  // Nothing more is written once the log's state is unknown.
  queue->Submit(1, PutKey("c"), [&](absl::Status s) { acks.push_back(s); });
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(acks[2].code(), absl::StatusCode::kInternal);
  EXPECT_EQ(writes, 2);
}

TEST(CommitQueueTest, InlineWriteFailureIsSticky) {
  CommitQueue::Options options{SyncMode::kNever, 1};
  options.inline_writes = true;
  int writes = 0;
  auto queue = CommitQueue::Create(
      options,
      [&](Batch&) {
        ++writes;
        return absl::InternalError("no space");
      },
      [] { return absl::OkStatus(); });
  EXPECT_EQ(SubmitAndWait(*queue, 1, PutKey("a")).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(SubmitAndWait(*queue, 1, PutKey("b")).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(writes, 1);
}

TEST(CommitQueueTest, FailedTaskIsRolledBackAndFailsAlone) {
  WriteLog log;
  auto queue = CommitQueue::Create({SyncMode::kAlways, 1}, log.Fn(),
                                   [] { return absl::OkStatus(); });
  absl::BlockingCounter left(3);
  std::vector<absl::Status> results(3);
  queue->Submit(1, PutKey("before"), [&](absl::Status s) {
    results[0] = s;
    left.DecrementCount();
  });
  queue->Submit(
      1,
      [](Batch& batch) {
        EXPECT_THAT(batch.Put("half-done", "x"), IsOk());
        return absl::InvalidArgumentError("bad");
      },
      [&](absl::Status s) {
        results[1] = s;
        left.DecrementCount();
      });
  queue->Submit(1, PutKey("after"), [&](absl::Status s) {
    results[2] = s;
    left.DecrementCount();
  });
  left.Wait();
  EXPECT_THAT(results[0], IsOk());
  EXPECT_EQ(results[1].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(results[2], IsOk());
  std::vector<std::string> written;
  for (const auto& g : log.groups()) {
    written.insert(written.end(), g.begin(), g.end());
  }
  EXPECT_THAT(written, ::testing::UnorderedElementsAre("before", "after"));
}

TEST(CommitQueueTest, SyncFailureIsSticky) {
  WriteLog log;
  auto queue = CommitQueue::Create({SyncMode::kAlways, 1}, log.Fn(), [] {
    return absl::DataLossError("disk on fire");
  });
  EXPECT_EQ(SubmitAndWait(*queue, 1, PutKey("a")).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(SubmitAndWait(*queue, 1, PutKey("b")).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(log.groups().size(), 1u);  // nothing more is written after it
}

TEST(CommitQueueTest, WriteFailureFailsTheGroupAndIsSticky) {
  std::atomic<int> writes{0};
  auto queue = CommitQueue::Create(
      {SyncMode::kAlways, 1},
      [&](Batch&) {
        ++writes;
        return absl::InternalError("no space");
      },
      [] { return absl::OkStatus(); });
  EXPECT_EQ(SubmitAndWait(*queue, 1, PutKey("a")).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(SubmitAndWait(*queue, 1, PutKey("b")).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(writes.load(), 1);
  EXPECT_EQ(queue->syncs(), 0u);
}

TEST(CommitQueueTest, AFullDiskRefusesWritesUntilRecovered) {
  std::atomic<bool> full{true};
  std::atomic<int> recover_calls{0};
  CommitQueue::Options options{SyncMode::kAlways, 1};
  options.recover_every = absl::Milliseconds(10);
  auto queue = CommitQueue::Create(
      options,
      [&](Batch&) {
        return full ? absl::ResourceExhaustedError("No space left on device")
                    : absl::OkStatus();
      },
      [] { return absl::OkStatus(); }, nullptr,
      [&] {
        ++recover_calls;
        return full ? absl::ResourceExhaustedError("still full")
                    : absl::OkStatus();
      });
  absl::Status refused = SubmitAndWait(*queue, 1, PutKey("a"));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted,
                                HasSubstr("disk full")));
  EXPECT_EQ(HttpStatusOf(refused), 507);
  EXPECT_THAT(SubmitAndWait(*queue, 1, PutKey("b")),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(queue->refused(), 2u);
  // Recovery is tried, and fails, while the disk stays full.
  while (recover_calls.load() < 3) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_THAT(queue->Writable(),
              StatusIs(absl::StatusCode::kResourceExhausted));
  full = false;
  while (!queue->Writable().ok()) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_THAT(SubmitAndWait(*queue, 1, PutKey("c")), IsOk());
  EXPECT_EQ(queue->recoveries(), 1u);
}

TEST(CommitQueueTest, ShardsShareSyncsTheyCover) {
  // Two shards writing while syncs are slow: every group is synced, but a
  // group whose write another shard's sync already covered is not synced
  // again, so there are fewer syncs than groups.
  WriteLog log;
  auto queue = CommitQueue::Create({SyncMode::kAlways, 2}, log.Fn(), [] {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    return absl::OkStatus();
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&queue, w] {
      for (int i = 0; i < 15; ++i) {
        ASSERT_THAT(SubmitAndWait(*queue, w, PutKey(std::to_string(w))),
                    IsOk());
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_LE(queue->syncs(), log.groups().size());
}

TEST(CommitQueueTest, CloseDrainsThenRejects) {
  WriteLog log;
  auto queue = CommitQueue::Create({SyncMode::kAlways, 2}, log.Fn(),
                                   [] { return absl::OkStatus(); });
  std::atomic<int> acknowledged{0};
  for (int i = 0; i < 50; ++i) {
    queue->Submit(i, PutKey(std::to_string(i)), [&](absl::Status s) {
      if (s.ok()) ++acknowledged;
    });
  }
  queue->Close();
  EXPECT_EQ(acknowledged.load(), 50);
  absl::Status late;
  queue->Submit(1, PutKey("late"), [&](absl::Status s) { late = s; });
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace kvstore::store
