// Faults scripted on the real store through its error-injection points, seen
// through the proxy: retries of transient errors (and none for non-idempotent
// calls), Retry-After, deadlines, CloseClient with calls in flight, many calls
// parked at once, readRows resumption, bulk entries retried alone, and writes
// that fail after they were committed. No timing windows: every test waits on
// the store's events ("N requests are parked") or counts them.
#include <algorithm>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/conformance/harness.h"

namespace kvstore::conformance {
namespace {

constexpr absl::Duration kWait = absl::Seconds(30);
constexpr char kParsed[] = "request.parsed";

class FaultTest;

// One data method as a fault test drives it.
struct Method {
  std::string verb;  // the store route it reaches, e.g. "mutateRow"
  // Runs one call on the fixture's current client; returns its status code.
  std::function<int(FaultTest&)> call;
};

class FaultTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    if (HasFatalFailure()) return;
    Put({"a", "b", "c"});
    ASSERT_TRUE(SubscribeToEvents());
  }

  // The methods, each making a call that succeeds on a healthy store.
  // Idempotent ones use explicit timestamps.
  Method ReadRowM() {
    return {"readRows",
            [](FaultTest& t) { return t.ReadRow("a").status().code(); }};
  }
  Method ReadRowsM() {
    return {"readRows", [](FaultTest& t) {
              return t.ReadRows(v1::ReadRowsRequest()).status().code();
            }};
  }
  Method MutateRowM() {
    return {
        "mutateRow", [](FaultTest& t) {
          return t.Mutate("m", {SetCell("f", "q", "v", 1000)}).status().code();
        }};
  }
  Method ServerTimeMutateRowM() {  // not idempotent: timestamp -1
    return {"mutateRow", [](FaultTest& t) {
              return t.Mutate("m", {SetCell("f", "q", "v")}).status().code();
            }};
  }
  Method BulkM() {
    return {"mutateRows", [](FaultTest& t) {
              v1::MutateRowsRequest bulk;
              for (const char* key : {"x", "y"}) {
                auto* e = bulk.add_entries();
                e->set_row_key(key);
                *e->add_mutations() = SetCell("f", "q", "v", 1000);
              }
              tpv1::MutateRowsResult r = t.Bulk(bulk);
              return r.status().code();
            }};
  }
  Method CheckAndMutateM() {
    return {"checkAndMutateRow", [](FaultTest& t) {
              v1::CheckAndMutateRowRequest cam;
              cam.set_row_key("a");
              *cam.add_true_mutations() = SetCell("f", "q", "v", 1000);
              return t.CheckAndMutate(cam).status().code();
            }};
  }
  Method ReadModifyWriteM() {
    return {"readModifyWriteRow", [](FaultTest& t) {
              return t.ReadModifyWrite("n", {IncrementBy("f", "c", 1)})
                  .status()
                  .code();
            }};
  }
  Method SampleM() {
    return {"sampleRowKeys",
            [](FaultTest& t) { return t.Sample().status().code(); }};
  }

  static std::string PathOf(const Method& m) {
    return absl::StrCat("/v1/tables/t:", m.verb);
  }

  // N one-shot 503s, then success: the store saw exactly N+1 attempts.
  void RetriesTransientErrors(const Method& m) {
    constexpr int kFailures = 2;
    Arm(kParsed, {{"status", "503"},
                  {"count", absl::StrCat(kFailures)},
                  {"path", PathOf(m)}});
    EXPECT_EQ(m.call(*this), 0);
    EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), kFailures + 1);
    EXPECT_EQ(Events().Count(kParsed, "fired"), kFailures);
  }

  // One 503 and no retry: exactly one attempt.
  void DoesNotRetry(const Method& m) {
    Arm(kParsed, {{"status", "503"}, {"count", "1"}, {"path", PathOf(m)}});
    EXPECT_EQ(m.call(*this), Code(absl::StatusCode::kUnavailable));
    EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1);
  }

  // A 503 with Retry-After: 1 is retried no sooner than a second later (from
  // the store's own timestamps).
  void HonoursRetryAfter(const Method& m) {
    Arm(kParsed, {{"status", "503"},
                  {"count", "1"},
                  {"retry_after", "1"},
                  {"path", PathOf(m)}});
    EXPECT_EQ(m.call(*this), 0);
    ASSERT_EQ(CountUntilDisarmed(kParsed, "hit"), 2);
    std::vector<InjectionEventRecord> hits;
    for (const auto& e : Events().Events()) {
      if (e.injection == kParsed && e.phase == "hit") hits.push_back(e);
    }
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_GE(TimestampMicros(hits[1]) - TimestampMicros(hits[0]), 1000000);
  }

  // A call parked past its per-operation timeout ends DEADLINE_EXCEEDED.
  void TimesOut(const Method& m) {
    ASSERT_TRUE(CreateClient("short", 300).ok());
    CallWith("short");
    Arm(kParsed, {{"action", "pause"}, {"path", PathOf(m)}});
    EXPECT_EQ(m.call(*this), Code(absl::StatusCode::kDeadlineExceeded));
    ASSERT_TRUE(Events().WaitFor(kParsed, "paused", kWait).ok());
    ASSERT_TRUE(Injection().Message(kParsed).ok());  // release the store side
    ASSERT_TRUE(Events().WaitFor(kParsed, "released", kWait).ok());
  }

  // Runs `n` calls at once, parks all of them at the store, then `between`,
  // then releases them; returns their status codes.
  std::vector<int> ParkAndRelease(const Method& m, int n,
                                  const std::function<void()>& between) {
    Arm(kParsed, {{"action", "pause"}, {"path", PathOf(m)}});
    std::vector<int> codes(n, -1);
    std::vector<std::thread> calls;
    for (int i = 0; i < n; ++i) {
      calls.emplace_back([&, i] { codes[i] = m.call(*this); });
    }
    auto parked = Events().WaitForCount(kParsed, "paused", n, kWait);
    EXPECT_TRUE(parked.ok()) << parked.status();
    auto state = Injection().State(kParsed);
    EXPECT_TRUE(state.ok());
    if (state.ok()) {
      EXPECT_EQ(state->waiting, n);  // all in flight at once
    }
    between();
    EXPECT_TRUE(Injection().Message(kParsed).ok());
    for (auto& t : calls) t.join();
    return codes;
  }

  void ServesManyCallsAtOnce(const Method& m) {
    for (int code : ParkAndRelease(m, 5, [] {})) EXPECT_EQ(code, 0);
  }

  // CloseClient with calls in flight: they finish; a new call fails.
  void ClosesWithCallsInFlight(const Method& m) {
    std::vector<int> codes = ParkAndRelease(m, 3, [&] {
      ASSERT_TRUE(CloseClient(client_id()).ok());
      EXPECT_EQ(m.call(*this), Code(absl::StatusCode::kFailedPrecondition));
    });
    for (int code : codes) EXPECT_EQ(code, 0);
  }

  static int64_t TimestampMicros(const InjectionEventRecord& e) {
    google::protobuf::Struct data;
    EXPECT_TRUE(
        google::protobuf::util::JsonStringToMessage(e.data, &data).ok());
    return static_cast<int64_t>(data.fields().at("ts_us").number_value());
  }
};

// --- Retry_TransientError (idempotent) / NoRetry_TransientError ------------

TEST_F(FaultTest, ReadRow_Retry_TransientError) {
  RetriesTransientErrors(ReadRowM());
}
TEST_F(FaultTest, ReadRows_Retry_TransientError) {
  RetriesTransientErrors(ReadRowsM());
}
TEST_F(FaultTest, MutateRow_Retry_TransientError) {
  RetriesTransientErrors(MutateRowM());
}
TEST_F(FaultTest, BulkMutateRows_Retry_TransientError) {
  RetriesTransientErrors(BulkM());
}
TEST_F(FaultTest, SampleRowKeys_Retry_TransientError) {
  RetriesTransientErrors(SampleM());
}
TEST_F(FaultTest, CheckAndMutateRow_NoRetry_TransientError) {
  DoesNotRetry(CheckAndMutateM());
}
TEST_F(FaultTest, ReadModifyWriteRow_NoRetry_TransientError) {
  DoesNotRetry(ReadModifyWriteM());
}
TEST_F(FaultTest, MutateRow_NoRetry_ServerTimestampTransientError) {
  DoesNotRetry(ServerTimeMutateRowM());
}

TEST_F(FaultTest, ReadRow_NoRetry_PermanentError) {
  Arm(kParsed, {{"status", "400"}, {"count", "1"}});
  EXPECT_EQ(ReadRow("a").status().code(),
            Code(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1);
}

// --- Retry_RetryAfter --------------------------------------------------------

TEST_F(FaultTest, ReadRow_Retry_RetryAfter) { HonoursRetryAfter(ReadRowM()); }
TEST_F(FaultTest, MutateRow_Retry_RetryAfter) {
  HonoursRetryAfter(MutateRowM());
}
TEST_F(FaultTest, SampleRowKeys_Retry_RetryAfter) {
  HonoursRetryAfter(SampleM());
}

// --- Generic_DeadlineExceeded ------------------------------------------------

TEST_F(FaultTest, ReadRow_Generic_DeadlineExceeded) { TimesOut(ReadRowM()); }
TEST_F(FaultTest, ReadRows_Generic_DeadlineExceeded) { TimesOut(ReadRowsM()); }
TEST_F(FaultTest, MutateRow_Generic_DeadlineExceeded) {
  TimesOut(MutateRowM());
}
TEST_F(FaultTest, BulkMutateRows_Generic_DeadlineExceeded) {
  TimesOut(BulkM());
}
TEST_F(FaultTest, CheckAndMutateRow_Generic_DeadlineExceeded) {
  TimesOut(CheckAndMutateM());
}
TEST_F(FaultTest, ReadModifyWriteRow_Generic_DeadlineExceeded) {
  TimesOut(ReadModifyWriteM());
}
TEST_F(FaultTest, SampleRowKeys_Generic_DeadlineExceeded) {
  TimesOut(SampleM());
}

// --- Generic_CloseClient -----------------------------------------------------

TEST_F(FaultTest, ReadRow_Generic_CloseClient) {
  ClosesWithCallsInFlight(ReadRowM());
}
TEST_F(FaultTest, ReadRows_Generic_CloseClient) {
  ClosesWithCallsInFlight(ReadRowsM());
}
TEST_F(FaultTest, MutateRow_Generic_CloseClient) {
  ClosesWithCallsInFlight(MutateRowM());
}
TEST_F(FaultTest, BulkMutateRows_Generic_CloseClient) {
  ClosesWithCallsInFlight(BulkM());
}
TEST_F(FaultTest, CheckAndMutateRow_Generic_CloseClient) {
  ClosesWithCallsInFlight(CheckAndMutateM());
}
TEST_F(FaultTest, ReadModifyWriteRow_Generic_CloseClient) {
  ClosesWithCallsInFlight(ReadModifyWriteM());
}
TEST_F(FaultTest, SampleRowKeys_Generic_CloseClient) {
  ClosesWithCallsInFlight(SampleM());
}

// --- Generic_MultiStreams ----------------------------------------------------

TEST_F(FaultTest, ReadRow_Generic_MultiStreams) {
  ServesManyCallsAtOnce(ReadRowM());
}
TEST_F(FaultTest, ReadRows_Generic_MultiStreams) {
  ServesManyCallsAtOnce(ReadRowsM());
}
TEST_F(FaultTest, MutateRow_Generic_MultiStreams) {
  ServesManyCallsAtOnce(MutateRowM());
}
TEST_F(FaultTest, BulkMutateRows_Generic_MultiStreams) {
  ServesManyCallsAtOnce(BulkM());
}
TEST_F(FaultTest, CheckAndMutateRow_Generic_MultiStreams) {
  ServesManyCallsAtOnce(CheckAndMutateM());
}
TEST_F(FaultTest, ReadModifyWriteRow_Generic_MultiStreams) {
  ServesManyCallsAtOnce(ReadModifyWriteM());
}
TEST_F(FaultTest, SampleRowKeys_Generic_MultiStreams) {
  ServesManyCallsAtOnce(SampleM());
}

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

  // Every row of the table, in the scan's order, exactly once.
  void ExpectWholeTable(const tpv1::RowsResult& result, bool reversed) {
    ASSERT_EQ(result.status().code(), 0) << result.status().message();
    std::vector<std::string> want = {"a", "b", "c"};
    for (int i = 0; i < 20; ++i) want.push_back(absl::StrCat("r", 10 + i));
    if (reversed) std::reverse(want.begin(), want.end());
    EXPECT_EQ(Keys(result), want);
  }
};

TEST_F(ResumeTest, ReadRows_Retry_ResumesAfterATruncatedStream) {
  Arm("read_rows.row",
      {{"action", "truncate"}, {"after_rows", "7"}, {"count", "1"}});
  ExpectWholeTable(ReadRows(v1::ReadRowsRequest()), false);
  EXPECT_EQ(CountUntilDisarmed("read_rows.row", "fired"), 1);
}

TEST_F(ResumeTest, ReadRows_Retry_ResumesAReversedScanBeforeTheLastRow) {
  Arm("read_rows.row",
      {{"action", "truncate"}, {"after_rows", "5"}, {"count", "1"}});
  v1::ReadRowsRequest request;
  request.set_reversed(true);
  ExpectWholeTable(ReadRows(request), true);
  EXPECT_EQ(CountUntilDisarmed("read_rows.row", "fired"), 1);
}

TEST_F(ResumeTest, ReadRows_Retry_ResumesAfterAnInBandUnavailable) {
  Arm("read_rows.row",
      {{"status", "503"}, {"after_rows", "11"}, {"count", "2"}});
  ExpectWholeTable(ReadRows(v1::ReadRowsRequest()), false);
  EXPECT_EQ(CountUntilDisarmed("read_rows.row", "fired"), 2);
}

TEST_F(ResumeTest, ReadRows_Retry_ResumedScansKeepTheirRowsLimit) {
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

TEST_F(ResumeTest, ReadRows_NoRetry_NotForPermanentInBandErrors) {
  Arm("read_rows.row", {{"status", "500"}, {"after_rows", "3"}});
  tpv1::RowsResult result = ReadRows(v1::ReadRowsRequest());
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kInternal));
  EXPECT_EQ(result.rows_size(), 3);
  EXPECT_EQ(CountUntilDisarmed("read_rows.row", "fired"), 1);
}

// --- Bulk entries retried alone ---------------------------------------------

TEST_F(FaultTest, BulkMutateRows_Retry_OnlyTransientlyFailedEntries) {
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

TEST_F(FaultTest, BulkMutateRows_NoRetry_ServerTimestampEntries) {
  Arm("mutate_rows.entry", {{"status", "503"}, {"row_key", "st"}});
  v1::MutateRowsRequest bulk;
  auto* e = bulk.add_entries();
  e->set_row_key("st");
  *e->add_mutations() = SetCell("f", "q", "v");  // server time
  auto* ok = bulk.add_entries();
  ok->set_row_key("fine");
  *ok->add_mutations() = SetCell("f", "q", "v");
  tpv1::MutateRowsResult result = Bulk(bulk);
  ASSERT_EQ(result.entries_size(), 1);
  EXPECT_EQ(result.entries(0).index(), 0);
  EXPECT_EQ(result.entries(0).status().code(),
            Code(absl::StatusCode::kUnavailable));
  EXPECT_EQ(CountUntilDisarmed("mutate_rows.entry", "hit"), 1);
}

// --- Failed after commit -----------------------------------------------------

TEST_F(FaultTest, ReadModifyWriteRow_NoRetry_FailedAfterCommitIsApplied) {
  Arm("mutation.after_commit", {{"status", "503"}, {"count", "1"}});
  tpv1::RowResult failed = ReadModifyWrite("n", {IncrementBy("f", "c", 5)});
  EXPECT_EQ(failed.status().code(), Code(absl::StatusCode::kUnavailable));
  // Applied once, not retried: the counter is 5.
  tpv1::RowResult read = ReadRow("n");
  ASSERT_TRUE(read.has_row());
  EXPECT_EQ(read.row().families(0).columns(0).cells(0).value(),
            std::string("\0\0\0\0\0\0\0\5", 8));
}

TEST_F(FaultTest, MutateRow_Retry_FailedAfterCommitIsAppliedOnce) {
  Arm("mutation.after_commit", {{"status", "503"}, {"count", "1"}});
  EXPECT_EQ(Mutate("m", {SetCell("f", "q", "v", 1000)}).status().code(), 0);
  EXPECT_EQ(CountUntilDisarmed("mutation.after_commit", "hit"), 2);
  tpv1::RowResult read = ReadRow("m");
  ASSERT_TRUE(read.has_row());
  EXPECT_EQ(read.row().families(0).columns(0).cells_size(), 1);
}

TEST_F(FaultTest, CheckAndMutateRow_NoRetry_FailedBeforeCommitIsNotApplied) {
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
