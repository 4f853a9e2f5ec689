// Client lifecycle through the proxy: the RPC status channel.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/common/status_matchers.h"
#include "tests/conformance/harness.h"

using ::kvstore::testing::IsOk;

namespace kvstore::conformance {
namespace {

CONFORMANCE_TEST(ConformanceTest,
                 CreateClient_Generic_DuplicateIdIsAlreadyExists, "CH-3") {
  grpc::Status again = CreateClient(client_id());
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

CONFORMANCE_TEST(ConformanceTest, CreateClient_Generic_EmptyIdIsInvalid,
                 "CH-2") {
  EXPECT_EQ(CreateClient("").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

CONFORMANCE_TEST(ConformanceTest, CreateClient_Generic_MalformedTargetIsInvalid,
                 "CH-2") {
  for (const char* target : {"no-port-here", "127.0.0.1:0", "127.0.0.1:65536",
                             "127.0.0.1:", ":4000", "127.0.0.1:x"}) {
    EXPECT_EQ(CreateClient("bad-target", 0, target).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << target;
  }
}

CONFORMANCE_TEST(ConformanceTest, RemoveClient_Generic_UnknownIsNotFound,
                 "CH-4") {
  EXPECT_EQ(RemoveClient("never-created").error_code(),
            grpc::StatusCode::NOT_FOUND);
}

CONFORMANCE_TEST(ConformanceTest, RemoveClient_Generic_FreesTheName, "LC-4") {
  ASSERT_THAT(CreateClient("reused"), IsOk());
  ASSERT_THAT(RemoveClient("reused"), IsOk());
  EXPECT_EQ(RemoveClient("reused").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(CreateClient("reused"), IsOk());
}

CONFORMANCE_TEST(ConformanceTest,
                 RemoveClient_Generic_CallsOnARemovedClientAreNotFound,
                 "CH-4 LC-4") {
  ASSERT_THAT(CreateClient("gone"), IsOk());
  ASSERT_THAT(RemoveClient("gone"), IsOk());
  tpv1::ReadRowRequest request;
  request.set_client_id("gone");
  request.set_table_name("t");
  request.set_row_key("k");
  tpv1::RowResult result;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  EXPECT_EQ(stub().ReadRow(&context, request, &result).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

CONFORMANCE_TEST(ConformanceTest,
                 CloseClient_Generic_LaterCallsFailPrecondition, "CH-3 LC-3") {
  tpv1::CloseClientRequest request;
  request.set_client_id(client_id());
  tpv1::CloseClientResponse response;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  ASSERT_THAT(stub().CloseClient(&context, request, &response), IsOk());
  auto result = Mutate("k", {SetCell("f", "q", "v")});
  EXPECT_EQ(result.status().code(),
            Code(absl::StatusCode::kFailedPrecondition));
  // Closing does not free the name.
  EXPECT_EQ(CreateClient(client_id()).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

CONFORMANCE_TEST(ConformanceTest, CloseClient_Generic_UnknownIsNotFound,
                 "CH-4") {
  tpv1::CloseClientRequest request;
  request.set_client_id("never-created");
  tpv1::CloseClientResponse response;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  EXPECT_EQ(stub().CloseClient(&context, request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_UnknownClientIsNotFound,
                 "CH-4") {
  tpv1::MutateRowRequest request;
  request.set_client_id("never-created");
  request.set_table_name("t");
  request.mutable_request()->set_row_key("k");
  *request.mutable_request()->add_mutations() = SetCell("f", "q", "v");
  tpv1::MutateRowResult result;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  EXPECT_EQ(stub().MutateRow(&context, request, &result).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_MissingRequestIsInvalid,
                 "CH-2") {
  tpv1::MutateRowRequest request;
  request.set_client_id(client_id());
  request.set_table_name("t");
  tpv1::MutateRowResult result;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  EXPECT_EQ(stub().MutateRow(&context, request, &result).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadRows_Generic_NegativeCancelAfterRowsIsInvalid, "CH-2") {
  tpv1::ReadRowsRequest request;
  request.set_client_id(client_id());
  request.set_table_name("t");
  request.mutable_request();
  request.set_cancel_after_rows(-1);
  tpv1::RowsResult result;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  EXPECT_EQ(stub().ReadRows(&context, request, &result).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

CONFORMANCE_TEST(ConformanceTest, CreateClient_Generic_ClientsAreIndependent,
                 "LC-2") {
  ASSERT_THAT(CreateClient("other"), IsOk());
  tpv1::CloseClientRequest request;
  request.set_client_id("other");
  tpv1::CloseClientResponse response;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  ASSERT_THAT(stub().CloseClient(&context, request, &response), IsOk());
  // Closing "other" leaves this test's client working.
  EXPECT_EQ(Mutate("k", {SetCell("f", "q", "v")}).status().code(), 0);
}

CONFORMANCE_TEST(ConformanceTest,
                 CreateClient_Generic_NonPositiveTimeoutIsInvalid, "CH-2") {
  for (int64_t seconds : {0, -1}) {
    tpv1::CreateClientRequest request;
    request.set_client_id(absl::StrCat("timeout", seconds));
    request.set_data_target(StoreTarget());
    request.mutable_per_operation_timeout()->set_seconds(seconds);
    tpv1::CreateClientResponse response;
    grpc::ClientContext context;
    SetRpcDeadline(&context);
    EXPECT_EQ(stub().CreateClient(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << seconds << " s";
  }
}

CONFORMANCE_TEST(ConformanceTest,
                 CreateClient_Generic_NegativePoolSizeIsInvalid, "CH-2") {
  EXPECT_EQ(CreateClient("pool", 0, "", -1).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// A loopback port that nothing listens on (bound, then closed).
int PortWithoutListener() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

CONFORMANCE_TEST(ConformanceTest, CreateClient_Generic_UnreachableTargetIsLazy,
                 "CH-1 LC-1") {
  const int port = PortWithoutListener();
  ASSERT_NE(port, 0);
  ASSERT_THAT(CreateClient("lazy", 0, absl::StrCat("127.0.0.1:", port)),
              IsOk());
  CallWith("lazy");
  EXPECT_EQ(ReadRow("r").status().code(), Code(absl::StatusCode::kUnavailable));
}

// Every RPC but CreateClient, with client_id `id`; returns their RPC codes.
std::vector<grpc::StatusCode> EveryRpcNaming(tpv1::TestProxy::Stub& stub,
                                             const std::string& id) {
  std::vector<grpc::StatusCode> codes;
  auto run = [&](auto method, auto request, auto response) {
    request.set_client_id(id);
    grpc::ClientContext context;
    SetRpcDeadline(&context);
    codes.push_back((stub.*method)(&context, request, &response).error_code());
  };
  using Stub = tpv1::TestProxy::Stub;
  tpv1::ReadRowRequest read_row;
  read_row.set_row_key("k");
  run(&Stub::ReadRow, read_row, tpv1::RowResult());
  tpv1::ReadRowsRequest read_rows;
  read_rows.mutable_request();
  run(&Stub::ReadRows, read_rows, tpv1::RowsResult());
  tpv1::MutateRowRequest mutate;
  mutate.mutable_request()->set_row_key("k");
  *mutate.mutable_request()->add_mutations() = SetCell("f", "q", "v", 1);
  run(&Stub::MutateRow, mutate, tpv1::MutateRowResult());
  tpv1::MutateRowsRequest bulk;
  auto* entry = bulk.mutable_request()->add_entries();
  entry->set_row_key("k");
  *entry->add_mutations() = SetCell("f", "q", "v", 1);
  run(&Stub::BulkMutateRows, bulk, tpv1::MutateRowsResult());
  tpv1::CheckAndMutateRowRequest cam;
  cam.mutable_request()->set_row_key("k");
  *cam.mutable_request()->add_true_mutations() = SetCell("f", "q", "v", 1);
  run(&Stub::CheckAndMutateRow, cam, tpv1::CheckAndMutateRowResult());
  run(&Stub::SampleRowKeys, tpv1::SampleRowKeysRequest(),
      tpv1::SampleRowKeysResult());
  tpv1::ReadModifyWriteRowRequest rmw;
  rmw.mutable_request()->set_row_key("k");
  *rmw.mutable_request()->add_rules() = IncrementBy("f", "c", 1);
  run(&Stub::ReadModifyWriteRow, rmw, tpv1::RowResult());
  run(&Stub::CloseClient, tpv1::CloseClientRequest(),
      tpv1::CloseClientResponse());
  run(&Stub::RemoveClient, tpv1::RemoveClientRequest(),
      tpv1::RemoveClientResponse());
  return codes;
}

CONFORMANCE_TEST(ConformanceTest, EveryRpc_Generic_EmptyIdIsInvalid, "CH-2") {
  for (grpc::StatusCode code : EveryRpcNaming(stub(), "")) {
    EXPECT_EQ(code, grpc::StatusCode::INVALID_ARGUMENT);
  }
}

CONFORMANCE_TEST(ConformanceTest, EveryRpc_Generic_UnknownClientIsNotFound,
                 "CH-4") {
  for (grpc::StatusCode code : EveryRpcNaming(stub(), "never-created")) {
    EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
  }
}

// The RPCs with a `request` field, without it.
CONFORMANCE_TEST(ConformanceTest, EveryRpc_Generic_MissingRequestIsInvalid,
                 "CH-2") {
  using Stub = tpv1::TestProxy::Stub;
  auto missing = [&](auto method, auto request, auto response) {
    request.set_client_id(client_id());
    request.set_table_name("t");
    grpc::ClientContext context;
    SetRpcDeadline(&context);
    return (stub().*method)(&context, request, &response).error_code();
  };
  EXPECT_EQ(
      missing(&Stub::ReadRows, tpv1::ReadRowsRequest(), tpv1::RowsResult()),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(missing(&Stub::MutateRow, tpv1::MutateRowRequest(),
                    tpv1::MutateRowResult()),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(missing(&Stub::BulkMutateRows, tpv1::MutateRowsRequest(),
                    tpv1::MutateRowsResult()),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(missing(&Stub::CheckAndMutateRow, tpv1::CheckAndMutateRowRequest(),
                    tpv1::CheckAndMutateRowResult()),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(missing(&Stub::ReadModifyWriteRow,
                    tpv1::ReadModifyWriteRowRequest(), tpv1::RowResult()),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace kvstore::conformance
