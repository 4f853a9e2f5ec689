// Faults scripted on the real store through its error-injection points, seen
// through the proxy: retries of transient errors (and none for non-idempotent
// calls), Retry-After, CloseClient with calls in flight, many calls parked at
// once, bulk entries retried alone, and writes that fail after they were
// committed. No timing windows: every test waits on the store's events ("N
// requests are parked") or counts them.
#include <string>
#include <utility>
#include <vector>

#include "tests/conformance/fault_test.h"

namespace kvstore::conformance {
namespace {

// --- Retry_TransientError (idempotent) / NoRetry_TransientError ------------

CONFORMANCE_TEST(FaultTest, ReadRow_Retry_TransientError,
                 "API-2 ID-1 TR-1 TR-3") {
  RetriesTransientErrors(ReadRowM());
}
CONFORMANCE_TEST(FaultTest, ReadRows_Retry_TransientError,
                 "ID-1 TR-1 TR-3 RR-1") {
  RetriesTransientErrors(ReadRowsM());
}
CONFORMANCE_TEST(FaultTest, MutateRow_Retry_TransientError, "ID-2 TR-1 TR-3") {
  RetriesTransientErrors(MutateRowM());
}
CONFORMANCE_TEST(FaultTest, BulkMutateRows_Retry_TransientError,
                 "ID-3 TR-1 TR-3 BM-3") {
  RetriesTransientErrors(BulkM());
}
CONFORMANCE_TEST(FaultTest, SampleRowKeys_Retry_TransientError,
                 "ID-1 TR-1 TR-3") {
  RetriesTransientErrors(SampleM());
}
CONFORMANCE_TEST(FaultTest, CheckAndMutateRow_NoRetry_TransientError,
                 "ID-4 TR-4") {
  DoesNotRetry(CheckAndMutateM());
}
CONFORMANCE_TEST(FaultTest, ReadModifyWriteRow_NoRetry_TransientError,
                 "ID-4 TR-4") {
  DoesNotRetry(ReadModifyWriteM());
}
CONFORMANCE_TEST(FaultTest, MutateRow_NoRetry_ServerTimestampTransientError,
                 "ID-2 TR-4") {
  DoesNotRetry(ServerTimeMutateRowM());
}

CONFORMANCE_TEST(FaultTest, ReadRow_NoRetry_PermanentError,
                 "API-2 API-3 TR-2") {
  Arm(kParsed, {{"status", "400"}, {"count", "1"}});
  EXPECT_EQ(ReadRow("a").status().code(),
            Code(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1);
}

// --- Retry_RetryAfter --------------------------------------------------------

CONFORMANCE_TEST(FaultTest, ReadRow_Retry_RetryAfter, "API-2 ID-1 BO-3") {
  HonoursRetryAfter(ReadRowM());
}
CONFORMANCE_TEST(FaultTest, MutateRow_Retry_RetryAfter, "ID-2 BO-3") {
  HonoursRetryAfter(MutateRowM());
}
CONFORMANCE_TEST(FaultTest, SampleRowKeys_Retry_RetryAfter, "ID-1 BO-3") {
  HonoursRetryAfter(SampleM());
}

// --- Generic_DeadlineExceeded ------------------------------------------------

CONFORMANCE_TEST(FaultTest, ReadRow_Generic_DeadlineExceeded, "DL-1 DL-3") {
  TimesOut(ReadRowM());
}
CONFORMANCE_TEST(FaultTest, ReadRows_Generic_DeadlineExceeded, "DL-1 DL-3") {
  TimesOut(ReadRowsM());
}
CONFORMANCE_TEST(FaultTest, MutateRow_Generic_DeadlineExceeded, "DL-1 DL-3") {
  TimesOut(MutateRowM());
}
CONFORMANCE_TEST(FaultTest, BulkMutateRows_Generic_DeadlineExceeded,
                 "DL-1 DL-3 BM-2") {
  TimesOut(BulkM());
}
CONFORMANCE_TEST(FaultTest, CheckAndMutateRow_Generic_DeadlineExceeded,
                 "DL-1 DL-3") {
  TimesOut(CheckAndMutateM());
}
CONFORMANCE_TEST(FaultTest, ReadModifyWriteRow_Generic_DeadlineExceeded,
                 "DL-1 DL-3") {
  TimesOut(ReadModifyWriteM());
}
CONFORMANCE_TEST(FaultTest, SampleRowKeys_Generic_DeadlineExceeded,
                 "DL-1 DL-3") {
  TimesOut(SampleM());
}

// --- Generic_CloseClient -----------------------------------------------------

CONFORMANCE_TEST(FaultTest, ReadRow_Generic_CloseClient, "LC-3") {
  ClosesWithCallsInFlight(ReadRowM());
}
CONFORMANCE_TEST(FaultTest, ReadRows_Generic_CloseClient, "LC-3") {
  ClosesWithCallsInFlight(ReadRowsM());
}
CONFORMANCE_TEST(FaultTest, MutateRow_Generic_CloseClient, "LC-3") {
  ClosesWithCallsInFlight(MutateRowM());
}
CONFORMANCE_TEST(FaultTest, BulkMutateRows_Generic_CloseClient, "LC-3") {
  ClosesWithCallsInFlight(BulkM());
}
CONFORMANCE_TEST(FaultTest, CheckAndMutateRow_Generic_CloseClient, "LC-3") {
  ClosesWithCallsInFlight(CheckAndMutateM());
}
CONFORMANCE_TEST(FaultTest, ReadModifyWriteRow_Generic_CloseClient, "LC-3") {
  ClosesWithCallsInFlight(ReadModifyWriteM());
}
CONFORMANCE_TEST(FaultTest, SampleRowKeys_Generic_CloseClient, "LC-3") {
  ClosesWithCallsInFlight(SampleM());
}

// --- Retry_RetriesAfterCloseClient -------------------------------------------
// The calls were running when the client closed: their retries are theirs.

CONFORMANCE_TEST(FaultTest, ReadRow_Retry_RetriesAfterCloseClient,
                 "API-2 ID-1 LC-3") {
  RetriesAfterClose(ReadRowM(), "read_rows.row",
                    {{"status", "503"}, {"after_rows", "0"}});
}
CONFORMANCE_TEST(FaultTest, ReadRows_Retry_RetriesAfterCloseClient,
                 "ID-1 RR-1 LC-3") {
  RetriesAfterClose(ReadRowsM(), "read_rows.row",
                    {{"status", "503"}, {"after_rows", "0"}});
}
CONFORMANCE_TEST(FaultTest, MutateRow_Retry_RetriesAfterCloseClient,
                 "ID-2 LC-3") {
  RetriesAfterClose(MutateRowM(), "mutation.before_commit",
                    {{"status", "503"}});
}

// --- Generic_RemoveClient ----------------------------------------------------

CONFORMANCE_TEST(FaultTest, ReadRow_Generic_RemoveClient, "LC-4") {
  RemovesWithCallsInFlight(ReadRowM());
}
CONFORMANCE_TEST(FaultTest, ReadRows_Generic_RemoveClient, "LC-4") {
  RemovesWithCallsInFlight(ReadRowsM());
}
CONFORMANCE_TEST(FaultTest, MutateRow_Generic_RemoveClient, "LC-4") {
  RemovesWithCallsInFlight(MutateRowM());
}
CONFORMANCE_TEST(FaultTest, BulkMutateRows_Generic_RemoveClient, "LC-4") {
  RemovesWithCallsInFlight(BulkM());
}
CONFORMANCE_TEST(FaultTest, CheckAndMutateRow_Generic_RemoveClient, "LC-4") {
  RemovesWithCallsInFlight(CheckAndMutateM());
}
CONFORMANCE_TEST(FaultTest, ReadModifyWriteRow_Generic_RemoveClient, "LC-4") {
  RemovesWithCallsInFlight(ReadModifyWriteM());
}
CONFORMANCE_TEST(FaultTest, SampleRowKeys_Generic_RemoveClient, "LC-4") {
  RemovesWithCallsInFlight(SampleM());
}

// --- Generic_MultiStreams ----------------------------------------------------

CONFORMANCE_TEST(FaultTest, ReadRow_Generic_MultiStreams, "LC-5 PL-2") {
  ServesManyCallsAtOnce(ReadRowM());
}
CONFORMANCE_TEST(FaultTest, ReadRows_Generic_MultiStreams, "LC-5 PL-2") {
  ServesManyCallsAtOnce(ReadRowsM());
}
CONFORMANCE_TEST(FaultTest, MutateRow_Generic_MultiStreams, "LC-5 PL-2") {
  ServesManyCallsAtOnce(MutateRowM());
}
CONFORMANCE_TEST(FaultTest, BulkMutateRows_Generic_MultiStreams, "LC-5 PL-2") {
  ServesManyCallsAtOnce(BulkM());
}
CONFORMANCE_TEST(FaultTest, CheckAndMutateRow_Generic_MultiStreams,
                 "LC-5 PL-2") {
  ServesManyCallsAtOnce(CheckAndMutateM());
}
CONFORMANCE_TEST(FaultTest, ReadModifyWriteRow_Generic_MultiStreams,
                 "LC-5 PL-2") {
  ServesManyCallsAtOnce(ReadModifyWriteM());
}
CONFORMANCE_TEST(FaultTest, SampleRowKeys_Generic_MultiStreams, "LC-5 PL-2") {
  ServesManyCallsAtOnce(SampleM());
}

// --- Bulk entries retried alone ---------------------------------------------

CONFORMANCE_TEST(FaultTest, BulkMutateRows_Retry_OnlyTransientlyFailedEntries,
                 "ID-3 BM-3") {
  // Entry 2 of 3 fails once; the retry carries it alone: 3 + 1 entry hits.
  Arm("mutate_rows.entry", {{"status", "503"}, {"skip", "1"}, {"count", "1"}});
  v1::MutateRowsRequest bulk;
  for (const char* key : {"k1", "k2", "k3"}) {
    auto* e = bulk.add_entries();
    e->set_row_key(key);
    *e->add_mutations() = SetCell("f", "q", key, 1000);
  }
  tpv1::MutateRowsResult result = Bulk(bulk);
  EXPECT_EQ(result.status().code(), 0) << result.status().message();
  EXPECT_EQ(result.entries_size(), 0);  // nothing failed in the end
  EXPECT_EQ(CountUntilDisarmed("mutate_rows.entry", "hit"), 4);
  for (const char* key : {"k1", "k2", "k3"}) {
    EXPECT_TRUE(ReadRow(key).has_row()) << key;
  }
}

CONFORMANCE_TEST(FaultTest, BulkMutateRows_NoRetry_ServerTimestampEntries,
                 "ID-3 TR-4 BM-1") {
  Arm("mutate_rows.entry", {{"status", "503"}, {"row_key", "st"}});
  tpv1::MutateRowsResult result =
      Bulk(BulkOf({{"st", SetCell("f", "q", "v")},  // server time
                   {"fine", SetCell("f", "q", "v")}}));
  ASSERT_EQ(result.entries_size(), 1);
  EXPECT_EQ(result.entries(0).index(), 0);
  EXPECT_EQ(result.entries(0).status().code(),
            Code(absl::StatusCode::kUnavailable));
  EXPECT_EQ(CountUntilDisarmed("mutate_rows.entry", "hit"), 1);
}

CONFORMANCE_TEST(
    FaultTest,
    BulkMutateRows_NoRetry_ServerTimestampEntriesAfterAWholeCallFailure,
    "ID-3 TR-4 BM-3") {
  // The whole first attempt fails with a 503: only the explicit-time entry
  // may go again; the server-time one ends UNAVAILABLE, never applied.
  Arm(kParsed,
      {{"status", "503"}, {"count", "1"}, {"path", "/v1/tables/t:mutateRows"}});
  tpv1::MutateRowsResult result =
      Bulk(BulkOf({{"st", SetCell("f", "q", "v")},  // server time
                   {"et", SetCell("f", "q", "v", 1000)}}));
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kUnavailable));
  ASSERT_EQ(result.entries_size(), 1);
  EXPECT_EQ(result.entries(0).index(), 0);
  EXPECT_EQ(result.entries(0).status().code(),
            Code(absl::StatusCode::kUnavailable));
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 2);
  EXPECT_FALSE(ReadRow("st").has_row());
  EXPECT_TRUE(ReadRow("et").has_row());
}

// --- Failed after commit -----------------------------------------------------

CONFORMANCE_TEST(FaultTest,
                 ReadModifyWriteRow_NoRetry_FailedAfterCommitIsApplied,
                 "ID-4 TR-4") {
  Arm("mutation.after_commit", {{"status", "503"}, {"count", "1"}});
  tpv1::RowResult failed = ReadModifyWrite("n", {IncrementBy("f", "c", 5)});
  EXPECT_EQ(failed.status().code(), Code(absl::StatusCode::kUnavailable));
  // Applied once, not retried: the counter is 5.
  tpv1::RowResult read = ReadRow("n");
  ASSERT_TRUE(read.has_row());
  const v1::Cell* counter = CellOf(read, "f", "c");
  ASSERT_NE(counter, nullptr);
  EXPECT_EQ(counter->value(), std::string("\0\0\0\0\0\0\0\5", 8));
}

CONFORMANCE_TEST(FaultTest, MutateRow_Retry_FailedAfterCommitIsAppliedOnce,
                 "ID-2 TR-5") {
  Arm("mutation.after_commit", {{"status", "503"}, {"count", "1"}});
  EXPECT_EQ(Mutate("m", {SetCell("f", "q", "v", 1000)}).status().code(), 0);
  EXPECT_EQ(CountUntilDisarmed("mutation.after_commit", "hit"), 2);
  tpv1::RowResult read = ReadRow("m");
  ASSERT_TRUE(read.has_row());
  EXPECT_EQ(CellCount(read, "f", "q"), 1);
}

CONFORMANCE_TEST(FaultTest,
                 CheckAndMutateRow_NoRetry_FailedBeforeCommitIsNotApplied,
                 "ID-4 TR-4") {
  Arm("mutation.before_commit", {{"status", "503"}, {"count", "1"}});
  v1::CheckAndMutateRowRequest cam;
  cam.set_row_key("a");
  *cam.add_true_mutations() = SetCell("g", "q", "new", 1000);
  EXPECT_EQ(CheckAndMutate(cam).status().code(),
            Code(absl::StatusCode::kUnavailable));
  v1::RowFilter only_g;
  only_g.set_family_name_regex("g");
  EXPECT_FALSE(ReadRow("a", &only_g).has_row());
}

}  // namespace
}  // namespace kvstore::conformance
