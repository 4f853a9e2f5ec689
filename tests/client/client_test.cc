// kvstore::Client's logic against a scripted fake transport: request shapes,
// status mapping, and the readRows stream parser.
#include "client/client.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_transport.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ClientTest : public ::testing::Test {
 protected:
  Client& Make(std::vector<ScriptedResponse> script,
               ClientOptions options = ClientOptions()) {
    auto transport = std::make_unique<FakeTransport>(std::move(script));
    transport_ = transport.get();
    auto client = Client::CreateWithTransport(options, std::move(transport));
    EXPECT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    return *client_;
  }

  FakeTransport* transport_ = nullptr;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, MutateRowSendsTheRequestAsProtobuf) {
  Client& client =
      Make({{200, "application/x-protobuf", {""}, {}, std::nullopt}});
  ASSERT_THAT(client.MutateRow("my table", "row", {SetCell("cf", "q", "v", 7)}),
              IsOk());
  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/tables/my%20table:mutateRow");
  v1::MutateRowRequest sent;
  ASSERT_TRUE(sent.ParseFromString(requests[0].body));
  EXPECT_EQ(sent.row_key(), "row");
  ASSERT_EQ(sent.mutations_size(), 1);
  EXPECT_EQ(sent.mutations(0).set_cell().family_name(), "cf");
  EXPECT_EQ(sent.mutations(0).set_cell().timestamp_micros(), 7);
}

TEST_F(ClientTest, StoreErrorsKeepTheirCodeAndMessage) {
  Client& client =
      Make({{404,
             "application/x-protobuf",
             {StatusBody(absl::StatusCode::kNotFound, "no table 't'")},
             {},
             std::nullopt},
            {400,
             "application/x-protobuf",
             {StatusBody(absl::StatusCode::kInvalidArgument, "mutations[0]")},
             {},
             std::nullopt}});
  absl::Status missing = client.MutateRow("t", "r", {DeleteFromRow()});
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "no table 't'");
  EXPECT_EQ(client.MutateRow("t", "r", {}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientTest, AnswersWithoutAStatusBodyUseTheHttpTable) {
  Client& client = Make(
      {{503, "text/plain", {"too many connections"}, {}, std::nullopt},
       {413, "text/plain", {"body exceeds 8388608 bytes"}, {}, std::nullopt},
       {504,
        "application/x-protobuf",
        {"\xff\xff garbage"},
        {},
        std::nullopt}});
  absl::Status busy = client.DeleteTable("t");
  EXPECT_EQ(busy.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(busy.message()), HasSubstr("too many connections"));
  EXPECT_EQ(client.DeleteTable("t").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client.DeleteTable("t").code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST_F(ClientTest, TransportErrorsPassThrough) {
  Client& client = Make({{200,
                          "application/x-protobuf",
                          {},
                          absl::UnavailableError("refused"),
                          std::nullopt}});
  EXPECT_EQ(client.DeleteTable("t").code(), absl::StatusCode::kUnavailable);
}

TEST_F(ClientTest, EachCallGetsTheShorterOfItsTimeouts) {
  ClientOptions options;
  options.attempt_timeout = absl::Seconds(3);
  options.overall_timeout = absl::Seconds(100);
  Client& client =
      Make({{200, "application/x-protobuf", {""}, {}, std::nullopt}}, options);
  absl::Time before = absl::Now();
  ASSERT_THAT(client.DeleteTable("t"), IsOk());
  absl::Time deadline = transport_->deadlines().at(0);
  EXPECT_GE(deadline, before + absl::Seconds(3));
  EXPECT_LE(deadline, absl::Now() + absl::Seconds(3));
}

TEST_F(ClientTest, ReadRowsParsesAStreamCutAnywhere) {
  std::string body = RowMessage("a", "1") +
                     RowMessage("b", std::string(300, 'x')) +
                     StatusMessage(absl::StatusCode::kOk, "");
  std::vector<std::string> bytewise;
  for (char c : body) bytewise.push_back(std::string(1, c));
  Client& client =
      Make({{200, "application/x-protobuf", bytewise, {}, std::nullopt}});
  std::vector<std::string> keys;
  absl::Status status = client.ReadRows("t", ReadRowsQuery{}, [&](v1::Row row) {
    keys.push_back(row.key());
    return true;
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_THAT(keys, ElementsAre("a", "b"));
}

TEST_F(ClientTest, ReadRowsReturnsTheStreamsFinalStatus) {
  ClientOptions no_retries;  // (retry_test.cc covers resuming)
  no_retries.retry.max_attempts = 1;
  Client& client =
      Make({{200,
             "application/x-protobuf",
             {RowMessage("a", "1") +
              StatusMessage(absl::StatusCode::kInternal, "scan: disk error")},
             {},
             std::nullopt},
            {200,
             "application/x-protobuf",
             {RowMessage("a", "1")},
             {},
             std::nullopt}},
           no_retries);
  int rows = 0;
  absl::Status failed = client.ReadRows("t", ReadRowsQuery{}, [&](v1::Row) {
    ++rows;
    return true;
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(rows, 1);
  // No final status: the stream was cut short.
  EXPECT_EQ(client.ReadRows("t", ReadRowsQuery{}, [](v1::Row) { return true; })
                .code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(ClientTest, ReadRowsStopsWhenTheCallerSaysSo) {
  Client& client =
      Make({{200,
             "application/x-protobuf",
             {RowMessage("a", "1"), RowMessage("b", "2"), RowMessage("c", "3")},
             {},
             std::nullopt}});
  std::vector<std::string> keys;
  absl::Status status = client.ReadRows("t", ReadRowsQuery{}, [&](v1::Row row) {
    keys.push_back(row.key());
    return keys.size() < 2;
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_THAT(keys, ElementsAre("a", "b"));
  EXPECT_EQ(transport_->abandoned(), 1);  // the rest was not read
}

TEST_F(ClientTest, ReadRowSendsTheQueryAndReturnsNothingForAMissingRow) {
  Client& client = Make({{200,
                          "application/x-protobuf",
                          {StatusMessage(absl::StatusCode::kOk, "")},
                          {},
                          std::nullopt}});
  auto row = client.ReadRow("t", "k", CellsPerColumn(1));
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_FALSE(row->has_value());
  v1::ReadRowsRequest sent;
  ASSERT_TRUE(sent.ParseFromString(transport_->requests().at(0).body));
  EXPECT_THAT(sent.rows().row_keys(), ElementsAre("k"));
  EXPECT_EQ(sent.filter().cells_per_column_limit(), 1);
}

TEST_F(ClientTest, MutateRowsMapsEntryStatusesByIndex) {
  v1::MutateRowsResponse response;
  auto* second = response.add_entries();
  second->set_index(1);
  second->mutable_status()->set_code(
      static_cast<int>(absl::StatusCode::kInvalidArgument));
  second->mutable_status()->set_message("entries[1].mutations: empty");
  response.add_entries()->set_index(0);
  Client& client = Make({{200,
                          "application/x-protobuf",
                          {response.SerializeAsString()},
                          {},
                          std::nullopt}});
  auto results = client.MutateRows(
      "t", {BulkEntry{"a", {SetCell("cf", "q", "v")}}, BulkEntry{"b", {}}});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 2u);
  EXPECT_THAT((*results)[0], IsOk());
  EXPECT_EQ((*results)[1].code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClientCreateTest, RejectsBadEndpointsAndOptions) {
  ClientOptions options;
  options.endpoint = "localhost";
  EXPECT_EQ(Client::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.endpoint = "not-an-ip:4000";
  EXPECT_EQ(Client::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.endpoint = "127.0.0.1:4000";
  options.pool_size = 0;
  EXPECT_EQ(Client::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kvstore
