// The fixture of the fault tests: a store with rows a, b, c and a subscribed
// event stream, every data method as a call that succeeds on a healthy store,
// and the scripted checks that several methods share (retried N times, not
// retried, parked and released, ...). Tests wait on the store's events or
// count them; where they judge time they use the store's own timestamps.
#ifndef KVSTORE_TESTS_CONFORMANCE_FAULT_TEST_H_
#define KVSTORE_TESTS_CONFORMANCE_FAULT_TEST_H_

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/injection_client.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/conformance/harness.h"

namespace kvstore::conformance {

inline constexpr absl::Duration kWait = absl::Seconds(30);
inline constexpr char kParsed[] = "request.parsed";

class FaultTest;

// One data method as a fault test drives it.
struct Method {
  std::string verb;  // the store route it reaches, e.g. "mutateRow"
  // Runs one call on the fixture's current client; returns its status code.
  std::function<int(FaultTest&)> call;
};

// A bulk request of one mutation per entry.
inline v1::MutateRowsRequest BulkOf(
    const std::vector<std::pair<std::string, v1::Mutation>>& entries) {
  v1::MutateRowsRequest bulk;
  for (const auto& [key, mutation] : entries) {
    auto* entry = bulk.add_entries();
    entry->set_row_key(key);
    *entry->add_mutations() = mutation;
  }
  return bulk;
}

// The newest cell of a result's row in `family`:`qualifier`; null (and a test
// failure) when there is none, so a wrong answer fails the test, not the run.
inline const v1::Cell* CellOf(const tpv1::RowResult& result,
                              const std::string& family,
                              const std::string& qualifier) {
  for (const auto& f : result.row().families()) {
    if (f.name() != family) continue;
    for (const auto& c : f.columns()) {
      if (c.qualifier() == qualifier && c.cells_size() > 0) return &c.cells(0);
    }
  }
  ADD_FAILURE() << "no cell " << family << ":" << qualifier << " in the row";
  return nullptr;
}

// How many cells a result's row has in `family`:`qualifier` (0 if none).
inline int CellCount(const tpv1::RowResult& result, const std::string& family,
                     const std::string& qualifier) {
  for (const auto& f : result.row().families()) {
    if (f.name() != family) continue;
    for (const auto& c : f.columns()) {
      if (c.qualifier() == qualifier) return c.cells_size();
    }
  }
  return 0;
}

// Joins `threads` when it goes out of scope, after disarming every point so
// that no call stays parked: a failed ASSERT cannot leave a thread running
// (which would end the whole run). Tests still join explicitly first.
class ReleaseAndJoin {
 public:
  ReleaseAndJoin(InjectionClient& injection, std::vector<std::thread>& threads)
      : injection_(injection), threads_(threads) {}
  ~ReleaseAndJoin() {
    injection_.DisarmAll().IgnoreError();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  InjectionClient& injection_;
  std::vector<std::thread>& threads_;
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
              tpv1::MutateRowsResult r =
                  t.Bulk(BulkOf({{"x", SetCell("f", "q", "v", 1000)},
                                 {"y", SetCell("f", "q", "v", 1000)}}));
              // A call that failed as a whole lists no entries (BM-2): in
              // these tests no attempt gets as far as per-entry answers.
              if (r.status().code() != 0) {
                EXPECT_EQ(r.entries_size(), 0);
              }
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
  // m's route as the store's journal names it.
  static std::string RouteOf(const Method& m) {
    return absl::StrCat(":", m.verb);
  }

  // The attempts the client made at m's route since `point` was last armed,
  // as the store's request journal recorded them (every request that reached
  // the store, answered or dropped, whether or not it got as far as the
  // point): waits for `n` of them. Call after CountUntilDisarmed(point).
  std::vector<JournalRecord> Attempts(const Method& m, int n,
                                      const std::string& point = kParsed) {
    auto got =
        Events().WaitForRequests(RouteOf(m), LastArmedSeq(point), n, kWait);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *std::move(got) : std::vector<JournalRecord>{};
  }
  // How many requests to m's route the journal has shown since `point` was
  // last armed (call after Attempts, to see that there were no more).
  int AttemptsSeen(const Method& m, const std::string& point = kParsed) {
    const uint64_t since = LastArmedSeq(point);
    int n = 0;
    for (const auto& e : Events().Events()) {
      if (e.phase == "request" && e.route == RouteOf(m) && e.seq > since) ++n;
    }
    return n;
  }
  // The seq of `point`'s last `armed` event received (0 if none).
  uint64_t LastArmedSeq(const std::string& point) {
    uint64_t seq = 0;
    for (const auto& e : Events().Events()) {
      if (e.injection == point && e.phase == "armed") seq = e.seq;
    }
    return seq;
  }
  // Store time from the end of one attempt's answer to the start of the next
  // (the request read whole): at most how long the client waited between.
  static absl::Duration GapBetween(const JournalRecord& earlier,
                                   const JournalRecord& later) {
    return absl::Microseconds(later.start_us - earlier.end_us);
  }

  // Arms request.parsed to answer m's requests 503: the first `count` of
  // them (0: every one), with a Retry-After of `retry_after_s` if >= 0.
  void Fail503(const Method& m, int count, int retry_after_s = -1) {
    std::map<std::string, std::string> fault = {{"status", "503"},
                                                {"path", PathOf(m)}};
    if (count > 0) fault["count"] = absl::StrCat(count);
    if (retry_after_s >= 0) fault["retry_after"] = absl::StrCat(retry_after_s);
    Arm(kParsed, fault);
  }

  // N one-shot 503s, then success: the store saw exactly N+1 attempts, the
  // first N answered 503 and the last 200.
  void RetriesTransientErrors(const Method& m) {
    constexpr int kFailures = 2;
    Fail503(m, kFailures);
    EXPECT_EQ(m.call(*this), 0);
    EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), kFailures + 1);
    EXPECT_EQ(Events().Count(kParsed, "fired"), kFailures);
    std::vector<JournalRecord> attempts = Attempts(m, kFailures + 1);
    ASSERT_EQ(attempts.size(), kFailures + 1u);
    for (int i = 0; i < kFailures; ++i) {
      EXPECT_EQ(attempts[i].status, 503) << "attempt " << i + 1;
    }
    EXPECT_EQ(attempts.back().status, 200);
    EXPECT_EQ(AttemptsSeen(m), kFailures + 1) << "requests after the success";
  }

  // One 503 and no retry: exactly one attempt.
  void DoesNotRetry(const Method& m) {
    Fail503(m, 1);
    EXPECT_EQ(m.call(*this), Code(absl::StatusCode::kUnavailable));
    EXPECT_EQ(CountUntilDisarmed(kParsed, "hit"), 1);
    EXPECT_EQ(Attempts(m, 1).size(), 1u);
    EXPECT_EQ(AttemptsSeen(m), 1) << "a request after the 503";
  }

  // A 503 with Retry-After: 1 is retried no sooner than a second after its
  // answer was sent (from the store's own journal timestamps).
  void HonoursRetryAfter(const Method& m) {
    Fail503(m, 1, /*retry_after_s=*/1);
    EXPECT_EQ(m.call(*this), 0);
    ASSERT_EQ(CountUntilDisarmed(kParsed, "hit"), 2);
    std::vector<JournalRecord> attempts = Attempts(m, 2);
    ASSERT_EQ(attempts.size(), 2u);
    EXPECT_EQ(attempts[0].status, 503);
    EXPECT_GE(GapBetween(attempts[0], attempts[1]), absl::Seconds(1));
  }

  // A call parked past its per-operation timeout ends DEADLINE_EXCEEDED (the
  // store would hold it for a minute; TearDown releases it).
  void TimesOut(const Method& m) {
    ASSERT_TRUE(CreateClient("short", 2000).ok());
    CallWith("short");
    Arm(kParsed, {{"action", "pause"}, {"path", PathOf(m)}});
    EXPECT_EQ(m.call(*this), Code(absl::StatusCode::kDeadlineExceeded));
  }

  // Runs `n` calls at once, parks all of them at the store, then `between`,
  // then releases them; returns their status codes.
  // With `park_once`, only the first n requests park (a retry passes).
  std::vector<int> ParkAndRelease(const Method& m, int n,
                                  const std::function<void()>& between,
                                  bool park_once = false) {
    std::map<std::string, std::string> pause = {{"action", "pause"},
                                                {"path", PathOf(m)}};
    if (park_once) pause["count"] = absl::StrCat(n);
    Arm(kParsed, pause);
    std::vector<int> codes(n, -1);
    std::vector<std::thread> calls;
    ReleaseAndJoin guard(Injection(), calls);
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

  // RemoveClient with calls in flight: they keep their client and finish.
  void RemovesWithCallsInFlight(const Method& m) {
    std::vector<int> codes = ParkAndRelease(
        m, 3, [&] { ASSERT_TRUE(RemoveClient(client_id()).ok()); });
    for (int code : codes) EXPECT_EQ(code, 0);
  }

  // CloseClient with calls in flight, each of which then fails transiently
  // once at `later_point` (armed with `fault`): they still retry and succeed.
  void RetriesAfterClose(const Method& m, const std::string& later_point,
                         std::map<std::string, std::string> fault) {
    fault["count"] = "3";
    Arm(later_point, fault);
    std::vector<int> codes = ParkAndRelease(
        m, 3, [&] { ASSERT_TRUE(CloseClient(client_id()).ok()); },
        /*park_once=*/true);
    for (int code : codes) EXPECT_EQ(code, 0);
    EXPECT_EQ(CountUntilDisarmed(later_point, "fired"), 3);
  }

  // CloseClient with calls in flight: they finish; a new call fails.
  void ClosesWithCallsInFlight(const Method& m) {
    std::vector<int> codes = ParkAndRelease(m, 3, [&] {
      ASSERT_TRUE(CloseClient(client_id()).ok());
      EXPECT_EQ(m.call(*this), Code(absl::StatusCode::kFailedPrecondition));
    });
    for (int code : codes) EXPECT_EQ(code, 0);
  }

  // The events of `point` with `phase` received so far, in order (call after
  // CountUntilDisarmed to have them all).
  std::vector<InjectionEventRecord> EventsOf(const std::string& point,
                                             const std::string& phase) {
    std::vector<InjectionEventRecord> out;
    for (auto& e : Events().Events()) {
      if (e.injection == point && e.phase == phase) out.push_back(e);
    }
    return out;
  }

  // Store time from the first `hit` of `point` to its `disarmed` event, which
  // comes after the call under test returned: an upper bound on how long the
  // call went on after its first attempt reached the store. Disarms.
  absl::Duration StoreTimeFromFirstHitToDisarm(const std::string& point) {
    CountUntilDisarmed(point, "hit");
    std::vector<InjectionEventRecord> hits = EventsOf(point, "hit");
    std::vector<InjectionEventRecord> ends = EventsOf(point, "disarmed");
    if (hits.empty() || ends.empty()) {
      ADD_FAILURE() << "no hit or no disarmed event of " << point;
      return absl::ZeroDuration();
    }
    return absl::Microseconds(TimestampMicros(ends.back()) -
                              TimestampMicros(hits.front()));
  }

  static int64_t TimestampMicros(const InjectionEventRecord& e) {
    google::protobuf::Struct data;
    EXPECT_TRUE(
        google::protobuf::util::JsonStringToMessage(e.data, &data).ok());
    return static_cast<int64_t>(data.fields().at("ts_us").number_value());
  }
};

}  // namespace kvstore::conformance

#endif  // KVSTORE_TESTS_CONFORMANCE_FAULT_TEST_H_
