#include "store/commit_queue.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace kvstore::store {
namespace {

TEST(CommitQueueTest, ParsesSyncModes) {
  EXPECT_EQ(*ParseSyncMode("always"), SyncMode::kAlways);
  EXPECT_EQ(*ParseSyncMode("everysec"), SyncMode::kEverySecond);
  EXPECT_EQ(*ParseSyncMode("never"), SyncMode::kNever);
  EXPECT_EQ(ParseSyncMode("sometimes").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CommitQueueTest, AcknowledgesOnlyAfterTheSync) {
  std::atomic<int> applied{0};
  std::atomic<int> synced_applied{-1};
  auto queue = CommitQueue::Create({SyncMode::kAlways, 1}, [&] {
    synced_applied = applied.load();
    return absl::OkStatus();
  });
  absl::Notification done;
  queue->Submit(
      1,
      [&] {
        ++applied;
        return absl::OkStatus();
      },
      [&](absl::Status s) {
        EXPECT_TRUE(s.ok());
        EXPECT_EQ(synced_applied.load(),
                  1);  // synced after applying, before acknowledging
        done.Notify();
      });
  done.WaitForNotification();
  EXPECT_GE(queue->syncs(), 1u);
}

TEST(CommitQueueTest, ConcurrentWritersShareSyncs) {
  auto queue = CommitQueue::Create({SyncMode::kAlways, 1}, [] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a slow disk
    return absl::OkStatus();
  });
  constexpr int kWriters = 32;
  constexpr int kEach = 20;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&queue, w] {
      for (int i = 0; i < kEach; ++i) {
        absl::Notification done;
        queue->Submit(
            w, [] { return absl::OkStatus(); },
            [&](absl::Status) { done.Notify(); });
        done.WaitForNotification();
      }
    });
  }
  for (auto& t : writers) t.join();
  // With one sync per write this would be 640; grouping must do far better.
  EXPECT_LT(queue->syncs(), static_cast<uint64_t>(kWriters * kEach) / 4);
}

TEST(CommitQueueTest, SameShardKeyRunsInOrder) {
  auto queue = CommitQueue::Create({SyncMode::kNever, 4},
                                   [] { return absl::OkStatus(); });
  std::vector<int> order;
  absl::BlockingCounter left(100);
  for (int i = 0; i < 100; ++i) {
    queue->Submit(
        42,
        [&order, i] {
          order.push_back(i);  // only the shard's thread touches it
          return absl::OkStatus();
        },
        [&](absl::Status) { left.DecrementCount(); });
  }
  left.Wait();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(CommitQueueTest, FailedApplyFailsOnlyThatTask) {
  auto queue = CommitQueue::Create({SyncMode::kAlways, 1},
                                   [] { return absl::OkStatus(); });
  absl::BlockingCounter left(2);
  absl::Status first, second;
  queue->Submit(
      1, [] { return absl::InvalidArgumentError("bad"); },
      [&](absl::Status s) {
        first = s;
        left.DecrementCount();
      });
  queue->Submit(
      1, [] { return absl::OkStatus(); },
      [&](absl::Status s) {
        second = s;
        left.DecrementCount();
      });
  left.Wait();
  EXPECT_EQ(first.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(second.ok());
}

TEST(CommitQueueTest, SyncFailureIsSticky) {
  auto queue = CommitQueue::Create({SyncMode::kAlways, 1}, [] {
    return absl::DataLossError("disk on fire");
  });
  for (int i = 0; i < 2; ++i) {
    absl::Notification done;
    absl::Status result;
    queue->Submit(
        1, [] { return absl::OkStatus(); },
        [&](absl::Status s) {
          result = s;
          done.Notify();
        });
    done.WaitForNotification();
    EXPECT_EQ(result.code(), absl::StatusCode::kInternal) << i;
  }
}

TEST(CommitQueueTest, CloseDrainsThenRejects) {
  auto queue = CommitQueue::Create({SyncMode::kAlways, 2},
                                   [] { return absl::OkStatus(); });
  std::atomic<int> acknowledged{0};
  for (int i = 0; i < 50; ++i) {
    queue->Submit(
        i, [] { return absl::OkStatus(); },
        [&](absl::Status s) {
          if (s.ok()) ++acknowledged;
        });
  }
  queue->Close();
  EXPECT_EQ(acknowledged.load(), 50);
  absl::Status late;
  queue->Submit(
      1, [] { return absl::OkStatus(); }, [&](absl::Status s) { late = s; });
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace kvstore::store
