// ReadRows resumed after a transient failure mid-stream (a cut stream, an
// in-band UNAVAILABLE, a reset), for every shape of request: the whole table,
// keys, ranges with each kind of bound, forward and reversed, with rows_limit
// and filters. No row twice, none skipped, nothing outside the row set.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tests/common/status_matchers.h"
#include "tests/conformance/fault_test.h"

using ::kvstore::testing::IsOk;

namespace kvstore::conformance {
namespace {

// --- ReadRows resumption -----------------------------------------------------

class ResumeTest : public FaultTest {
 protected:
  void SetUp() override {
    FaultTest::SetUp();
    if (HasFatalFailure()) return;
    std::vector<std::string> keys;
    for (int i = 0; i < 20; ++i) keys.push_back(absl::StrCat("r", 10 + i));
    Put(keys);
  }

  // Reads `request` with one fault after `after_rows` rows: an in-band 503
  // (`cut` false) or a cut stream (`cut` true); expects exactly `want`.
  void ExpectResumed(const v1::ReadRowsRequest& request, int after_rows,
                     bool cut, const std::vector<std::string>& want) {
    std::map<std::string, std::string> fault = {
        {"after_rows", absl::StrCat(after_rows)}, {"count", "1"}};
    if (cut) {
      fault["action"] = "truncate";
    } else {
      fault["status"] = "503";
    }
    Arm("read_rows.row", fault);
    tpv1::RowsResult result = ReadRows(request);
    EXPECT_EQ(result.status().code(), 0) << result.status().message();
    EXPECT_EQ(Keys(result), want);
    EXPECT_EQ(CountUntilDisarmed("read_rows.row", "fired"), 1);
  }

  static v1::RowRange Range(const std::string& start, bool start_closed,
                            const std::string& end, bool end_closed) {
    v1::RowRange range;
    if (start_closed) {
      range.set_start_closed(start);
    } else {
      range.set_start_open(start);
    }
    if (end_closed) {
      range.set_end_closed(end);
    } else {
      range.set_end_open(end);
    }
    return range;
  }

  // [r11, r14), (r16, r19], (r22, r25), [r27, r28]: ten rows.
  static v1::ReadRowsRequest FourRanges() {
    v1::ReadRowsRequest request;
    auto* rows = request.mutable_rows();
    *rows->add_row_ranges() = Range("r11", true, "r14", false);
    *rows->add_row_ranges() = Range("r16", false, "r19", true);
    *rows->add_row_ranges() = Range("r22", false, "r25", false);
    *rows->add_row_ranges() = Range("r27", true, "r28", true);
    return request;
  }
  static std::vector<std::string> FourRangesRows() {
    return {"r11", "r12", "r13", "r17", "r18",
            "r19", "r23", "r24", "r27", "r28"};
  }

  // Keys a and c, and [r20, "") (no end).
  static v1::ReadRowsRequest KeysAndOpenRange() {
    v1::ReadRowsRequest request;
    request.mutable_rows()->add_row_keys("c");
    request.mutable_rows()->add_row_keys("a");
    v1::RowRange* open = request.mutable_rows()->add_row_ranges();
    open->set_start_closed("r20");
    open->set_end_open("");
    return request;
  }

  // Every row of the table, in the scan's order, exactly once.
  void ExpectWholeTable(const tpv1::RowsResult& result, bool reversed) {
    ASSERT_EQ(result.status().code(), 0) << result.status().message();
    std::vector<std::string> want = {"a", "b", "c"};
    for (int i = 0; i < 20; ++i) want.push_back(absl::StrCat("r", 10 + i));
    if (reversed) std::reverse(want.begin(), want.end());
    EXPECT_EQ(Keys(result), want);
  }
};

CONFORMANCE_TEST(ResumeTest, ReadRows_Retry_ResumesAfterATruncatedStream,
                 "ID-1 TR-1 RR-1 RR-2 RR-6") {
  Arm("read_rows.row",
      {{"action", "truncate"}, {"after_rows", "7"}, {"count", "1"}});
  ExpectWholeTable(ReadRows(v1::ReadRowsRequest()), false);
  EXPECT_EQ(CountUntilDisarmed("read_rows.row", "fired"), 1);
}

CONFORMANCE_TEST(ResumeTest,
                 ReadRows_Retry_ResumesAReversedScanBeforeTheLastRow,
                 "ID-1 TR-1 RR-1 RR-2") {
  Arm("read_rows.row",
      {{"action", "truncate"}, {"after_rows", "5"}, {"count", "1"}});
  v1::ReadRowsRequest request;
  request.set_reversed(true);
  ExpectWholeTable(ReadRows(request), true);
  EXPECT_EQ(CountUntilDisarmed("read_rows.row", "fired"), 1);
}

CONFORMANCE_TEST(ResumeTest, ReadRows_Retry_ResumesAfterAnInBandUnavailable,
                 "ID-1 TR-1 RR-1 RR-2") {
  Arm("read_rows.row",
      {{"status", "503"}, {"after_rows", "11"}, {"count", "2"}});
  ExpectWholeTable(ReadRows(v1::ReadRowsRequest()), false);
  EXPECT_EQ(CountUntilDisarmed("read_rows.row", "fired"), 2);
}

CONFORMANCE_TEST(ResumeTest, ReadRows_Retry_ResumedScansKeepTheirRowsLimit,
                 "ID-1 TR-1 RR-1 RR-2 RR-3") {
  Arm("read_rows.row",
      {{"action", "truncate"}, {"after_rows", "4"}, {"count", "1"}});
  v1::ReadRowsRequest request;
  request.set_rows_limit(9);
  tpv1::RowsResult result = ReadRows(request);
  ASSERT_EQ(result.status().code(), 0);
  EXPECT_EQ(Keys(result),
            (std::vector<std::string>{"a", "b", "c", "r10", "r11", "r12", "r13",
                                      "r14", "r15"}));
}

CONFORMANCE_TEST(ResumeTest, ReadRows_NoRetry_NotForPermanentInBandErrors,
                 "TR-2 RR-7") {
  Arm("read_rows.row", {{"status", "500"}, {"after_rows", "3"}});
  tpv1::RowsResult result = ReadRows(v1::ReadRowsRequest());
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kInternal));
  EXPECT_EQ(result.rows_size(), 3);
  EXPECT_EQ(CountUntilDisarmed("read_rows.row", "fired"), 1);
}

// --- Resumed within explicit row sets ---------------------------------------

CONFORMANCE_TEST(ResumeTest, ReadRows_Retry_ResumesWithinKeys,
                 "ID-1 TR-1 RR-1 RR-2") {
  v1::ReadRowsRequest request;
  for (const char* key : {"r24", "r12", "b", "r21", "r15", "r18", "zz"}) {
    request.mutable_rows()->add_row_keys(key);
  }
  ExpectResumed(request, 2, true, {"b", "r12", "r15", "r18", "r21", "r24"});
}

CONFORMANCE_TEST(ResumeTest, ReadRows_Retry_ResumesWithinKeysReversed,
                 "ID-1 TR-1 RR-1 RR-2") {
  v1::ReadRowsRequest request;
  for (const char* key : {"r24", "r12", "b", "r21", "r15", "r18", "zz"}) {
    request.mutable_rows()->add_row_keys(key);
  }
  request.set_reversed(true);
  ExpectResumed(request, 2, false, {"r24", "r21", "r18", "r15", "r12", "b"});
}

CONFORMANCE_TEST(ResumeTest, ReadRows_Retry_ResumesWithinKeysAfterTheLastOne,
                 "ID-1 TR-1 RR-1 RR-2 RR-4") {
  // The fault comes after the last key's row: nothing is left to read, and
  // the read is complete (a resend of an empty row set would read the table).
  v1::ReadRowsRequest request;
  request.mutable_rows()->add_row_keys("r12");
  request.mutable_rows()->add_row_keys("r15");
  Arm(kParsed, {{"skip", "1000000000"}});  // counts attempts, never fires
  ExpectResumed(request, 2, false, {"r12", "r15"});
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1) << "a needless attempt";
}

CONFORMANCE_TEST(ResumeTest, ReadRows_Retry_ResumesWithinRanges,
                 "ID-1 TR-1 RR-1 RR-2") {
  ExpectResumed(FourRanges(), 4, true, FourRangesRows());
}

CONFORMANCE_TEST(ResumeTest, ReadRows_Retry_ResumesWithinRangesAtABound,
                 "ID-1 TR-1 RR-1 RR-2") {
  // The cut comes right after r19, a closed end: the next range follows.
  ExpectResumed(FourRanges(), 6, false, FourRangesRows());
}

CONFORMANCE_TEST(ResumeTest, ReadRows_Retry_ResumesWithinRangesReversed,
                 "ID-1 TR-1 RR-1 RR-2") {
  v1::ReadRowsRequest request = FourRanges();
  request.set_reversed(true);
  std::vector<std::string> want = FourRangesRows();
  std::reverse(want.begin(), want.end());
  ExpectResumed(request, 4, true, want);
}

CONFORMANCE_TEST(ResumeTest,
                 ReadRows_Retry_ResumesWithinKeysAndRangesWithALimit,
                 "ID-1 TR-1 RR-1 RR-2 RR-3") {
  v1::ReadRowsRequest request = KeysAndOpenRange();
  request.set_rows_limit(6);
  ExpectResumed(request, 3, true, {"a", "c", "r20", "r21", "r22", "r23"});
}

CONFORMANCE_TEST(ResumeTest,
                 ReadRows_Retry_ResumesWithinKeysAndRangesLimitReached,
                 "ID-1 TR-1 RR-1 RR-2 RR-3 RR-4") {
  // The fault comes once the limit's rows were all delivered: the read is
  // complete (a resend with rows_limit 0 would read without a limit).
  v1::ReadRowsRequest request = KeysAndOpenRange();
  request.set_rows_limit(3);
  Arm(kParsed, {{"skip", "1000000000"}});  // counts attempts, never fires
  ExpectResumed(request, 3, false, {"a", "c", "r20"});
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1) << "a needless attempt";
}

CONFORMANCE_TEST(ResumeTest,
                 ReadRows_Retry_ResumesWithinReversedRangesWithALimit,
                 "ID-1 TR-1 RR-1 RR-2 RR-3") {
  v1::ReadRowsRequest request;
  *request.mutable_rows()->add_row_ranges() = Range("b", true, "r12", true);
  *request.mutable_rows()->add_row_ranges() = Range("r20", false, "r25", false);
  request.set_reversed(true);
  request.set_rows_limit(6);
  ExpectResumed(request, 2, true, {"r24", "r23", "r22", "r21", "r12", "r11"});
}

CONFORMANCE_TEST(ResumeTest, ReadRows_Retry_ResumesWithinRangesWithAFilter,
                 "ID-1 TR-1 RR-1 RR-2") {
  v1::ReadRowsRequest request;
  *request.mutable_rows()->add_row_ranges() = Range("b", true, "r15", true);
  request.mutable_filter()->set_row_key_regex("r1.*");
  ExpectResumed(request, 3, true, {"r10", "r11", "r12", "r13", "r14", "r15"});
}

CONFORMANCE_TEST(ResumeTest, ReadRows_Generic_RowsBeforeAFailureAreKept,
                 "RR-7") {
  // Three rows, an in-band 503, then the retry is held past the deadline.
  ASSERT_THAT(CreateClient("short", 1000), IsOk());
  CallWith("short");
  Arm("read_rows.row",
      {{"status", "503"}, {"after_rows", "3"}, {"count", "1"}});
  Arm(kParsed, {{"action", "pause"}, {"skip", "1"}, {"count", "1"}});
  tpv1::RowsResult result = ReadRows(v1::ReadRowsRequest());
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(Keys(result), (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_THAT(Events().WaitFor(kParsed, "paused", kWait), IsOk());
}

CONFORMANCE_TEST(ResumeTest, ReadRows_Retry_AttemptBudgetCountsResumedAttempts,
                 "ID-1 RR-1 BO-2 RR-7") {
  // Every stream fails after one row: progress does not renew the budget, so
  // the read ends UNAVAILABLE after 10 attempts, with their 10 rows.
  Arm("read_rows.row", {{"status", "503"}, {"after_rows", "1"}});
  Arm(kParsed, {{"skip", "1000000000"}});  // counts attempts, never fires
  tpv1::RowsResult result = ReadRows(v1::ReadRowsRequest());
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kUnavailable));
  EXPECT_EQ(Keys(result),
            (std::vector<std::string>{"a", "b", "c", "r10", "r11", "r12", "r13",
                                      "r14", "r15", "r16"}));
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 10);
}

}  // namespace
}  // namespace kvstore::conformance
