// kvstore::Client's logic against a scripted fake transport: request shapes,
// status mapping, and the readRows stream parser.
#include "client/client.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvstore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct ScriptedResponse {
  int http_status = 200;
  std::string content_type = "application/x-protobuf";
  std::vector<std::string> pieces;  // the body, as delivered
  absl::Status transport_error;     // returned after delivering the pieces
};

// Answers each Exchange with the next scripted response and records the
// requests and deadlines it saw.
class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(std::vector<ScriptedResponse> script)
      : script_(std::move(script)) {}

  absl::Status Exchange(const HttpRequestSpec& request, absl::Time deadline,
                        ResponseSink& sink) override {
    ScriptedResponse response;
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(request);
      deadlines_.push_back(deadline);
      if (next_ >= script_.size()) {
        return absl::InternalError("fake transport: script exhausted");
      }
      response = script_[next_++];
    }
    sink.OnHead(response.http_status, response.content_type);
    for (const std::string& piece : response.pieces) {
      absl::Status consumed = sink.OnBody(piece);
      if (!consumed.ok()) {
        absl::MutexLock lock(&mu_);
        ++abandoned_;
        return consumed;
      }
    }
    return response.transport_error;
  }

  std::vector<HttpRequestSpec> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<absl::Time> deadlines() {
    absl::MutexLock lock(&mu_);
    return deadlines_;
  }
  int abandoned() {
    absl::MutexLock lock(&mu_);
    return abandoned_;
  }

 private:
  absl::Mutex mu_;
  std::vector<ScriptedResponse> script_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<HttpRequestSpec> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  int abandoned_ ABSL_GUARDED_BY(mu_) = 0;
};

std::string Delimited(const google::protobuf::Message& m) {
  std::string body = m.SerializeAsString();
  std::string out;
  for (uint64_t v = body.size();; v >>= 7) {
    if (v < 0x80) {
      out.push_back(static_cast<char>(v));
      break;
    }
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  }
  return out + body;
}

std::string RowMessage(const std::string& key, const std::string& value) {
  v1::ReadRowsResponse response;
  response.mutable_row()->set_key(key);
  auto* cell =
      response.mutable_row()->add_families()->add_columns()->add_cells();
  cell->set_value(value);
  return Delimited(response);
}

std::string StatusMessage(absl::StatusCode code, const std::string& message) {
  v1::ReadRowsResponse response;
  response.mutable_status()->set_code(static_cast<int>(code));
  response.mutable_status()->set_message(message);
  return Delimited(response);
}

std::string StatusBody(absl::StatusCode code, const std::string& message) {
  v1::Status status;
  status.set_code(static_cast<int>(code));
  status.set_message(message);
  return status.SerializeAsString();
}

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
  Client& client = Make({{200, "application/x-protobuf", {""}, {}}});
  ASSERT_TRUE(
      client.MutateRow("my table", "row", {SetCell("cf", "q", "v", 7)}).ok());
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
             {}},
            {400,
             "application/x-protobuf",
             {StatusBody(absl::StatusCode::kInvalidArgument, "mutations[0]")},
             {}}});
  absl::Status missing = client.MutateRow("t", "r", {DeleteFromRow()});
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "no table 't'");
  EXPECT_EQ(client.MutateRow("t", "r", {}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientTest, AnswersWithoutAStatusBodyUseTheHttpTable) {
  Client& client =
      Make({{503, "text/plain", {"too many connections"}, {}},
            {413, "text/plain", {"body exceeds 8388608 bytes"}, {}},
            {504, "application/x-protobuf", {"\xff\xff garbage"}, {}}});
  absl::Status busy = client.DeleteTable("t");
  EXPECT_EQ(busy.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(busy.message()), HasSubstr("too many connections"));
  EXPECT_EQ(client.DeleteTable("t").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client.DeleteTable("t").code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST_F(ClientTest, TransportErrorsPassThrough) {
  Client& client = Make(
      {{200, "application/x-protobuf", {}, absl::UnavailableError("refused")}});
  EXPECT_EQ(client.DeleteTable("t").code(), absl::StatusCode::kUnavailable);
}

TEST_F(ClientTest, EachCallGetsTheShorterOfItsTimeouts) {
  ClientOptions options;
  options.attempt_timeout = absl::Seconds(3);
  options.overall_timeout = absl::Seconds(100);
  Client& client = Make({{200, "application/x-protobuf", {""}, {}}}, options);
  absl::Time before = absl::Now();
  ASSERT_TRUE(client.DeleteTable("t").ok());
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
  Client& client = Make({{200, "application/x-protobuf", bytewise, {}}});
  std::vector<std::string> keys;
  absl::Status status = client.ReadRows("t", ReadRowsQuery{}, [&](v1::Row row) {
    keys.push_back(row.key());
    return true;
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_THAT(keys, ElementsAre("a", "b"));
}

TEST_F(ClientTest, ReadRowsReturnsTheStreamsFinalStatus) {
  Client& client =
      Make({{200,
             "application/x-protobuf",
             {RowMessage("a", "1") +
              StatusMessage(absl::StatusCode::kInternal, "scan: disk error")},
             {}},
            {200, "application/x-protobuf", {RowMessage("a", "1")}, {}}});
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
             {}}});
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
                          {}}});
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
  Client& client = Make(
      {{200, "application/x-protobuf", {response.SerializeAsString()}, {}}});
  auto results = client.MutateRows(
      "t", {BulkEntry{"a", {SetCell("cf", "q", "v")}}, BulkEntry{"b", {}}});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 2u);
  EXPECT_TRUE((*results)[0].ok());
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
