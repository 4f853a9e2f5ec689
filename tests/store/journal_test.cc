// The request journal (GET /v2/journal, ?journal= on the event stream)
// against the real binary, through raw requests and the C++ injection
// client: one entry per answered request with what the store saw of it,
// the points that fired on it, filters, the shared sequence, reset, and
// that it is off without error injection or with --request_journal=false.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/injection_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/injection/injection_events.h"
#include "tests/common/http_test_client.h"
#include "tests/common/server_process.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;
using ::kvstore::testing::StatusIs;

namespace kvstore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::HttpResult;
using testing::HttpTestClient;
using ::testing::IsEmpty;
using testing::ServerProcess;

class JournalTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags = {"--error_injection"}) {
    flags.push_back("--in_memory");
    auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, flags);
    ASSERT_THAT(server, IsOk());
    server_ = std::move(*server);
    auto injection =
        InjectionClient::Create(absl::StrCat("127.0.0.1:", server_->port()));
    ASSERT_THAT(injection, IsOk());
    injection_ = std::move(*injection);
  }

  HttpResult Call(const std::string& method, const std::string& target,
                  const std::string& body = "") {
    absl::StatusOr<HttpResult> res =
        testing::RequestOnce(server_->port(), method, target, body);
    EXPECT_THAT(res, IsOk());
    return res.ok() ? *res : HttpResult{};
  }

  // The journal's entries of `route` after `since`.
  std::vector<JournalRecord> Entries(const std::string& route,
                                     uint64_t since = 0,
                                     const std::string& tag = "") {
    absl::StatusOr<std::vector<JournalRecord>> got =
        injection_->Journal(since, tag, route);
    EXPECT_THAT(got, IsOk());
    return got.value_or(std::vector<JournalRecord>{});
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<InjectionClient> injection_;
};

TEST_F(JournalTest, EveryRequestIsAnEntryWithWhatTheStoreSaw) {
  Start();
  auto http = HttpTestClient::Connect(server_->port());
  ASSERT_THAT(http, IsOk());
  auto set =
      (*http)->Request("GET", "/set?k1=value", "", {{"X-Test-Tag", "case-1"}});
  ASSERT_THAT(set, IsOk());
  auto get =
      (*http)->Request("GET", "/get?key=k1", "", {{"X-Test-Tag", "case-1"}});
  ASSERT_THAT(get, IsOk());
  EXPECT_EQ(Call("GET", "/get?key=absent").status, 404);

  std::vector<JournalRecord> sets = Entries("/set");
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].method, "GET");
  EXPECT_EQ(sets[0].path, "/set");
  EXPECT_EQ(sets[0].table, "default");
  EXPECT_THAT(sets[0].row_keys, ElementsAre("k1"));
  EXPECT_EQ(sets[0].tag, "case-1");
  EXPECT_EQ(sets[0].status, 200);
  EXPECT_FALSE(sets[0].cut);
  EXPECT_GT(sets[0].bytes_in, 20);
  EXPECT_GT(sets[0].bytes_out, 20);
  EXPECT_LE(sets[0].start_us, sets[0].end_us);

  std::vector<JournalRecord> gets = Entries("/get");
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(gets[0].connection, sets[0].connection);  // one keep-alive
  EXPECT_NE(gets[1].connection, gets[0].connection);  // a connection of its own
  EXPECT_LT(sets[0].seq, gets[0].seq);
  EXPECT_LE(sets[0].end_us, gets[0].start_us);
  EXPECT_EQ(gets[1].status, 404);
  // The bytes on the wire: the answer's head and body.
  EXPECT_GT(gets[0].bytes_out,
            static_cast<int64_t>(get->body.size() + 17));  // + status line

  std::vector<JournalRecord> tagged = Entries("", 0, "case-1");
  EXPECT_EQ(tagged.size(), 2u);
}

TEST_F(JournalTest, AnEntryNamesThePointsThatFiredOnItAndFollowsTheirEvents) {
  Start();
  ASSERT_THAT(
      injection_->Arm("seed.request",
                      {{"script", "1*error(503)->1*drop->off"}, {"tag", "x"}}),
      IsOk());
  auto tagged = [&](const std::string& target) -> absl::StatusOr<HttpResult> {
    auto http = HttpTestClient::Connect(server_->port());
    if (!http.ok()) return http.status();
    return (*http)->Request("GET", target, "", {{"X-Test-Tag", "x"}});
  };
  ASSERT_THAT(tagged("/get?key=a"), IsOk());
  EXPECT_FALSE(tagged("/get?key=a").ok());  // dropped
  ASSERT_THAT(tagged("/get?key=a"), IsOk());
  std::vector<JournalRecord> gets = Entries("/get");
  ASSERT_EQ(gets.size(), 3u);
  EXPECT_EQ(gets[0].status, 503);
  EXPECT_THAT(gets[0].injections, ElementsAre("seed.request"));
  EXPECT_EQ(gets[1].status, 0);  // closed without an answer
  EXPECT_TRUE(gets[1].cut);
  EXPECT_EQ(gets[1].bytes_out, 0);
  EXPECT_THAT(gets[1].injections, ElementsAre("seed.request"));
  EXPECT_EQ(gets[2].status, 404);
  EXPECT_THAT(gets[2].injections, IsEmpty());
  // On the events' sequence: the fire comes before its request's entry.
  auto fired =
      injection_->WaitForEvent("seed.request", "fired", 0, absl::Seconds(30));
  ASSERT_THAT(fired, IsOk());
  EXPECT_LT(fired->seq, gets[0].seq);
}

TEST_F(JournalTest, DataApiEntriesNameTheirTableAndRows) {
  Start();
  EXPECT_EQ(Call("POST", "/v1/tables",
                 R"({"table":{"name":"t","columnFamilies":[{"name":"f"}]}})")
                .status,
            200);
  const std::string cell =
      R"({"setCell":{"familyName":"f","columnQualifier":"cQ==","value":"dg=="}})";
  EXPECT_EQ(Call("POST", "/v1/tables/t:mutateRow",
                 absl::StrCat(R"({"rowKey":"cjE=","mutations":[)", cell, "]}"))
                .status,
            200);
  EXPECT_EQ(
      Call("POST", "/v1/tables/t:mutateRows",
           absl::StrCat(R"({"entries":[{"rowKey":"cjI=","mutations":[)", cell,
                        R"(]},{"rowKey":"cjM=","mutations":[)", cell, "]}]}"))
          .status,
      200);
  std::vector<JournalRecord> one = Entries(":mutateRow");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].table, "t");
  EXPECT_THAT(one[0].row_keys, ElementsAre("r1"));
  std::vector<JournalRecord> bulk = Entries(":mutateRows");
  ASSERT_EQ(bulk.size(), 1u);
  EXPECT_THAT(bulk[0].row_keys, ElementsAre("r2", "r3"));
  // A test that owns table t reads its own entries, whatever their route.
  absl::StatusOr<std::vector<JournalRecord>> on_t =
      injection_->Journal(0, "", "", "t");
  ASSERT_THAT(on_t, IsOk());
  EXPECT_EQ(on_t->size(), 2u);
  for (const JournalRecord& e : *on_t) EXPECT_EQ(e.table, "t");
}

TEST(JournalFilterTest, StreamsCarryEntriesOnlyWhenAsked) {
  store::InjectionEvents hub(store::InjectionEvents::Options{});
  hub.Publish("seed.request", "fired", "", "t", "default");
  hub.PublishEntry("t", "/get", "default", ",\"x\":1");
  hub.PublishEntry("u", "/set", "other", ",\"x\":2");
  auto read = [&](store::EventFilter filter) {
    return hub.Subscribe(std::move(filter), uint64_t{0}, absl::Seconds(60))
        ->Take()
        .value_or("");
  };
  std::string plain = read({});
  EXPECT_THAT(plain, HasSubstr("event: fired"));
  EXPECT_THAT(plain, ::testing::Not(HasSubstr("event: request")));
  store::EventFilter with;
  with.journal = true;
  with.tag = "t";
  std::string both = read(with);
  EXPECT_THAT(both, HasSubstr("event: fired"));
  EXPECT_THAT(both, HasSubstr("\"x\":1"));
  EXPECT_THAT(both, ::testing::Not(HasSubstr("\"x\":2")));
  store::EventFilter only;
  only.journal = only.journal_only = true;
  only.route = "/set";
  std::string entries = read(only);
  EXPECT_THAT(entries, ::testing::Not(HasSubstr("event: fired")));
  EXPECT_THAT(entries, HasSubstr("\"x\":2"));
  EXPECT_THAT(entries, ::testing::Not(HasSubstr("\"x\":1")));
  store::EventFilter table;
  table.journal = true;
  table.table = "default";
  std::string on_default = read(table);
  EXPECT_THAT(on_default, HasSubstr("event: fired"));
  EXPECT_THAT(on_default, HasSubstr("\"x\":1"));
  EXPECT_THAT(on_default, ::testing::Not(HasSubstr("\"x\":2")));
}

TEST_F(JournalTest, TheStreamsJournalParameterIsChecked) {
  Start();
  EXPECT_EQ(Call("GET", "/v2/error_injection/events?journal=sometimes").status,
            400);
  EXPECT_EQ(Call("GET", "/v2/journal?limit=0").status, 400);
  EXPECT_EQ(Call("POST", "/v2/journal").status, 405);
}

TEST_F(JournalTest, ResetClearsTheJournal) {
  Start();
  EXPECT_EQ(Call("GET", "/set?before=1").status, 200);
  absl::StatusOr<uint64_t> reset = injection_->Reset();
  ASSERT_THAT(reset, IsOk());
  EXPECT_THAT(injection_->Journal(0), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(Entries("/set", *reset), IsEmpty());
  EXPECT_EQ(Call("GET", "/set?after=1").status, 200);
  std::vector<JournalRecord> after = Entries("/set", *reset);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_THAT(after[0].row_keys, ElementsAre("after"));
}

TEST_F(JournalTest, OffWithoutErrorInjectionOrWhenTurnedOff) {
  Start({});
  EXPECT_EQ(Call("GET", "/v2/journal").status, 404);
  Start({"--error_injection", "--request_journal=false"});
  EXPECT_EQ(Call("GET", "/set?k=1").status, 200);
  EXPECT_THAT(Entries(""), IsEmpty());
}

}  // namespace
}  // namespace kvstore
