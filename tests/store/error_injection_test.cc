// Error injection over HTTP against the real binary: the control routes, each
// point where it sits (seed, data requests, before/after commit, bulk entries,
// readRows streams, storage writes), the actions, and the event stream with
// the C++ InjectionClient and InjectionEventStream. No sleeps: tests wait on
// events.
#include <sys/wait.h>

#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/builders.h"
#include "client/client.h"
#include "client/injection_client.h"
#include "client/injection_event_stream.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/http_test_client.h"
#include "tests/common/raw_exchange.h"
#include "tests/common/server_process.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"

using ::kvstore::testing::IsOk;
using ::kvstore::testing::StatusIs;

namespace kvstore {
namespace {

using ::testing::HasSubstr;
using testing::HttpResult;
using testing::HttpTestClient;
using testing::ServerProcess;

constexpr absl::Duration kWait = absl::Seconds(20);

TEST(ErrorInjectionOffTest, EveryRouteSaysHowToTurnItOn) {
  auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, {"--in_memory"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto http = HttpTestClient::Connect((*server)->port());
  ASSERT_THAT(http, IsOk());
  for (const char* target :
       {"/v2/error_injection/points", "/v2/error_injection/injection",
        "/v2/error_injection/events", "/v2/error_injection/injection/x"}) {
    auto res = (*http)->Get(target);
    ASSERT_THAT(res, IsOk());
    EXPECT_EQ(res->status, 404) << target;
    EXPECT_THAT(res->body, HasSubstr("--error_injection")) << target;
  }
}

// Anyone who can reach a non-loopback address could arm `crash`: the server
// refuses that combination unless it is asked for explicitly.
TEST(ErrorInjectionOffTest, RemoteErrorInjectionNeedsItsOwnFlag) {
  auto refused = ServerProcess::Start(
      KVSTORE_SERVER_BINARY,
      {"--in_memory", "--error_injection", "--host=0.0.0.0"});
  EXPECT_THAT(refused,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("exit")));
  auto loopback = ServerProcess::Start(
      KVSTORE_SERVER_BINARY,
      {"--in_memory", "--error_injection", "--host=127.0.0.1"});
  EXPECT_THAT(loopback, IsOk());
  auto allowed = ServerProcess::Start(
      KVSTORE_SERVER_BINARY,
      {"--in_memory", "--error_injection", "--host=0.0.0.0",
       "--allow_remote_error_injection"});
  ASSERT_THAT(allowed, IsOk());
  auto http = HttpTestClient::Connect((*allowed)->port());
  ASSERT_THAT(http, IsOk());
  auto points = (*http)->Get("/v2/error_injection/points");
  ASSERT_THAT(points, IsOk());
  EXPECT_EQ(points->status, 200);
}

class ErrorInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(
        KVSTORE_SERVER_BINARY,
        {"--in_memory", "--error_injection", "--injection_history=100000"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    endpoint_ = absl::StrCat("127.0.0.1:", server_->port());
    auto injection = InjectionClient::Create(endpoint_);
    ASSERT_THAT(injection, IsOk());
    injection_ = std::move(*injection);
    InjectionEventStreamOptions options;
    options.endpoint = endpoint_;
    auto events = InjectionEventStream::Connect(options);
    ASSERT_TRUE(events.ok()) << events.status();
    events_ = std::move(*events);
    ClientOptions client_options;
    client_options.endpoint = endpoint_;
    client_options.retry.max_attempts = 1;  // see each failure as it is
    auto client = Client::Create(client_options);
    ASSERT_THAT(client, IsOk());
    client_ = std::move(*client);
    auto http = HttpTestClient::Connect(server_->port());
    ASSERT_THAT(http, IsOk());
    http_ = std::move(*http);
    v1::Table table;
    table.set_name("t");
    table.add_column_families()->set_name("f");
    ASSERT_THAT(client_->CreateTable(table), IsOk());
  }

  InjectionState State(const std::string& point) {
    auto state = injection_->State(point);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.value_or(InjectionState{});
  }

  // Whether the row holds value `v` in f:q.
  std::string Value(const std::string& row) {
    auto got = client_->ReadRow("t", row);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok() || !got->has_value()) return "";
    return (*got)->families(0).columns(0).cells(0).value();
  }

  std::unique_ptr<ServerProcess> server_;
  std::string endpoint_;
  std::unique_ptr<InjectionClient> injection_;
  std::unique_ptr<InjectionEventStream> events_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<HttpTestClient> http_;
};

TEST_F(ErrorInjectionTest, TheCatalogListsEveryPoint) {
  auto points = injection_->Points();
  ASSERT_TRUE(points.ok()) << points.status();
  EXPECT_THAT(*points,
              ::testing::UnorderedElementsAre(
                  "request.parsed", "mutation.before_commit",
                  "mutation.after_commit", "mutate_rows.entry", "read_rows.row",
                  "storage.write", "seed.request", "storage.sync"));
  auto raw = http_->Get("/v2/error_injection/points");
  ASSERT_THAT(raw, IsOk());
  EXPECT_THAT(raw->body,
              HasSubstr("\"actions\":[\"error\",\"delay\",\"pause\""));
  // The transport and disk faults are documented with their points.
  EXPECT_THAT(raw->body, HasSubstr("\"reset\",\"slow\",\"stall\","
                                   "\"corrupt_chunk\",\"delay_headers\""));
  EXPECT_THAT(raw->body,
              HasSubstr("\"actions\":[\"io_error\",\"disk_full\",\"delay\""));
}

TEST_F(ErrorInjectionTest, ControlErrorsAreExplicit) {
  EXPECT_EQ(injection_->Arm("no.such.point", {}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(injection_->Arm("seed.request", {{"action", "explode"}}).code(),
            absl::StatusCode::kInvalidArgument);
  auto bad_json = http_->Request(
      "POST", "/v2/error_injection/injection/seed.request", "{not json");
  ASSERT_THAT(bad_json, IsOk());
  EXPECT_EQ(bad_json->status, 400);
  auto enters = http_->Get("/v2/error_injection/injection/nope/enters");
  ASSERT_THAT(enters, IsOk());
  EXPECT_EQ(enters->status, 404);
  // A method a route does not take: 405 with the methods it does.
  auto put =
      http_->Request("PUT", "/v2/error_injection/injection/seed.request");
  ASSERT_THAT(put, IsOk());
  EXPECT_EQ(put->status, 405);
  EXPECT_EQ(put->headers["allow"], "GET, POST, DELETE");
  auto post = http_->Request("POST", "/v2/error_injection/points");
  ASSERT_THAT(post, IsOk());
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->headers["allow"], "GET");
}

TEST_F(ErrorInjectionTest, ScyllaStyleRoutesWork) {
  // ?one_shot=true and a JSON object of string parameters, as ScyllaDB's.
  auto armed = http_->Request(
      "POST", "/v2/error_injection/injection/seed.request?one_shot=True",
      "{\"status\":\"500\"}");
  ASSERT_THAT(armed, IsOk());
  EXPECT_EQ(armed->status, 200);
  auto list = http_->Get("/v2/error_injection/injection");
  EXPECT_EQ(list->body, "[\"seed.request\"]");
  EXPECT_EQ(http_->Get("/set?k=v")->status, 500);
  EXPECT_EQ(http_->Get("/set?k=v")->status, 200);  // one shot
  EXPECT_EQ(
      http_->Get("/v2/error_injection/injection/seed.request/enters")->body,
      "2");
  auto state = http_->Get("/v2/error_injection/injection/seed.request");
  EXPECT_THAT(state->body, HasSubstr("\"enabled\":true"));
  EXPECT_THAT(state->body,
              HasSubstr("{\"key\":\"one_shot\",\"value\":\"true\"}"));
  EXPECT_EQ(http_->Request("DELETE", "/v2/error_injection/injection")->status,
            200);
  EXPECT_EQ(http_->Get("/v2/error_injection/injection")->body, "[]");
}

TEST_F(ErrorInjectionTest, SeedErrorCarriesRetryAfterAndCountersOutliveDisarm) {
  ASSERT_THAT(injection_->Arm(
                  "seed.request",
                  {{"status", "503"}, {"retry_after", "3"}, {"count", "2"}}),
              IsOk());
  for (int i = 0; i < 2; ++i) {
    auto res = http_->Get("/get?key=a");
    ASSERT_THAT(res, IsOk());
    EXPECT_EQ(res->status, 503);
    EXPECT_EQ(res->headers["retry-after"], "3");
  }
  EXPECT_EQ(http_->Get("/get?key=a")->status, 404);  // through: no such key
  ASSERT_THAT(injection_->Disarm("seed.request"), IsOk());
  InjectionState state = State("seed.request");
  EXPECT_FALSE(state.enabled);
  EXPECT_EQ(state.hits, 3);
  EXPECT_EQ(state.fires, 2);
  ASSERT_THAT(events_->WaitForCount("seed.request", "hit", 3, kWait), IsOk());
  ASSERT_THAT(events_->WaitForCount("seed.request", "fired", 2, kWait), IsOk());
  auto disarmed = events_->WaitFor("seed.request", "disarmed", kWait);
  ASSERT_THAT(disarmed, IsOk());
  EXPECT_EQ(events_->Count("seed.request", "hit"), 3);  // nothing after
}

TEST_F(ErrorInjectionTest, EventsCarryTheMatchedRequest) {
  ASSERT_THAT(injection_->Arm("request.parsed", {{"count", "1"}}), IsOk());
  auto res = http_->Request(
      "POST", "/v1/tables/t:mutateRow",
      "{\"rowKey\":\"cm93\",\"mutations\":[{\"deleteFromRow\":{}}]}",
      {{"Content-Type", "application/json"}, {"X-Test-Tag", "case-7"}});
  ASSERT_THAT(res, IsOk());
  EXPECT_EQ(res->status, 503);
  auto fired = events_->WaitFor("request.parsed", "fired", kWait);
  ASSERT_TRUE(fired.ok()) << fired.status();
  EXPECT_EQ(fired->type, "error");
  EXPECT_THAT(fired->data, HasSubstr("\"row_key\":\"row\""));
  EXPECT_THAT(fired->data, HasSubstr("\"tag\":\"case-7\""));
  EXPECT_THAT(fired->data, HasSubstr("\"table\":\"t\""));
  EXPECT_THAT(fired->data, HasSubstr("\"ts_us\":"));
  EXPECT_THAT(fired->data, HasSubstr("\"shard\":0"));
}

TEST_F(ErrorInjectionTest, BeforeCommitErrorLeavesTheRowUntouched) {
  ASSERT_THAT(injection_->Arm("mutation.before_commit", {{"count", "1"}}),
              IsOk());
  absl::Status failed =
      client_->MutateRow("t", "r", {SetCell("f", "q", "v", 1)});
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Value("r"), "");
}

TEST_F(ErrorInjectionTest, AfterCommitErrorIsFailedButApplied) {
  ASSERT_THAT(injection_->Arm("mutation.after_commit",
                              {{"count", "1"}, {"status", "500"}}),
              IsOk());
  absl::Status failed =
      client_->MutateRow("t", "r", {SetCell("f", "q", "v", 1)});
  EXPECT_EQ(failed.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Value("r"), "v");
}

TEST_F(ErrorInjectionTest, BulkEntryFailsOnlyTheMatchingEntry) {
  ASSERT_THAT(injection_->Arm("mutate_rows.entry", {{"row_key", "b"}}), IsOk());
  std::vector<BulkEntry> entries;
  for (const char* row : {"a", "b", "c"}) {
    entries.push_back({row, {SetCell("f", "q", "v", 1)}});
  }
  auto results = client_->MutateRows("t", std::move(entries));
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT((*results)[0], IsOk());
  EXPECT_EQ((*results)[1].code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT((*results)[2], IsOk());
  EXPECT_EQ(Value("b"), "");
  EXPECT_EQ(Value("c"), "v");
}

TEST_F(ErrorInjectionTest, StorageWriteErrorWritesNothing) {
  ASSERT_THAT(injection_->Arm("storage.write", {{"count", "1"}}), IsOk());
  EXPECT_EQ(client_->MutateRow("t", "r", {SetCell("f", "q", "v", 1)}).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(Value("r"), "");
  EXPECT_THAT(client_->MutateRow("t", "r", {SetCell("f", "q", "v", 1)}),
              IsOk());
  EXPECT_EQ(Value("r"), "v");
}

// The arming's HTTP status rides on the Status through the engine, which knows
// no HTTP (before, 502 at storage.write was mapped to a code and back: 503).
TEST_F(ErrorInjectionTest, StorageWriteAnswersWithTheArmedHttpStatus) {
  ASSERT_THAT(
      injection_->Arm("storage.write",
                      {{"count", "1"}, {"status", "502"}, {"message", "x"}}),
      IsOk());
  auto answer = http_->Request(
      "POST", "/v1/tables/t:mutateRow",
      R"({"rowKey":"cg==","mutations":[{"setCell":{"familyName":"f",)"
      R"("columnQualifier":"cQ==","timestampMicros":"1","value":"dg=="}}]})",
      {{"Content-Type", "application/json"}});
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->status, 502);
  EXPECT_EQ(answer->body, R"({"code":14,"message":"x"})");
  EXPECT_EQ(Value("r"), "");
}

class ReadRowsInjectionTest : public ErrorInjectionTest {
 protected:
  void SetUp() override {
    ErrorInjectionTest::SetUp();
    std::vector<BulkEntry> entries;
    for (int i = 0; i < 10; ++i) {
      entries.push_back(
          {absl::StrCat("row", i), {SetCell("f", "q", absl::StrCat(i), 1)}});
    }
    ASSERT_THAT(client_->MutateRows("t", std::move(entries)), IsOk());
  }

  // The rows a scan delivers before it ends, and how it ends.
  absl::Status Scan(std::vector<std::string>* keys) {
    return client_->ReadRows("t", ReadRowsQuery{}, [&](v1::Row row) {
      keys->push_back(row.key());
      return true;
    });
  }
};

TEST_F(ReadRowsInjectionTest, TruncateCutsTheStreamAfterNRows) {
  ASSERT_THAT(injection_->Arm("read_rows.row",
                              {{"action", "truncate"}, {"after_rows", "4"}}),
              IsOk());
  std::vector<std::string> keys;
  EXPECT_EQ(Scan(&keys).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(keys.size(), 4u);
}

TEST_F(ReadRowsInjectionTest, AnErrorEndsTheStreamInBand) {
  ASSERT_THAT(injection_->Arm("read_rows.row", {{"status", "503"},
                                                {"after_rows", "3"},
                                                {"message", "shard moved"}}),
              IsOk());
  std::vector<std::string> keys;
  absl::Status ended = Scan(&keys);
  EXPECT_EQ(ended.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ended.message(), "shard moved");
  EXPECT_EQ(keys.size(), 3u);
}

TEST_F(ReadRowsInjectionTest, TheResilientClientResumesWithoutDuplicates) {
  ASSERT_THAT(injection_->Arm("read_rows.row", {{"action", "truncate"},
                                                {"after_rows", "4"},
                                                {"count", "1"}}),
              IsOk());
  ClientOptions options;
  options.endpoint = endpoint_;
  auto resilient = Client::Create(options);
  ASSERT_THAT(resilient, IsOk());
  std::vector<std::string> keys;
  ASSERT_TRUE((*resilient)
                  ->ReadRows("t", ReadRowsQuery{},
                             [&](v1::Row row) {
                               keys.push_back(row.key());
                               return true;
                             })
                  .ok());
  ASSERT_EQ(keys.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(keys[i], absl::StrCat("row", i));
}

TEST_F(ErrorInjectionTest, PauseParksUntilAMessageAndPausedMeansParked) {
  ASSERT_THAT(injection_->Arm("request.parsed", {{"action", "pause"}}), IsOk());
  absl::Status result = absl::UnknownError("not run");
  std::thread call([&] {
    result = client_->MutateRow("t", "r", {SetCell("f", "q", "v", 1)});
  });
  auto paused = events_->WaitFor("request.parsed", "paused", kWait);
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(State("request.parsed").waiting, 1);  // parked when announced
  ASSERT_THAT(injection_->Message("request.parsed"), IsOk());
  call.join();
  EXPECT_TRUE(result.ok()) << result;
  ASSERT_THAT(events_->WaitFor("request.parsed", "released", kWait), IsOk());
  ASSERT_THAT(injection_->Disarm("request.parsed"), IsOk());  // (reads pass it)
  EXPECT_EQ(Value("r"), "v");
}

TEST_F(ErrorInjectionTest, ManyParkedRequestsShowConcurrency) {
  ASSERT_THAT(injection_->Arm("request.parsed", {{"action", "pause"}}), IsOk());
  constexpr int kCalls = 8;
  std::vector<std::thread> calls;
  std::vector<absl::Status> results(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    calls.emplace_back([&, i] {
      results[i] = client_->MutateRow("t", absl::StrCat("r", i),
                                      {SetCell("f", "q", "v", 1)});
    });
  }
  ASSERT_THAT(events_->WaitForCount("request.parsed", "paused", kCalls, kWait),
              IsOk());
  EXPECT_EQ(State("request.parsed").waiting, kCalls);
  ASSERT_THAT(injection_->Message("request.parsed"), IsOk());  // releases all
  for (auto& t : calls) t.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ErrorInjectionTest, ATimedOutPauseGoesOnWithATimeoutEvent) {
  ASSERT_THAT(injection_->Arm("seed.request",
                              {{"action", "pause"}, {"timeout_ms", "50"}}),
              IsOk());
  EXPECT_EQ(http_->Get("/set?k=v")->status, 200);
  ASSERT_THAT(events_->WaitFor("seed.request", "timeout", kWait), IsOk());
}

TEST_F(ErrorInjectionTest, DisarmingReleasesADelay) {
  ASSERT_THAT(injection_->Arm("seed.request",
                              {{"action", "delay"}, {"delay_ms", "3600000"}}),
              IsOk());
  std::thread call([&] {
    auto other = HttpTestClient::Connect(server_->port());
    ASSERT_THAT(other, IsOk());
    EXPECT_EQ((*other)->Get("/set?k=v")->status, 200);
  });
  ASSERT_THAT(events_->WaitFor("seed.request", "fired", kWait), IsOk());
  ASSERT_THAT(injection_->Disarm("seed.request"), IsOk());
  call.join();  // an hour's delay, ended by the disarm
}

TEST_F(ErrorInjectionTest, DropClosesTheConnectionUnanswered) {
  ASSERT_THAT(injection_->Arm("seed.request", {{"action", "drop"}}), IsOk());
  auto res = http_->Get("/get?key=a");
  EXPECT_THAT(res, ::testing::Not(IsOk()));
  EXPECT_EQ(res.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(ErrorInjectionTest, ResetRunsTheRequestThenCutsItsAnswer) {
  ASSERT_THAT(
      injection_->Arm("request.parsed", {{"action", "reset"}, {"count", "1"}}),
      IsOk());
  const std::string body =
      R"({"rowKey": "cnN0", "mutations": [{"setCell": {"familyName": "f",)"
      R"( "timestampMicros": "5", "value": "dg=="}}]})";
  testing::RawAnswer answer = testing::ExchangeUntilClosed(
      server_->port(),
      absl::StrCat("POST /v1/tables/t:mutateRow HTTP/1.1\r\nHost: x\r\n"
                   "Content-Type: application/json\r\nContent-Length: ",
                   body.size(), "\r\n\r\n", body));
  const std::string& got = answer.bytes;
  EXPECT_TRUE(answer.reset)
      << "ended without a reset after " << got.size() << " bytes";
  // What arrived (if the reset did not discard it) is a prefix of a 200.
  EXPECT_EQ(got.substr(0, 12),
            std::string("HTTP/1.1 200").substr(0, got.size()));
  ASSERT_THAT(events_->WaitFor("request.parsed", "fired", kWait), IsOk());
  auto row = client_->ReadRow("t", "rst");  // the write was applied
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_TRUE(row->has_value());
}

TEST_F(ErrorInjectionTest, ResetCutsAReadRowsStreamAndTheClientSeesIt) {
  ASSERT_THAT(client_->MutateRow("t", "r", {SetCell("f", "q", "v", 1)}),
              IsOk());
  ASSERT_THAT(
      injection_->Arm("request.parsed", {{"action", "reset"}, {"count", "1"}}),
      IsOk());
  int rows = 0;
  absl::Status read = client_->ReadRows("t", ReadRowsQuery{}, [&](v1::Row) {
    ++rows;
    return true;
  });
  EXPECT_EQ(read.code(), absl::StatusCode::kUnavailable) << read;
  EXPECT_EQ(rows, 0);  // half a row is no row
  EXPECT_THAT(
      client_->ReadRows("t", ReadRowsQuery{}, [](v1::Row) { return true; }),
      IsOk());  // the next one is whole
}

TEST_F(ErrorInjectionTest, ALateSubscriberReplaysFilteredHistory) {
  ASSERT_THAT(injection_->Arm("seed.request", {{"count", "1"}}), IsOk());
  ASSERT_THAT(injection_->Arm("request.parsed", {{"count", "1"}}), IsOk());
  EXPECT_EQ(http_->Get("/set?k=v")->status, 503);
  ASSERT_THAT(events_->WaitFor("seed.request", "fired", kWait), IsOk());
  InjectionEventStreamOptions options;
  options.endpoint = endpoint_;
  options.injections = {"seed.request"};
  options.since = 0;
  auto late = InjectionEventStream::Connect(options);
  ASSERT_TRUE(late.ok()) << late.status();
  ASSERT_THAT((*late)->WaitFor("seed.request", "fired", kWait), IsOk());
  std::vector<InjectionEventRecord> seen = (*late)->Events();
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].injection, "seed.request");  // filtered on the server
    if (i > 0) {
      EXPECT_GT(seen[i].seq, seen[i - 1].seq);
    }
  }
  EXPECT_EQ(seen.front().phase, "armed");  // from the start of history
}

TEST_F(ErrorInjectionTest, StreamsSayHelloAndSendHeartbeats) {
  std::string got = testing::ReadUntil(
      server_->port(),
      "GET /v2/error_injection/events?heartbeat_ms=50 HTTP/1.1\r\nHost: "
      "x\r\n\r\n",
      ": heartbeat", kWait);
  EXPECT_THAT(got, HasSubstr("Content-Type: text/event-stream"));
  EXPECT_THAT(got, HasSubstr("retry: 1000\n"));
  EXPECT_THAT(got, HasSubstr("event: hello\ndata: {\"current_seq\":"));
  EXPECT_THAT(got, HasSubstr(": heartbeat\n\n"));
}

TEST_F(ErrorInjectionTest, TheStreamResumesWithLastEventId) {
  ASSERT_THAT(injection_->Arm("seed.request", {{"count", "1"}}), IsOk());
  auto armed = events_->WaitFor("seed.request", "armed", kWait);
  ASSERT_THAT(armed, IsOk());
  EXPECT_EQ(http_->Get("/set?k=v")->status, 503);
  std::string got = testing::ReadUntil(
      server_->port(),
      absl::StrCat("GET /v2/error_injection/events HTTP/1.1\r\nHost: x\r\n"
                   "Last-Event-ID: ",
                   armed->seq, "\r\n\r\n"),
      "event: fired", kWait);
  // The replay starts right after the given seq: the first event sent is
  // the hit, the next one of the stream (journal entries, which share the
  // sequence, are not on it without ?journal=1).
  const size_t id = got.find("\nid: ");
  ASSERT_NE(id, std::string::npos) << got;
  uint64_t first = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      got.substr(id + 5, got.find('\n', id + 1) - id - 5), &first))
      << got;
  EXPECT_GT(first, armed->seq);
  EXPECT_THAT(
      got, ::testing::Not(HasSubstr(absl::StrCat("id: ", armed->seq, "\n"))));
  EXPECT_THAT(got, HasSubstr(absl::StrCat("id: ", first, "\nevent: hit")));
  EXPECT_THAT(got, HasSubstr("event: fired"));
}

TEST_F(ErrorInjectionTest, TheCppStreamRenewsWithoutLosingOrRepeatingEvents) {
  InjectionEventStreamOptions options;
  options.endpoint = endpoint_;
  options.injections = {"seed.request"};
  options.renew_after = absl::Milliseconds(100);  // reconnect often
  auto stream = InjectionEventStream::Connect(options);
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_THAT(injection_->Arm("seed.request", {{"status", "503"}}), IsOk());
  constexpr int kEvents = 40;
  for (int i = 0; i < kEvents; ++i) {
    EXPECT_EQ(http_->Get("/set?k=v")->status, 503);
    absl::SleepFor(absl::Milliseconds(10));  // spread over several renewals
  }
  EXPECT_EQ((*stream)->gaps(), 0);
  auto fired = (*stream)->WaitForCount("seed.request", "fired", kEvents, kWait);
  ASSERT_TRUE(fired.ok()) << fired.status();
  for (int i = 1; i < kEvents; ++i) {
    EXPECT_GT((*fired)[i].seq, (*fired)[i - 1].seq);  // in order, no repeats
  }
  EXPECT_GE((*stream)->reconnects(), 2);
  ASSERT_THAT(injection_->Disarm("seed.request"), IsOk());
  ASSERT_THAT((*stream)->WaitFor("seed.request", "disarmed", kWait), IsOk());
  EXPECT_EQ((*stream)->Count("seed.request", "fired"), kEvents);
}

TEST(ErrorInjectionHistoryTest, EventsGoneFromHistoryAreReportedOnceAsAGap) {
  auto server = ServerProcess::Start(
      KVSTORE_SERVER_BINARY,
      // (The journal off: its entries would share the 5 places.)
      {"--in_memory", "--error_injection", "--injection_history=5",
       "--request_journal=false"});
  ASSERT_TRUE(server.ok()) << server.status();
  std::string endpoint = absl::StrCat("127.0.0.1:", (*server)->port());
  auto injection = InjectionClient::Create(endpoint);
  ASSERT_THAT(injection, IsOk());
  for (int i = 0; i < 6; ++i) {  // 6 "armed" events; the history keeps 5
    ASSERT_THAT((*injection)->Arm("seed.request", {}), IsOk());
  }
  InjectionEventStreamOptions options;
  options.endpoint = endpoint;
  options.since = 0;  // asks for seq 1, which is gone
  auto stream = InjectionEventStream::Connect(options);
  ASSERT_TRUE(stream.ok()) << stream.status();
  auto replayed = (*stream)->WaitForCount("seed.request", "armed", 5, kWait);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(replayed->front().seq, 2u);
  ASSERT_THAT((*injection)->Disarm("seed.request"), IsOk());  // a live event
  ASSERT_THAT((*stream)->WaitFor("seed.request", "disarmed", kWait), IsOk());
  EXPECT_EQ((*stream)->gaps(), 1);
  EXPECT_EQ((*stream)->reconnects(), 0);  // no replay loop
}

TEST(ErrorInjectionCrashTest, CrashAfterCommitKeepsTheAcknowledgedWrite) {
  testing::TempDir dir;
  std::vector<std::string> args = {"--data_dir=" + dir.File("db"),
                                   "--error_injection"};
  auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, args);
  ASSERT_TRUE(server.ok()) << server.status();
  std::string endpoint = absl::StrCat("127.0.0.1:", (*server)->port());
  auto injection = InjectionClient::Create(endpoint);
  ASSERT_THAT(injection, IsOk());
  ASSERT_THAT((*injection)
                  ->Arm("mutation.after_commit",
                        {{"action", "crash"}, {"table", "default"}}),
              IsOk());
  ClientOptions options;
  options.endpoint = endpoint;
  options.retry.max_attempts = 1;
  auto client = Client::Create(options);
  ASSERT_THAT(client, IsOk());
  // Committed and synced, then the process dies before answering.
  EXPECT_EQ(
      (*client)->MutateRow("default", "k", {SetCell("cf", "", "v", 7)}).code(),
      absl::StatusCode::kUnavailable);
  absl::StatusOr<int> exit = (*server)->Signal(0);  // just wait for it
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(WIFSIGNALED(*exit));
  EXPECT_EQ(WTERMSIG(*exit), SIGKILL);

  auto restarted = ServerProcess::Start(KVSTORE_SERVER_BINARY, args);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  auto http = HttpTestClient::Connect((*restarted)->port());
  ASSERT_THAT(http, IsOk());
  auto got = (*http)->Get("/get?key=k");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "v");
}

TEST_F(ErrorInjectionTest, SubscribersAreCleanedUpAfterAThousandCycles) {
  for (int i = 0; i < 1000; ++i) {
    auto raw = HttpTestClient::Connect(server_->port());
    ASSERT_THAT(raw, IsOk());
    ASSERT_THAT((*raw)->SendRaw("GET /v2/error_injection/events HTTP/1.1\r\n"
                                "Host: x\r\n\r\n"),
                IsOk());
  }  // each closes its socket
  // The server notices each hang-up on its own; wait for it to settle (this
  // test's own stream stays).
  std::string body;
  for (int i = 0; i < 400; ++i) {
    body = http_->Get("/v2/error_injection/points")->body;
    if (absl::StrContains(body, "\"subscribers\":1,")) break;
    absl::SleepFor(absl::Milliseconds(25));
  }
  EXPECT_THAT(body, HasSubstr("\"subscribers\":1,"));
  auto metrics = http_->Get("/metrics");
  EXPECT_THAT(metrics->body, HasSubstr("kvstore_injection_subscribers 1\n"));
}

}  // namespace
}  // namespace kvstore
