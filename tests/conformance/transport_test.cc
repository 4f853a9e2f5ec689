// Transport faults on every method: the store closes the connection without
// answering (`drop`), or runs the request and resets the connection halfway
// through its answer (`reset`); and statuses outside the code <-> HTTP table.
// Idempotent calls retry and succeed; the others make one attempt and report
// UNAVAILABLE. Attempts are counted as the store saw them.
#include <map>
#include <string>
#include <vector>

#include "tests/conformance/fault_test.h"

namespace kvstore::conformance {
namespace {

class TransportTest : public FaultTest {
 protected:
  // One transport fault (`action` at request.parsed, once, with `more`
  // parameters), then success: the store saw two attempts, the first one's
  // answer not sent whole.
  void Retries(const Method& m, const std::string& action,
               std::map<std::string, std::string> more = {}) {
    more.insert({{"action", action}, {"count", "1"}, {"path", PathOf(m)}});
    Arm(kParsed, more);
    EXPECT_EQ(m.call(*this), 0);
    EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 2);
    std::vector<JournalRecord> attempts = Attempts(m, 2);
    ASSERT_EQ(attempts.size(), 2u);
    EXPECT_TRUE(attempts[0].cut);
    EXPECT_EQ(attempts[1].status, 200);
  }

  // One transport fault and no retry: UNAVAILABLE after one attempt.
  void DoesNotRetry(const Method& m, const std::string& action) {
    Arm(kParsed, {{"action", action}, {"count", "1"}, {"path", PathOf(m)}});
    EXPECT_EQ(m.call(*this), Code(absl::StatusCode::kUnavailable));
    EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1);
    EXPECT_EQ(Attempts(m, 1).size(), 1u);
    EXPECT_EQ(AttemptsSeen(m), 1) << "a second attempt";
  }

  // The one cell of row "m" column f:q (MutateRowM writes it at ts 1000).
  int CellsOfM() { return CellCount(ReadRow("m"), "f", "q"); }

  // Counter "n" f:c as ReadModifyWriteM leaves it.
  std::string CounterN() {
    tpv1::RowResult read = ReadRow("n");
    if (!read.has_row()) return "";
    const v1::Cell* cell = CellOf(read, "f", "c");
    return cell == nullptr ? "" : cell->value();
  }
};

// --- Retry_DroppedConnection / NoRetry_DroppedConnection --------------------

CONFORMANCE_TEST(TransportTest, ReadRow_Retry_DroppedConnection,
                 "API-2 ID-1 TR-1 TR-3") {
  Retries(ReadRowM(), "drop");
}
CONFORMANCE_TEST(TransportTest, ReadRows_Retry_DroppedConnection,
                 "ID-1 TR-1 TR-3 RR-1") {
  Retries(ReadRowsM(), "drop");
}
CONFORMANCE_TEST(TransportTest, MutateRow_Retry_DroppedConnection,
                 "ID-2 TR-1 TR-3") {
  Retries(MutateRowM(), "drop");
}
CONFORMANCE_TEST(TransportTest, BulkMutateRows_Retry_DroppedConnection,
                 "ID-3 TR-1 TR-3 BM-3") {
  Retries(BulkM(), "drop");
}
CONFORMANCE_TEST(TransportTest, SampleRowKeys_Retry_DroppedConnection,
                 "ID-1 TR-1 TR-3") {
  Retries(SampleM(), "drop");
}
CONFORMANCE_TEST(TransportTest, CheckAndMutateRow_NoRetry_DroppedConnection,
                 "ID-4 TR-4") {
  DoesNotRetry(CheckAndMutateM(), "drop");
}
CONFORMANCE_TEST(TransportTest, ReadModifyWriteRow_NoRetry_DroppedConnection,
                 "ID-4 TR-4") {
  DoesNotRetry(ReadModifyWriteM(), "drop");
  EXPECT_EQ(CounterN(), "");  // dropped before it ran
}
CONFORMANCE_TEST(TransportTest,
                 MutateRow_NoRetry_ServerTimestampDroppedConnection,
                 "ID-2 TR-4") {
  DoesNotRetry(ServerTimeMutateRowM(), "drop");
}

// --- Retry_ResetMidAnswer / NoRetry_ResetMidAnswer ---------------------------
// The request runs; half its answer arrives; then the connection is reset.

CONFORMANCE_TEST(TransportTest, ReadRow_Retry_ResetMidAnswer,
                 "API-2 ID-1 TR-1 TR-3 RR-6") {
  Arm(kParsed,
      {{"action", "reset"}, {"count", "1"}, {"path", PathOf(ReadRowM())}});
  tpv1::RowResult result = ReadRow("a");
  EXPECT_EQ(result.status().code(), 0) << result.status().message();
  const v1::Cell* cell = CellOf(result, "f", "q");
  if (cell != nullptr) {
    EXPECT_EQ(cell->value(), "a");  // whole, once
  }
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 2);
}
CONFORMANCE_TEST(TransportTest, ReadRows_Retry_ResetMidAnswer,
                 "ID-1 TR-1 TR-3 RR-1 RR-6") {
  // The cut falls inside the first chunk, so inside a message: no half row.
  Arm(kParsed,
      {{"action", "reset"}, {"count", "1"}, {"path", PathOf(ReadRowsM())}});
  tpv1::RowsResult result = ReadRows(v1::ReadRowsRequest());
  EXPECT_EQ(result.status().code(), 0) << result.status().message();
  EXPECT_EQ(Keys(result), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 2);
}
CONFORMANCE_TEST(TransportTest, MutateRow_Retry_ResetMidAnswer,
                 "ID-2 TR-1 TR-3 TR-5") {
  Retries(MutateRowM(), "reset");
  EXPECT_EQ(CellsOfM(), 1);  // applied twice at one timestamp: one cell
}
CONFORMANCE_TEST(TransportTest, BulkMutateRows_Retry_ResetMidAnswer,
                 "ID-3 TR-1 TR-3 BM-3") {
  Retries(BulkM(), "reset");
}
CONFORMANCE_TEST(TransportTest, SampleRowKeys_Retry_ResetMidAnswer,
                 "ID-1 TR-1 TR-3") {
  Retries(SampleM(), "reset");
}
CONFORMANCE_TEST(TransportTest, CheckAndMutateRow_NoRetry_ResetMidAnswer,
                 "ID-4 TR-4") {
  DoesNotRetry(CheckAndMutateM(), "reset");
}
CONFORMANCE_TEST(TransportTest, ReadModifyWriteRow_NoRetry_ResetMidAnswer,
                 "ID-4 TR-4") {
  DoesNotRetry(ReadModifyWriteM(), "reset");
  // Applied once, its answer lost, never resent.
  EXPECT_EQ(CounterN(), std::string("\0\0\0\0\0\0\0\1", 8));
}
CONFORMANCE_TEST(TransportTest, MutateRow_NoRetry_ServerTimestampResetMidAnswer,
                 "ID-2 TR-4") {
  DoesNotRetry(ServerTimeMutateRowM(), "reset");
  EXPECT_EQ(CellsOfM(), 1);  // applied once, not twice
}

// --- Retry_CorruptChunk / NoRetry_CorruptChunk -----------------------------
// The request runs; its answer's head and half its first chunk arrive, then a
// chunk-size line that is not hex, and the connection closes: an answer that
// is not HTTP.

CONFORMANCE_TEST(TransportTest, ReadRow_Retry_CorruptChunk,
                 "API-2 ID-1 TR-1 TR-3") {
  Retries(ReadRowM(), "corrupt_chunk");
}
CONFORMANCE_TEST(TransportTest, ReadRows_Retry_CorruptChunk,
                 "ID-1 TR-1 TR-3 RR-1") {
  Retries(ReadRowsM(), "corrupt_chunk");
}
CONFORMANCE_TEST(TransportTest, MutateRow_Retry_CorruptChunk,
                 "ID-2 TR-1 TR-3 TR-5") {
  Retries(MutateRowM(), "corrupt_chunk");
  EXPECT_EQ(CellsOfM(), 1);
}
CONFORMANCE_TEST(TransportTest, CheckAndMutateRow_NoRetry_CorruptChunk,
                 "ID-4 TR-1 TR-4") {
  DoesNotRetry(CheckAndMutateM(), "corrupt_chunk");
}

// --- A reset inside the status line ----------------------------------------

CONFORMANCE_TEST(TransportTest, ReadRow_Retry_ResetInTheStatusLine,
                 "API-2 ID-1 TR-1 TR-3") {
  Retries(ReadRowM(), "reset", {{"after_bytes", "5"}});  // "HTTP/"
}
CONFORMANCE_TEST(TransportTest, ReadModifyWriteRow_NoRetry_ResetInTheHead,
                 "ID-4 TR-1 TR-4") {
  Arm(kParsed, {{"action", "reset"},
                {"after_bytes", "30"},
                {"count", "1"},
                {"path", PathOf(ReadModifyWriteM())}});
  EXPECT_EQ(ReadModifyWriteM().call(*this),
            Code(absl::StatusCode::kUnavailable));
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1);
  EXPECT_EQ(CounterN(), std::string("\0\0\0\0\0\0\0\1", 8));  // applied once
}

// --- Slow, stalled and late answers (DL-1) ----------------------------------

// An answer that trickles in (100 bytes a second) is waited for: one attempt,
// success.
CONFORMANCE_TEST(TransportTest, ReadRow_Generic_SlowAnswerIsWaitedFor,
                 "DL-1 TR-1") {
  ASSERT_TRUE(CreateClient("patient", 30000).ok());
  CallWith("patient");
  Arm(kParsed, {{"action", "slow"},
                {"bytes_per_s", "100"},
                {"count", "1"},
                {"path", PathOf(ReadRowM())}});
  EXPECT_EQ(ReadRowM().call(*this), 0);
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1);
  std::vector<JournalRecord> attempts = Attempts(ReadRowM(), 1);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_FALSE(attempts[0].cut) << "the client gave up on a slow answer";
  EXPECT_GE(attempts[0].end_us - attempts[0].start_us, 500000)
      << "the answer was not slow";
}
// An answer that stops halfway ends the call at its deadline with
// DEADLINE_EXCEEDED, not before and not as UNAVAILABLE.
CONFORMANCE_TEST(TransportTest, ReadRow_Generic_StalledAnswerEndsAtTheDeadline,
                 "DL-1") {
  ASSERT_TRUE(CreateClient("short", 2000).ok());
  CallWith("short");
  Arm(kParsed, {{"action", "stall"},
                {"after_bytes", "40"},
                {"timeout_ms", "30000"},
                {"path", PathOf(ReadRowM())}});
  EXPECT_EQ(ReadRowM().call(*this), Code(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1);
}
// A write whose answer comes after the call's deadline: DEADLINE_EXCEEDED
// after one attempt, and the write was applied once.
CONFORMANCE_TEST(TransportTest,
                 MutateRow_NoRetry_ServerTimestampAnswerPastTheDeadline,
                 "DL-1 ID-2 TR-4") {
  ASSERT_TRUE(CreateClient("short", 1000).ok());
  CallWith("short");
  Arm(kParsed, {{"action", "delay_headers"},
                {"delay_ms", "3000"},
                {"count", "1"},
                {"path", PathOf(ServerTimeMutateRowM())}});
  EXPECT_EQ(ServerTimeMutateRowM().call(*this),
            Code(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1);
  CallWith(client_id());
  EXPECT_EQ(CellsOfM(), 1);  // applied, not sent again
}

// --- Statuses outside the code <-> HTTP table --------------------------------

CONFORMANCE_TEST(TransportTest, ReadRow_Retry_StatusOutsideTheTable,
                 "API-2 API-3 ID-1 TR-1") {
  Arm(kParsed,
      {{"status", "502"}, {"count", "1"}, {"path", PathOf(ReadRowM())}});
  EXPECT_EQ(ReadRowM().call(*this), 0);  // 5xx: UNAVAILABLE, transient
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 2);
}
CONFORMANCE_TEST(TransportTest, MutateRow_Retry_StatusOutsideTheTable,
                 "API-3 ID-2 TR-1") {
  Arm(kParsed,
      {{"status", "502"}, {"count", "1"}, {"path", PathOf(MutateRowM())}});
  EXPECT_EQ(MutateRowM().call(*this), 0);
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 2);
}
CONFORMANCE_TEST(TransportTest, ReadRow_NoRetry_ClientErrorOutsideTheTable,
                 "API-2 API-3 TR-2") {
  Arm(kParsed, {{"status", "418"}, {"count", "1"}});
  EXPECT_EQ(ReadRow("a").status().code(),
            Code(absl::StatusCode::kFailedPrecondition));  // 4xx: permanent
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1);
}

// Bodies that are not a Status (a proxy in front of the store, a load
// balancer) are read by the HTTP status; a Status body's code wins over it.

CONFORMANCE_TEST(TransportTest, ReadRow_Retry_PlainTextServerError,
                 "API-2 ID-1 API-3 TR-1 TR-3") {
  Arm(kParsed, {{"status", "502"}, {"body", "text"}, {"count", "1"}});
  EXPECT_EQ(ReadRowM().call(*this), 0);  // 5xx outside the table: UNAVAILABLE
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 2);
}
CONFORMANCE_TEST(TransportTest, MutateRow_Retry_PlainTextUnavailable,
                 "ID-2 API-3 TR-1 TR-3") {
  Arm(kParsed, {{"status", "503"}, {"body", "text"}, {"count", "1"}});
  EXPECT_EQ(MutateRowM().call(*this), 0);
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 2);
}
CONFORMANCE_TEST(TransportTest, ReadRow_NoRetry_PlainTextClientError,
                 "API-2 API-3 TR-2") {
  Arm(kParsed, {{"status", "418"}, {"body", "text"}, {"count", "1"}});
  EXPECT_EQ(ReadRow("a").status().code(),
            Code(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1);
}
CONFORMANCE_TEST(TransportTest, ReadRow_NoRetry_BodyCodeGoverns,
                 "API-2 API-3 TR-2") {
  // HTTP 503, but the body says INVALID_ARGUMENT: permanent.
  Arm(kParsed, {{"status", "503"}, {"code", "3"}, {"count", "1"}});
  EXPECT_EQ(ReadRow("a").status().code(),
            Code(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1);
}
CONFORMANCE_TEST(TransportTest, MutateRow_Retry_BodyCodeGoverns,
                 "ID-2 API-3 TR-1 TR-3") {
  // HTTP 400, but the body says UNAVAILABLE: transient.
  Arm(kParsed, {{"status", "400"}, {"code", "14"}, {"count", "1"}});
  EXPECT_EQ(MutateRowM().call(*this), 0);
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 2);
}

}  // namespace
}  // namespace kvstore::conformance
