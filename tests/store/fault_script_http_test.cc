// Fault scripts over HTTP against the real binary, through the C++ injection
// client and raw requests: both forms of a script, the steps running in
// order, their counters in the point's state, the step on every event, and
// one validation (and one message) for both forms.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/builders.h"
#include "client/client.h"
#include "client/injection_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/http_test_client.h"
#include "tests/common/server_process.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;
using ::kvstore::testing::StatusIs;

namespace kvstore {
namespace {

using ::testing::HasSubstr;
using testing::HttpResult;
using testing::ServerProcess;

class FaultScriptHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY,
                                       {"--in_memory", "--error_injection"});
    ASSERT_THAT(server, IsOk());
    server_ = std::move(*server);
    const std::string endpoint = absl::StrCat("127.0.0.1:", server_->port());
    auto injection = InjectionClient::Create(endpoint);
    ASSERT_THAT(injection, IsOk());
    injection_ = std::move(*injection);
    ClientOptions options;
    options.endpoint = endpoint;
    options.retry.max_attempts = 1;  // see each failure as it is
    auto client = Client::Create(options);
    ASSERT_THAT(client, IsOk());
    client_ = std::move(*client);
  }

  absl::StatusOr<HttpResult> Call(const std::string& method,
                                  const std::string& target,
                                  const std::string& body = "") {
    return testing::RequestOnce(server_->port(), method, target, body);
  }

  // Ten rows in table t, for readRows.
  void FillTable() {
    v1::Table table;
    table.set_name("t");
    table.add_column_families()->set_name("f");
    ASSERT_THAT(client_->CreateTable(table), IsOk());
    std::vector<BulkEntry> entries;
    for (int i = 0; i < 10; ++i) {
      entries.push_back(
          {absl::StrCat("row", i), {SetCell("f", "q", absl::StrCat(i), 1)}});
    }
    ASSERT_THAT(client_->MutateRows("t", std::move(entries)), IsOk());
  }

  // How a full scan of t ends, and how many rows it delivered first.
  absl::Status Scan(size_t* rows) {
    *rows = 0;
    return client_->ReadRows("t", ReadRowsQuery{}, [&](v1::Row) {
      ++*rows;
      return true;
    });
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<InjectionClient> injection_;
  std::unique_ptr<Client> client_;
};

// The issue's example, in its JSON form: "two 503s with Retry-After 1, then
// truncate the next stream after 3 rows, then pass".
TEST_F(FaultScriptHttpTest, JsonStepsRunInOrderThenPass) {
  FillTable();
  auto armed = Call("POST", "/v2/error_injection/injection/read_rows.row",
                    R"({"steps": [
      {"action": "error", "status": "503", "retry_after": "1", "count": "2"},
      {"action": "truncate", "after_rows": "3", "count": "1"}]})");
  ASSERT_THAT(armed, IsOk());
  ASSERT_EQ(armed->status, 200) << armed->body;
  EXPECT_THAT(armed->body, HasSubstr("\"step\":0,\"steps\":[{\"action\":"
                                     "\"error\""));
  size_t rows = 0;
  for (int i = 0; i < 2; ++i) {
    EXPECT_THAT(Scan(&rows), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_EQ(rows, 1u);  // an error step's after_rows defaults to 1
  }
  EXPECT_THAT(Scan(&rows), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(rows, 3u);  // truncated
  EXPECT_THAT(Scan(&rows), IsOk());
  EXPECT_EQ(rows, 10u);
  EXPECT_THAT(Scan(&rows), IsOk());

  absl::StatusOr<InjectionState> state = injection_->State("read_rows.row");
  ASSERT_THAT(state, IsOk());
  EXPECT_TRUE(state->exhausted);
  EXPECT_EQ(state->step, 2);
  EXPECT_EQ(state->fires, 3);
  ASSERT_EQ(state->steps.size(), 2u);
  EXPECT_EQ(state->steps[0].action, "error");
  EXPECT_EQ(state->steps[0].fires, 2);
  EXPECT_EQ(state->steps[0].parameters.at("retry_after"), "1");
  EXPECT_EQ(state->steps[1].action, "truncate");
  EXPECT_EQ(state->steps[1].count, 1);
  EXPECT_EQ(state->steps[1].fires, 1);
}

// The term form, through the C++ client, with a Retry-After the client sees.
TEST_F(FaultScriptHttpTest, ATermScriptFailsThenDropsThenPasses) {
  ASSERT_THAT(
      injection_->Arm("seed.request",
                      {{"script", "2*error(503,retry_after=1)->1*drop->off"},
                       {"path", "/get"}}),
      IsOk());
  for (int i = 0; i < 2; ++i) {
    auto failed = Call("GET", "/get?key=k");
    ASSERT_THAT(failed, IsOk());
    EXPECT_EQ(failed->status, 503);
    EXPECT_EQ(failed->headers["retry-after"], "1");
  }
  EXPECT_FALSE(Call("GET", "/get?key=k").ok());  // dropped: no answer
  auto passed = Call("GET", "/get?key=k");
  ASSERT_THAT(passed, IsOk());
  EXPECT_EQ(passed->status, 404);  // the store's own answer: no such key
  absl::StatusOr<InjectionState> state = injection_->State("seed.request");
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->hits, 4);
  EXPECT_EQ(state->step, 2);
  EXPECT_EQ(state->steps[2].action, "off");
  EXPECT_EQ(state->steps[2].reached, 1);
}

TEST_F(FaultScriptHttpTest, EveryEventCarriesTheStepItConcerns) {
  ASSERT_THAT(injection_->ArmSteps("seed.request",
                                   {{{"action", "error"}, {"count", "1"}},
                                    {{"action", "error"}, {"status", "500"}}}),
              IsOk());
  ASSERT_THAT(Call("GET", "/get?key=k"), IsOk());
  ASSERT_THAT(Call("GET", "/get?key=k"), IsOk());
  auto first =
      injection_->WaitForEvent("seed.request", "fired", 0, absl::Seconds(30));
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(first->data, HasSubstr("\"step\":0,\"steps\":2"));
  auto second = injection_->WaitForEvent("seed.request", "fired", first->seq,
                                         absl::Seconds(30));
  ASSERT_THAT(second, IsOk());
  EXPECT_THAT(second->data, HasSubstr("\"step\":1,\"steps\":2"));
}

TEST_F(FaultScriptHttpTest, BothFormsAreRejectedAlikeWith400) {
  auto json = Call("POST", "/v2/error_injection/injection/seed.request",
                   R"({"steps": [{"action": "error", "status": 200}]})");
  auto term = Call("POST", "/v2/error_injection/injection/seed.request",
                   R"js({"script": "error(200)"})js");
  ASSERT_THAT(json, IsOk());
  ASSERT_THAT(term, IsOk());
  EXPECT_EQ(json->status, 400);
  EXPECT_EQ(json->body, term->body);
  EXPECT_THAT(json->body, HasSubstr("step 1: parameter 'status' = '200'"));
  auto action = Call("POST", "/v2/error_injection/injection/seed.request",
                     R"js({"script": "1*error->truncate(3)"})js");
  ASSERT_THAT(action, IsOk());
  EXPECT_EQ(action->status, 400);
  EXPECT_THAT(action->body,
              HasSubstr("step 2: point seed.request does not support action "
                        "'truncate'"));
  auto syntax = Call("POST", "/v2/error_injection/injection/seed.request",
                     R"js({"script": "2*error(503"})js");
  ASSERT_THAT(syntax, IsOk());
  EXPECT_EQ(syntax->status, 400);
  EXPECT_THAT(syntax->body, HasSubstr("script step 1"));
  auto shape = Call("POST", "/v2/error_injection/injection/seed.request",
                    R"({"steps": {"action": "error"}})");
  ASSERT_THAT(shape, IsOk());
  EXPECT_EQ(shape->status, 400);
  EXPECT_THAT(shape->body, HasSubstr("steps must be an array"));
  absl::StatusOr<std::vector<std::string>> armed = injection_->Armed();
  ASSERT_THAT(armed, IsOk());
  EXPECT_TRUE(armed->empty());
}

TEST_F(FaultScriptHttpTest, TheCppClientResetsTheStore) {
  ASSERT_THAT(injection_->Arm("seed.request", {{"script", "error"}}), IsOk());
  absl::StatusOr<uint64_t> seq = injection_->Reset();
  ASSERT_THAT(seq, IsOk());
  EXPECT_GT(*seq, 0u);
  absl::StatusOr<std::vector<std::string>> armed = injection_->Armed();
  ASSERT_THAT(armed, IsOk());
  EXPECT_TRUE(armed->empty());
  auto reset =
      injection_->WaitForEvent("", "reset", *seq - 1, absl::Seconds(30));
  ASSERT_THAT(reset, IsOk());
  EXPECT_EQ(reset->seq, *seq);
}

}  // namespace
}  // namespace kvstore
