// pool_size bounds a client's requests at the store: with pool_size = 2, two
// calls are parked at the store, and a third waits in the library until one of
// them is released: it reaches the store only after a `released` event.
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "tests/common/status_matchers.h"
#include "tests/conformance/fault_test.h"

using ::kvstore::testing::IsOk;

namespace kvstore::conformance {
namespace {

constexpr int kPool = 2;

class PoolTest : public FaultTest {
 protected:
  void BoundsRequestsAtTheStore(const Method& m) {
    BoundsRequestsAtTheStore(std::vector<Method>(kPool, m), m);
  }

  // Parks `first` (kPool calls, in this order) at the store, then makes
  // `then`, which must wait until one of them is released.
  void BoundsRequestsAtTheStore(const std::vector<Method>& first,
                                const Method& then) {
    ASSERT_EQ(first.size(), static_cast<size_t>(kPool));
    ASSERT_THAT(CreateClient("pooled", 0, "", kPool), IsOk());
    CallWith("pooled");
    // The first kPool requests park; later ones pass (count).
    std::map<std::string, std::string> pause = {{"action", "pause"},
                                                {"count", absl::StrCat(kPool)}};
    bool one_path = true;
    for (const Method& m : first) one_path = one_path && m.verb == then.verb;
    if (one_path) pause["path"] = PathOf(then);
    Arm(kParsed, pause);
    std::vector<int> codes(kPool + 1, -1);
    std::vector<std::thread> calls;
    ReleaseAndJoin guard(Injection(), calls);
    for (int i = 0; i < kPool; ++i) {
      calls.emplace_back([&, i] { codes[i] = first[i].call(*this); });
    }
    ASSERT_THAT(Events().WaitForCount(kParsed, "paused", kPool, kWait), IsOk());
    calls.emplace_back([&] { codes[kPool] = then.call(*this); });
    // Room for a library that opens another connection to show it: its
    // request would reach the store now. (A slow machine can only hide a
    // violation here, never fail a library that waits.)
    absl::SleepFor(absl::Milliseconds(500));
    auto state = Injection().State(kParsed);
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->hits, kPool) << "a request beyond pool_size reached "
                                     "the store while the pool was busy";
    ASSERT_THAT(Injection().Message(kParsed), IsOk());
    for (auto& t : calls) t.join();
    for (int code : codes) EXPECT_EQ(code, 0);
    ASSERT_EQ(CountUntilDisarmed(kParsed, "hit"), kPool + 1);
    std::vector<InjectionEventRecord> hits = EventsOf(kParsed, "hit");
    std::vector<InjectionEventRecord> released = EventsOf(kParsed, "released");
    ASSERT_FALSE(released.empty());
    EXPECT_GT(hits.back().seq, released.front().seq)
        << "the call beyond pool_size reached the store before a release";
  }
};

CONFORMANCE_TEST(PoolTest, ReadRow_Generic_PoolSizeBoundsRequestsAtTheStore,
                 "PL-1") {
  BoundsRequestsAtTheStore(ReadRowM());
}
CONFORMANCE_TEST(PoolTest, ReadRows_Generic_PoolSizeBoundsRequestsAtTheStore,
                 "PL-1") {
  BoundsRequestsAtTheStore(ReadRowsM());
}
CONFORMANCE_TEST(PoolTest, MutateRow_Generic_PoolSizeBoundsRequestsAtTheStore,
                 "PL-1") {
  BoundsRequestsAtTheStore(MutateRowM());
}
CONFORMANCE_TEST(PoolTest,
                 BulkMutateRows_Generic_PoolSizeBoundsRequestsAtTheStore,
                 "PL-1") {
  BoundsRequestsAtTheStore(BulkM());
}
CONFORMANCE_TEST(PoolTest,
                 CheckAndMutateRow_Generic_PoolSizeBoundsRequestsAtTheStore,
                 "PL-1") {
  BoundsRequestsAtTheStore(CheckAndMutateM());
}
CONFORMANCE_TEST(PoolTest,
                 ReadModifyWriteRow_Generic_PoolSizeBoundsRequestsAtTheStore,
                 "PL-1") {
  BoundsRequestsAtTheStore(ReadModifyWriteM());
}
CONFORMANCE_TEST(PoolTest,
                 SampleRowKeys_Generic_PoolSizeBoundsRequestsAtTheStore,
                 "PL-1") {
  BoundsRequestsAtTheStore(SampleM());
}

CONFORMANCE_TEST(PoolTest, EveryRpc_Generic_PoolSizeBoundsMethodsTogether,
                 "PL-1") {
  // A read of many rows and a single-row read hold the pool; a write waits.
  BoundsRequestsAtTheStore({ReadRowsM(), ReadRowM()}, MutateRowM());
}

}  // namespace
}  // namespace kvstore::conformance
