// kvstore::Client's Async* calls against a scripted fake async transport:
// request shapes, results, status mapping, and the retry schedule they share
// with the synchronous calls (RunAfter delays instead of sleeps).
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/builders.h"
#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/async_result.h"
#include "tests/client/fake_async_transport.h"
#include "tests/client/fake_transport.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ScriptedResponse Answer(int http_status, std::string body,
                        std::optional<absl::Duration> retry_after = {}) {
  ScriptedResponse r;
  r.http_status = http_status;
  r.pieces = {std::move(body)};
  r.retry_after = retry_after;
  return r;
}

ScriptedResponse Unavailable503(std::optional<absl::Duration> after = {}) {
  return Answer(503, StatusBody(absl::StatusCode::kUnavailable, "injected"),
                after);
}

class AsyncClientTest : public ::testing::Test {
 protected:
  Client& Make(std::vector<ScriptedResponse> script,
               ClientOptions options = ClientOptions()) {
    options.jitter = [] { return 0.0; };  // waits are backoff / 2
    auto transport = std::make_unique<FakeAsyncTransport>(std::move(script));
    transport_ = transport.get();
    auto client = Client::CreateWithTransport(
        options,
        std::make_unique<FakeTransport>(std::vector<ScriptedResponse>{}),
        std::move(transport));
    EXPECT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    return *client_;
  }

  FakeAsyncTransport* transport_ = nullptr;
  std::unique_ptr<Client> client_;
};

TEST_F(AsyncClientTest, MutateRowSendsTheSameRequestAsTheSyncCall) {
  Client& client = Make({Answer(200, "")});
  Result<absl::Status> result;
  client.AsyncMutateRow("my table", "row", {SetCell("cf", "q", "v", 7)},
                        result.Callback());
  ASSERT_TRUE(result.Get().ok()) << result.Get();
  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/tables/my%20table:mutateRow");
  v1::MutateRowRequest sent;
  ASSERT_TRUE(sent.ParseFromString(requests[0].body));
  EXPECT_EQ(sent.row_key(), "row");
  ASSERT_EQ(sent.mutations_size(), 1);
  EXPECT_EQ(sent.mutations(0).set_cell().timestamp_micros(), 7);
}

TEST_F(AsyncClientTest, ReadRowFindsTheRowOrNothing) {
  Client& client =
      Make({Answer(200, RowMessage("r1", "v1") +
                            StatusMessage(absl::StatusCode::kOk, "")),
            Answer(200, StatusMessage(absl::StatusCode::kOk, ""))});
  Result<absl::StatusOr<std::optional<v1::Row>>> found, missing;
  client.AsyncReadRow("t", "r1", std::nullopt, found.Callback());
  ASSERT_TRUE(found.Get().ok()) << found.Get().status();
  ASSERT_TRUE(found.Get()->has_value());
  EXPECT_EQ((*found.Get())->key(), "r1");
  EXPECT_EQ((*found.Get())->families(0).columns(0).cells(0).value(), "v1");
  client.AsyncReadRow("t", "r2", FamilyRegex("cf"), missing.Callback());
  ASSERT_TRUE(missing.Get().ok()) << missing.Get().status();
  EXPECT_FALSE(missing.Get()->has_value());

  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].target, "/v1/tables/t:readRows");
  v1::ReadRowsRequest sent;
  ASSERT_TRUE(sent.ParseFromString(requests[1].body));
  EXPECT_THAT(sent.rows().row_keys(), ElementsAre("r2"));
  EXPECT_TRUE(sent.has_filter());
}

TEST_F(AsyncClientTest, StoreErrorsKeepTheirCodeAndMessage) {
  Client& client =
      Make({Answer(404, StatusBody(absl::StatusCode::kNotFound, "no table")),
            Answer(200, "not a protobuf \xff\xff")});
  Result<absl::StatusOr<bool>> missing_table;
  client.AsyncCheckAndMutateRow("t", "r", std::nullopt, {}, {},
                                missing_table.Callback());
  EXPECT_EQ(missing_table.Get().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing_table.Get().status().message(), "no table");
  Result<absl::StatusOr<v1::Row>> garbled;
  client.AsyncReadModifyWriteRow("t", "r", {}, garbled.Callback());
  EXPECT_EQ(garbled.Get().status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(AsyncClientTest, ConditionalReadModifyWriteAndSamplesParseTheAnswer) {
  v1::CheckAndMutateRowResponse matched;
  matched.set_predicate_matched(true);
  v1::ReadModifyWriteRowResponse rmw;
  rmw.mutable_row()->set_key("r");
  v1::SampleRowKeysResponse samples;
  auto* sample = samples.add_samples();
  sample->set_row_key("");
  sample->set_offset_bytes(42);
  Client& client = Make({Answer(200, matched.SerializeAsString()),
                         Answer(200, rmw.SerializeAsString()),
                         Answer(200, samples.SerializeAsString())});
  Result<absl::StatusOr<bool>> cam;
  client.AsyncCheckAndMutateRow(
      "t", "r", std::nullopt, {SetCell("cf", "q", "v", 1)}, {}, cam.Callback());
  ASSERT_THAT(cam.Get(), IsOk());
  EXPECT_TRUE(*cam.Get());
  Result<absl::StatusOr<v1::Row>> row;
  client.AsyncReadModifyWriteRow("t", "r", {AppendValue("cf", "q", "x")},
                                 row.Callback());
  ASSERT_THAT(row.Get(), IsOk());
  EXPECT_EQ(row.Get()->key(), "r");
  Result<absl::StatusOr<std::vector<RowKeySample>>> sampled;
  client.AsyncSampleRowKeys("t", sampled.Callback());
  ASSERT_THAT(sampled.Get(), IsOk());
  ASSERT_EQ(sampled.Get()->size(), 1u);
  EXPECT_EQ((*sampled.Get())[0].offset_bytes, 42);
  auto requests = transport_->requests();
  EXPECT_EQ(requests[2].method, "GET");
  EXPECT_EQ(requests[2].target, "/v1/tables/t:sampleRowKeys");
}

TEST_F(AsyncClientTest, IdempotentCallsRetryWithTheSameBackoff) {
  Client& client = Make({Unavailable503(), Unavailable503(),
                         Unavailable503(absl::Seconds(2)), Answer(200, "")});
  Result<absl::Status> result;
  client.AsyncMutateRow("t", "r", {SetCell("cf", "q", "v", 5)},
                        result.Callback());
  ASSERT_TRUE(result.Get().ok()) << result.Get();
  EXPECT_EQ(transport_->requests().size(), 4u);
  // initial 10ms, x2 each time, half of it with jitter 0; then Retry-After.
  EXPECT_THAT(transport_->delays(),
              ElementsAre(absl::Milliseconds(5), absl::Milliseconds(10),
                          absl::Seconds(2)));
}

TEST_F(AsyncClientTest, NonIdempotentCallsAreNeverRetried) {
  Client& client = Make({Unavailable503(), Unavailable503()});
  Result<absl::Status> server_time;
  client.AsyncMutateRow("t", "r", {SetCell("cf", "q", "v")},  // timestamp -1
                        server_time.Callback());
  EXPECT_EQ(server_time.Get().code(), absl::StatusCode::kUnavailable);
  Result<absl::StatusOr<v1::Row>> rmw;
  client.AsyncReadModifyWriteRow("t", "r", {IncrementBy("cf", "n", 1)},
                                 rmw.Callback());
  EXPECT_EQ(rmw.Get().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(transport_->requests().size(), 2u);
  EXPECT_TRUE(transport_->delays().empty());
}

TEST_F(AsyncClientTest, TransportFailuresAreRetriedUntilMaxAttempts) {
  ScriptedResponse refused;
  refused.transport_error = absl::UnavailableError("connection refused");
  ClientOptions options;
  options.retry.max_attempts = 3;
  Client& client = Make({refused, refused, refused}, options);
  Result<absl::StatusOr<std::optional<v1::Row>>> result;
  client.AsyncReadRow("t", "r", std::nullopt, result.Callback());
  EXPECT_EQ(result.Get().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(result.Get().status().message(), HasSubstr("refused"));
  EXPECT_EQ(transport_->requests().size(), 3u);
}

TEST_F(AsyncClientTest, TheOverallTimeoutEndsRetriesWithDeadlineExceeded) {
  ClientOptions options;
  options.overall_timeout = absl::Milliseconds(100);
  // The Retry-After (1 s) does not fit in what is left of 100 ms.
  Client& client = Make({Unavailable503(absl::Seconds(1))}, options);
  Result<absl::StatusOr<std::optional<v1::Row>>> result;
  const absl::Time before = absl::Now();
  client.AsyncReadRow("t", "r", std::nullopt, result.Callback());
  EXPECT_EQ(result.Get().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(result.Get().status().message(), HasSubstr("no time to retry"));
  // The attempt's deadline is the overall timeout's, not attempt_timeout's
  // (30 s).
  ASSERT_EQ(transport_->deadlines().size(), 1u);
  EXPECT_LT(transport_->deadlines()[0], before + absl::Seconds(1));
}

TEST_F(AsyncClientTest, AClosedClientFailsAtOnce) {
  Client& client = Make({});
  client.Close();
  Result<absl::Status> result;
  client.AsyncMutateRow("t", "r", {SetCell("cf", "q", "v", 1)},
                        result.Callback());
  EXPECT_EQ(result.Get().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(transport_->requests().empty());
}

TEST_F(AsyncClientTest, CancelAsyncCallsClosesTheClient) {
  Client& client = Make({});
  client.CancelAsyncCalls();
  EXPECT_TRUE(client.closed());
  Result<absl::Status> result;
  client.AsyncMutateRow("t", "r", {SetCell("cf", "q", "v", 1)},
                        result.Callback());
  EXPECT_EQ(result.Get().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(AsyncClientWithoutTransportTest, FailsWithFailedPrecondition) {
  auto client = Client::CreateWithTransport(
      ClientOptions(),
      std::make_unique<FakeTransport>(std::vector<ScriptedResponse>{}));
  ASSERT_THAT(client, IsOk());
  Result<absl::Status> result;
  (*client)->AsyncMutateRow("t", "r", {}, result.Callback());
  EXPECT_EQ(result.Get().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace kvstore
