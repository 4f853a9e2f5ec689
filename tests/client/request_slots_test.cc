// RequestSlots: the bound on a client's requests in flight that its blocking
// and asynchronous transports share.
#include "client/request_slots.h"

#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace kvstore {
namespace {

TEST(RequestSlotsTest, NoMoreThanTheCapacityAtOnce) {
  RequestSlots slots(2);
  EXPECT_TRUE(slots.TryAcquire());
  EXPECT_TRUE(slots.Acquire(absl::InfiniteFuture()));
  EXPECT_FALSE(slots.TryAcquire());
  EXPECT_FALSE(slots.Acquire(absl::Now()));  // none frees up in time
  slots.Release();
  EXPECT_TRUE(slots.TryAcquire());
}

TEST(RequestSlotsTest, AWaiterGetsTheSlotAnotherGivesBack) {
  RequestSlots slots(1);
  ASSERT_TRUE(slots.TryAcquire());
  bool got = false;
  std::thread waiter([&] { got = slots.Acquire(absl::InfiniteFuture()); });
  slots.Release();
  waiter.join();
  EXPECT_TRUE(got);
  EXPECT_FALSE(slots.TryAcquire());
}

TEST(RequestSlotsTest, TheListenerHearsEveryReleaseUntilReplaced) {
  RequestSlots slots(1);
  int heard = 0;
  slots.SetListener([&] { ++heard; });
  ASSERT_TRUE(slots.TryAcquire());
  slots.Release();
  EXPECT_EQ(heard, 1);
  slots.SetListener(nullptr);
  ASSERT_TRUE(slots.TryAcquire());
  slots.Release();
  EXPECT_EQ(heard, 1);
}

}  // namespace
}  // namespace kvstore
