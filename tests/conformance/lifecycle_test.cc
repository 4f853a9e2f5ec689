// Client lifecycle through the proxy: the RPC status channel.
#include "tests/conformance/harness.h"

namespace kvstore::conformance {
namespace {

TEST_F(ConformanceTest, CreateClient_Generic_DuplicateIdIsAlreadyExists) {
  grpc::Status again = CreateClient(client_id());
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(ConformanceTest, CreateClient_Generic_EmptyIdIsInvalid) {
  EXPECT_EQ(CreateClient("").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ConformanceTest, CreateClient_Generic_MalformedTargetIsInvalid) {
  EXPECT_EQ(CreateClient("bad-target", 0, "no-port-here").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ConformanceTest, RemoveClient_Generic_UnknownIsNotFound) {
  EXPECT_EQ(RemoveClient("never-created").error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ConformanceTest, RemoveClient_Generic_FreesTheName) {
  ASSERT_TRUE(CreateClient("reused").ok());
  ASSERT_TRUE(RemoveClient("reused").ok());
  EXPECT_EQ(RemoveClient("reused").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(CreateClient("reused").ok());
}

TEST_F(ConformanceTest, RemoveClient_Generic_CallsOnARemovedClientAreNotFound) {
  ASSERT_TRUE(CreateClient("gone").ok());
  ASSERT_TRUE(RemoveClient("gone").ok());
  tpv1::ReadRowRequest request;
  request.set_client_id("gone");
  request.set_table_name("t");
  request.set_row_key("k");
  tpv1::RowResult result;
  grpc::ClientContext context;
  EXPECT_EQ(stub().ReadRow(&context, request, &result).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ConformanceTest, CloseClient_Generic_LaterCallsFailPrecondition) {
  tpv1::CloseClientRequest request;
  request.set_client_id(client_id());
  tpv1::CloseClientResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub().CloseClient(&context, request, &response).ok());
  auto result = Mutate("k", {SetCell("f", "q", "v")});
  EXPECT_EQ(result.status().code(),
            Code(absl::StatusCode::kFailedPrecondition));
  // Closing does not free the name.
  EXPECT_EQ(CreateClient(client_id()).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(ConformanceTest, CloseClient_Generic_UnknownIsNotFound) {
  tpv1::CloseClientRequest request;
  request.set_client_id("never-created");
  tpv1::CloseClientResponse response;
  grpc::ClientContext context;
  EXPECT_EQ(stub().CloseClient(&context, request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ConformanceTest, MutateRow_Generic_UnknownClientIsNotFound) {
  tpv1::MutateRowRequest request;
  request.set_client_id("never-created");
  request.set_table_name("t");
  request.mutable_request()->set_row_key("k");
  *request.mutable_request()->add_mutations() = SetCell("f", "q", "v");
  tpv1::MutateRowResult result;
  grpc::ClientContext context;
  EXPECT_EQ(stub().MutateRow(&context, request, &result).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ConformanceTest, MutateRow_Generic_MissingRequestIsInvalid) {
  tpv1::MutateRowRequest request;
  request.set_client_id(client_id());
  request.set_table_name("t");
  tpv1::MutateRowResult result;
  grpc::ClientContext context;
  EXPECT_EQ(stub().MutateRow(&context, request, &result).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ConformanceTest, ReadRows_Generic_NegativeCancelAfterRowsIsInvalid) {
  tpv1::ReadRowsRequest request;
  request.set_client_id(client_id());
  request.set_table_name("t");
  request.mutable_request();
  request.set_cancel_after_rows(-1);
  tpv1::RowsResult result;
  grpc::ClientContext context;
  EXPECT_EQ(stub().ReadRows(&context, request, &result).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ConformanceTest, CreateClient_Generic_ClientsAreIndependent) {
  ASSERT_TRUE(CreateClient("other").ok());
  tpv1::CloseClientRequest request;
  request.set_client_id("other");
  tpv1::CloseClientResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub().CloseClient(&context, request, &response).ok());
  // Closing "other" leaves this test's client working.
  EXPECT_EQ(Mutate("k", {SetCell("f", "q", "v")}).status().code(), 0);
}

}  // namespace
}  // namespace kvstore::conformance
