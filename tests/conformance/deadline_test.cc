// Time: the attempt budget, the spacing of retries, and per_operation_timeout
// against a store that keeps failing, stalls, or asks for a Retry-After longer
// than the time left. Spacing and durations come from the store's own event
// timestamps: lower bounds are the spec's, upper bounds carry seconds of
// slack, so a loaded machine cannot fail a library that follows the spec.
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "tests/common/status_matchers.h"
#include "tests/conformance/fault_test.h"

using ::kvstore::testing::IsOk;

namespace kvstore::conformance {
namespace {

// Upper bounds on durations get this much slack on top of the spec's figure.
constexpr absl::Duration kSlack = absl::Seconds(4);
// The spec's backoff (docs/conformance.md BO-1): B(n) = min(10 ms * 2^(n-1),
// 1 s), and the wait before retry n is at least B(n) / 2.
absl::Duration MinWaitBeforeRetry(int n) {
  absl::Duration b = absl::Milliseconds(10);
  for (int i = 1; i < n && b < absl::Seconds(1); ++i) b *= 2;
  return std::min(b, absl::Seconds(1)) / 2;
}

class DeadlineTest : public FaultTest {
 protected:
  // The store keeps failing: a default client makes exactly 10 attempts and
  // ends with the last one's UNAVAILABLE.
  void SpendsTheAttemptBudget(const Method& m) {
    Fail503(m, 0);
    EXPECT_EQ(m.call(*this), Code(absl::StatusCode::kUnavailable));
    EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 10);
  }

  // Six 503s, then success: between the answer to attempt n and retry n the
  // client waited at least B(n) / 2 (from the store's journal: the answer
  // written whole, then the next request read whole).
  void BacksOff(const Method& m) {
    constexpr int kFailures = 6;
    Fail503(m, kFailures);
    EXPECT_EQ(m.call(*this), 0);
    ASSERT_EQ(CountUntilDisarmed(kParsed, "hit"), kFailures + 1);
    std::vector<JournalRecord> attempts = Attempts(m, kFailures + 1);
    ASSERT_EQ(attempts.size(), kFailures + 1u);
    for (int n = 1; n <= kFailures; ++n) {
      EXPECT_EQ(attempts[n - 1].status, 503);
      // (1 ms of leeway for the clock's granularity.)
      EXPECT_GE(GapBetween(attempts[n - 1], attempts[n]),
                MinWaitBeforeRetry(n) - absl::Milliseconds(1))
          << "before retry " << n;
    }
  }

  // A 1 s client against a store that always fails: DEADLINE_EXCEEDED, within
  // the second (plus slack), after no more attempts than the backoff allows
  // in a second (the 9th could start only after 1.135 s).
  void GivesUpAtTheDeadline(const Method& m) {
    ASSERT_THAT(CreateClient("short", 1000), IsOk());
    CallWith("short");
    Fail503(m, 0);
    EXPECT_EQ(m.call(*this), Code(absl::StatusCode::kDeadlineExceeded));
    absl::Duration took = StoreTimeFromFirstHitToDisarm(kParsed);
    const int attempts = Events().Count(kParsed, "hit");
    EXPECT_GE(attempts, 2) << "an idempotent call retries";
    EXPECT_LE(attempts, 8) << "more attempts than fit in 1 s of backoff";
    EXPECT_LE(took, absl::Seconds(1) + kSlack);
  }

  // A 503 asking for Retry-After: 30 on a 20 s client: the call ends at once
  // with DEADLINE_EXCEEDED, after one attempt; not 30 s later, nor at its
  // deadline 20 s later.
  void DoesNotWaitPastTheDeadline(const Method& m) {
    ASSERT_THAT(CreateClient("short", 20000), IsOk());
    CallWith("short");
    Fail503(m, 1, /*retry_after_s=*/30);
    EXPECT_EQ(m.call(*this), Code(absl::StatusCode::kDeadlineExceeded));
    absl::Duration took = StoreTimeFromFirstHitToDisarm(kParsed);
    EXPECT_EQ(Events().Count(kParsed, "hit"), 1);
    EXPECT_LE(took, absl::Seconds(10)) << "it waited instead of ending";
  }

  // An 8 s client waits on a store that holds its request for 1.5 s: the
  // client's own timeout is used, not a shorter fixed one.
  void UsesTheClientsTimeout(const Method& m) {
    ASSERT_THAT(CreateClient("patient", 8000), IsOk());
    CallWith("patient");
    Arm(kParsed, {{"action", "pause"}, {"count", "1"}, {"path", PathOf(m)}});
    int code = -1;
    std::vector<std::thread> calls;
    ReleaseAndJoin guard(Injection(), calls);
    calls.emplace_back([&] { code = m.call(*this); });
    auto paused = Events().WaitFor(kParsed, "paused", kWait);
    ASSERT_TRUE(paused.ok()) << paused.status();
    absl::SleepFor(absl::Milliseconds(1500));
    ASSERT_THAT(Injection().Message(kParsed), IsOk());
    calls[0].join();
    auto released = Events().WaitFor(kParsed, "released", kWait);
    ASSERT_TRUE(released.ok()) << released.status();
    // The store held it at least 1.5 s (so the check means something).
    EXPECT_GE(TimestampMicros(*released) - TimestampMicros(*paused), 1500000);
    EXPECT_EQ(code, 0);
  }
};

// --- Retry_AttemptBudget ----------------------------------------------------

CONFORMANCE_TEST(DeadlineTest, ReadRow_Retry_AttemptBudget, "API-2 ID-1 BO-2") {
  SpendsTheAttemptBudget(ReadRowM());
}
CONFORMANCE_TEST(DeadlineTest, ReadRows_Retry_AttemptBudget, "ID-1 BO-2 RR-1") {
  SpendsTheAttemptBudget(ReadRowsM());
}
CONFORMANCE_TEST(DeadlineTest, MutateRow_Retry_AttemptBudget, "ID-2 BO-2") {
  SpendsTheAttemptBudget(MutateRowM());
}
CONFORMANCE_TEST(DeadlineTest, BulkMutateRows_Retry_AttemptBudget,
                 "ID-3 BO-2") {
  SpendsTheAttemptBudget(BulkM());
}
CONFORMANCE_TEST(DeadlineTest, SampleRowKeys_Retry_AttemptBudget, "ID-1 BO-2") {
  SpendsTheAttemptBudget(SampleM());
}

// --- Retry_BackoffGrows ------------------------------------------------------

CONFORMANCE_TEST(DeadlineTest, ReadRow_Retry_BackoffGrows, "API-2 ID-1 BO-1") {
  BacksOff(ReadRowM());
}
CONFORMANCE_TEST(DeadlineTest, ReadRows_Retry_BackoffGrows, "ID-1 BO-1 RR-1") {
  BacksOff(ReadRowsM());
}
CONFORMANCE_TEST(DeadlineTest, MutateRow_Retry_BackoffGrows, "ID-2 BO-1") {
  BacksOff(MutateRowM());
}
CONFORMANCE_TEST(DeadlineTest, BulkMutateRows_Retry_BackoffGrows, "ID-3 BO-1") {
  BacksOff(BulkM());
}
CONFORMANCE_TEST(DeadlineTest, SampleRowKeys_Retry_BackoffGrows, "ID-1 BO-1") {
  BacksOff(SampleM());
}

// --- Generic_KeepsFailingUntilTheDeadline ------------------------------------

CONFORMANCE_TEST(DeadlineTest, ReadRow_Generic_KeepsFailingUntilTheDeadline,
                 "BO-4 DL-1 DL-3") {
  GivesUpAtTheDeadline(ReadRowM());
}
CONFORMANCE_TEST(DeadlineTest, ReadRows_Generic_KeepsFailingUntilTheDeadline,
                 "BO-4 DL-1 DL-3") {
  GivesUpAtTheDeadline(ReadRowsM());
}
CONFORMANCE_TEST(DeadlineTest, MutateRow_Generic_KeepsFailingUntilTheDeadline,
                 "BO-4 DL-1 DL-3") {
  GivesUpAtTheDeadline(MutateRowM());
}
CONFORMANCE_TEST(DeadlineTest,
                 BulkMutateRows_Generic_KeepsFailingUntilTheDeadline,
                 "BO-4 DL-1 DL-3") {
  GivesUpAtTheDeadline(BulkM());
}
CONFORMANCE_TEST(DeadlineTest,
                 SampleRowKeys_Generic_KeepsFailingUntilTheDeadline,
                 "BO-4 DL-1 DL-3") {
  GivesUpAtTheDeadline(SampleM());
}

// --- Generic_RetryAfterPastTheDeadline --------------------------------------

CONFORMANCE_TEST(DeadlineTest, ReadRow_Generic_RetryAfterPastTheDeadline,
                 "BO-4 DL-1") {
  DoesNotWaitPastTheDeadline(ReadRowM());
}
CONFORMANCE_TEST(DeadlineTest, ReadRows_Generic_RetryAfterPastTheDeadline,
                 "BO-4 DL-1") {
  DoesNotWaitPastTheDeadline(ReadRowsM());
}
CONFORMANCE_TEST(DeadlineTest, MutateRow_Generic_RetryAfterPastTheDeadline,
                 "BO-4 DL-1") {
  DoesNotWaitPastTheDeadline(MutateRowM());
}
CONFORMANCE_TEST(DeadlineTest, BulkMutateRows_Generic_RetryAfterPastTheDeadline,
                 "BO-4 DL-1") {
  DoesNotWaitPastTheDeadline(BulkM());
}
CONFORMANCE_TEST(DeadlineTest, SampleRowKeys_Generic_RetryAfterPastTheDeadline,
                 "BO-4 DL-1") {
  DoesNotWaitPastTheDeadline(SampleM());
}

// --- Generic_TimeoutIsTheClients ---------------------------------------------

CONFORMANCE_TEST(DeadlineTest, ReadRow_Generic_TimeoutIsTheClients,
                 "DL-1 DL-2") {
  UsesTheClientsTimeout(ReadRowM());
}
CONFORMANCE_TEST(DeadlineTest, ReadRows_Generic_TimeoutIsTheClients,
                 "DL-1 DL-2") {
  UsesTheClientsTimeout(ReadRowsM());
}
CONFORMANCE_TEST(DeadlineTest, MutateRow_Generic_TimeoutIsTheClients,
                 "DL-1 DL-2") {
  UsesTheClientsTimeout(MutateRowM());
}
CONFORMANCE_TEST(DeadlineTest, BulkMutateRows_Generic_TimeoutIsTheClients,
                 "DL-1 DL-2") {
  UsesTheClientsTimeout(BulkM());
}
CONFORMANCE_TEST(DeadlineTest, CheckAndMutateRow_Generic_TimeoutIsTheClients,
                 "DL-1 DL-2") {
  UsesTheClientsTimeout(CheckAndMutateM());
}
CONFORMANCE_TEST(DeadlineTest, ReadModifyWriteRow_Generic_TimeoutIsTheClients,
                 "DL-1 DL-2") {
  UsesTheClientsTimeout(ReadModifyWriteM());
}
CONFORMANCE_TEST(DeadlineTest, SampleRowKeys_Generic_TimeoutIsTheClients,
                 "DL-1 DL-2") {
  UsesTheClientsTimeout(SampleM());
}

CONFORMANCE_TEST(DeadlineTest, BulkMutateRows_Generic_EntriesLeftAtTheDeadline,
                 "BM-3 DL-1") {
  // Entry "x" fails transiently at every attempt; "y" is applied at once. On
  // a 1 s client, "x" ends DEADLINE_EXCEEDED and the call reports it.
  ASSERT_THAT(CreateClient("short", 1000), IsOk());
  CallWith("short");
  Arm("mutate_rows.entry", {{"status", "503"}, {"row_key", "x"}});
  v1::MutateRowsRequest bulk;
  for (const char* key : {"x", "y"}) {
    auto* entry = bulk.add_entries();
    entry->set_row_key(key);
    *entry->add_mutations() = SetCell("f", "q", "v", 1000);
  }
  tpv1::MutateRowsResult result = Bulk(bulk);
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kDeadlineExceeded));
  ASSERT_EQ(result.entries_size(), 1);
  EXPECT_EQ(result.entries(0).index(), 0);
  EXPECT_EQ(result.entries(0).status().code(),
            Code(absl::StatusCode::kDeadlineExceeded));
  EXPECT_GE(CountUntilDisarmed("mutate_rows.entry", "hit"), 2);  // retried
  EXPECT_TRUE(ReadRow("y").has_row());
}

}  // namespace
}  // namespace kvstore::conformance
