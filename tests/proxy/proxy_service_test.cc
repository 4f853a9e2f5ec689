// The TestProxy service in process, over a real gRPC channel, against a real
// store: the two error channels, client lifecycle, every data RPC, timeouts,
// concurrency (reflection and health: reflection_test.cc).
#include "proxy/proxy_service.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/channel.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "proxy/proxy_server.h"
#include "tests/common/server_process.h"
#include "tests/common/silent_listener.h"
#include "tests/common/status_matchers.h"
#include "tests/proxy/in_process_proxy.h"

using ::kvstore::testing::IsOk;

namespace kvstore::proxy {
namespace {

using ::testing::ElementsAre;
using testing::ServerProcess;

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = ServerProcess::Start(KVSTORE_SERVER_BINARY, {"--in_memory"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    service_ = std::make_unique<ProxyService>(ProxyOptions{});
    absl::StatusOr<InProcessProxy> started =
        StartInProcessProxy(service_.get());
    ASSERT_TRUE(started.ok()) << started.status();
    proxy_ = std::move(started->server);
    channel_ = started->channel;
    stub_ = tpv1::TestProxy::NewStub(channel_);
    ASSERT_THAT(Create("c"), IsOk());
  }

  void TearDown() override {
    if (proxy_ != nullptr) proxy_->Shutdown(absl::Now());
  }

  std::string StoreTarget() const {
    return absl::StrCat("127.0.0.1:", store_->port());
  }

  grpc::Status Create(const std::string& id, std::string target = "",
                      int timeout_ms = 0) {
    tpv1::CreateClientRequest request;
    request.set_client_id(id);
    request.set_data_target(target.empty() ? StoreTarget() : target);
    if (timeout_ms > 0) {
      request.mutable_per_operation_timeout()->set_seconds(timeout_ms / 1000);
      request.mutable_per_operation_timeout()->set_nanos(timeout_ms % 1000 *
                                                         1000000);
    }
    tpv1::CreateClientResponse response;
    grpc::ClientContext context;
    return stub_->CreateClient(&context, request, &response);
  }

  grpc::Status Remove(const std::string& id) {
    tpv1::RemoveClientRequest request;
    request.set_client_id(id);
    tpv1::RemoveClientResponse response;
    grpc::ClientContext context;
    return stub_->RemoveClient(&context, request, &response);
  }

  grpc::Status Mutate(const std::string& id, const std::string& table,
                      const std::string& key, const std::string& value,
                      tpv1::MutateRowResult* result) {
    tpv1::MutateRowRequest request;
    request.set_client_id(id);
    request.set_table_name(table);
    request.mutable_request()->set_row_key(key);
    *request.mutable_request()->add_mutations() = SetCell("cf", "q", value);
    grpc::ClientContext context;
    return stub_->MutateRow(&context, request, result);
  }

  grpc::Status Read(const std::string& id, const std::string& table,
                    const std::string& key, tpv1::RowResult* result) {
    tpv1::ReadRowRequest request;
    request.set_client_id(id);
    request.set_table_name(table);
    request.set_row_key(key);
    grpc::ClientContext context;
    return stub_->ReadRow(&context, request, result);
  }

  std::unique_ptr<ServerProcess> store_;
  std::unique_ptr<ProxyService> service_;
  std::unique_ptr<ProxyServer> proxy_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<tpv1::TestProxy::Stub> stub_;
};

TEST_F(ProxyTest, ClientLifecycleUsesTheRpcStatus) {
  EXPECT_EQ(Create("c").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Create("").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Create("bad", "nowhere").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  tpv1::MutateRowResult result;
  EXPECT_EQ(Mutate("ghost", "default", "k", "v", &result).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Remove("ghost").error_code(), grpc::StatusCode::NOT_FOUND);
  tpv1::MutateRowRequest no_request;
  no_request.set_client_id("c");
  grpc::ClientContext context;
  EXPECT_EQ(stub_->MutateRow(&context, no_request, &result).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Closed: the name stays taken, calls report FAILED_PRECONDITION in-band.
  tpv1::CloseClientRequest close;
  close.set_client_id("c");
  tpv1::CloseClientResponse closed;
  grpc::ClientContext close_context;
  ASSERT_THAT(stub_->CloseClient(&close_context, close, &closed), IsOk());
  ASSERT_THAT(Mutate("c", "default", "k", "v", &result), IsOk());
  EXPECT_EQ(result.status().code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Create("c").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  // Removed: the name is free again.
  ASSERT_THAT(Remove("c"), IsOk());
  EXPECT_EQ(service_->ClientCount(), 0u);
  ASSERT_THAT(Create("c"), IsOk());
  ASSERT_THAT(Mutate("c", "default", "k", "v", &result), IsOk());
  EXPECT_EQ(result.status().code(), 0);
}

// Input echoed in an error is bounded: a huge target or id must come back as
// INVALID_ARGUMENT / NOT_FOUND, not as gRPC's RESOURCE_EXHAUSTED for metadata
// over its limit.
TEST_F(ProxyTest, HugeInputsGiveBoundedErrors) {
  grpc::Status bad_target = Create("big", std::string(100000, 't'));
  EXPECT_EQ(bad_target.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << bad_target.error_message().substr(0, 200);
  EXPECT_LT(bad_target.error_message().size(), 1000u);
  grpc::Status unknown = Remove(std::string(20000, 'c'));
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND)
      << unknown.error_message().substr(0, 200);
  EXPECT_LT(unknown.error_message().size(), 1000u);
}

TEST_F(ProxyTest, LibraryOutcomesGoInTheResult) {
  tpv1::MutateRowResult mutated;
  ASSERT_THAT(Mutate("c", "default", "k1", "v1", &mutated), IsOk());
  EXPECT_EQ(mutated.status().code(), 0);
  tpv1::RowResult row;
  ASSERT_THAT(Read("c", "default", "k1", &row), IsOk());
  EXPECT_EQ(row.status().code(), 0);
  EXPECT_EQ(row.row().families(0).columns(0).cells(0).value(), "v1");
  // A missing row: OK, no row.
  tpv1::RowResult missing;
  ASSERT_THAT(Read("c", "default", "nope", &missing), IsOk());
  EXPECT_EQ(missing.status().code(), 0);
  EXPECT_FALSE(missing.has_row());
  // An unknown table: the RPC is OK, the store's NOT_FOUND is in the result.
  ASSERT_THAT(Mutate("c", "no_table", "k", "v", &mutated), IsOk());
  EXPECT_EQ(mutated.status().code(),
            static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_THAT(mutated.status().message(), ::testing::HasSubstr("no_table"));
}

TEST_F(ProxyTest, ReadRowsCanStopAfterSomeRows) {
  tpv1::MutateRowResult mutated;
  for (const char* key : {"a", "b", "c", "d"}) {
    ASSERT_THAT(Mutate("c", "default", key, key, &mutated), IsOk());
  }
  tpv1::ReadRowsRequest request;
  request.set_client_id("c");
  request.set_table_name("default");
  request.mutable_request();  // every row
  request.set_cancel_after_rows(3);
  tpv1::RowsResult result;
  grpc::ClientContext context;
  ASSERT_THAT(stub_->ReadRows(&context, request, &result), IsOk());
  EXPECT_EQ(result.status().code(), 0);
  std::vector<std::string> keys;
  for (const auto& row : result.rows()) keys.push_back(row.key());
  EXPECT_THAT(keys, ElementsAre("a", "b", "c"));
}

TEST_F(ProxyTest, BulkMutateRowsReportsFailedEntriesByIndex) {
  tpv1::MutateRowsRequest request;
  request.set_client_id("c");
  request.set_table_name("default");
  auto* good = request.mutable_request()->add_entries();
  good->set_row_key("ok");
  *good->add_mutations() = SetCell("cf", "q", "v");
  auto* bad_family = request.mutable_request()->add_entries();
  bad_family->set_row_key("x");
  *bad_family->add_mutations() = SetCell("nope", "q", "v");
  auto* no_mutations = request.mutable_request()->add_entries();
  no_mutations->set_row_key("y");
  tpv1::MutateRowsResult result;
  grpc::ClientContext context;
  ASSERT_THAT(stub_->BulkMutateRows(&context, request, &result), IsOk());
  ASSERT_EQ(result.entries_size(), 2);
  EXPECT_EQ(result.entries(0).index(), 1);
  EXPECT_EQ(result.entries(0).status().code(),
            static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_EQ(result.entries(1).index(), 2);
  EXPECT_EQ(result.entries(1).status().code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(result.status().code(),
            static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_THAT(result.status().message(), ::testing::HasSubstr("2 of 3"));
  tpv1::RowResult row;
  ASSERT_THAT(Read("c", "default", "ok", &row), IsOk());
  EXPECT_TRUE(row.has_row());
}

TEST_F(ProxyTest, ConditionalReadModifyWriteAndSamples) {
  tpv1::CheckAndMutateRowRequest cam;
  cam.set_client_id("c");
  cam.set_table_name("default");
  cam.mutable_request()->set_row_key("r");
  *cam.mutable_request()->add_false_mutations() = SetCell("cf", "q", "made");
  tpv1::CheckAndMutateRowResult cam_result;
  grpc::ClientContext cam_context;
  ASSERT_THAT(stub_->CheckAndMutateRow(&cam_context, cam, &cam_result), IsOk());
  EXPECT_EQ(cam_result.status().code(), 0);
  EXPECT_FALSE(cam_result.predicate_matched());

  tpv1::ReadModifyWriteRowRequest rmw;
  rmw.set_client_id("c");
  rmw.set_table_name("default");
  rmw.mutable_request()->set_row_key("r");
  *rmw.mutable_request()->add_rules() = AppendValue("cf", "q", "+");
  tpv1::RowResult rmw_result;
  grpc::ClientContext rmw_context;
  ASSERT_THAT(stub_->ReadModifyWriteRow(&rmw_context, rmw, &rmw_result),
              IsOk());
  EXPECT_EQ(rmw_result.row().families(0).columns(0).cells(0).value(), "made+");

  tpv1::SampleRowKeysRequest sample;
  sample.set_client_id("c");
  sample.set_table_name("default");
  tpv1::SampleRowKeysResult samples;
  grpc::ClientContext sample_context;
  ASSERT_THAT(stub_->SampleRowKeys(&sample_context, sample, &samples), IsOk());
  EXPECT_EQ(samples.status().code(), 0);
  ASSERT_GE(samples.samples_size(), 1);
  EXPECT_EQ(samples.samples(samples.samples_size() - 1).row_key(), "");
}

TEST_F(ProxyTest, PerOperationTimeoutBoundsEachCall) {
  // A listener that never answers: connections complete in the backlog, but
  // no response ever comes.
  testing::SilentListener silent;
  ASSERT_NE(silent.port(), 0);
  ASSERT_THAT(Create("slow", absl::StrCat("127.0.0.1:", silent.port()), 200),
              IsOk());
  tpv1::RowResult row;
  ASSERT_THAT(Read("slow", "default", "k", &row), IsOk());
  EXPECT_EQ(row.status().code(),
            static_cast<int>(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(ProxyTest, ShutdownEndsCallsWaitingOnTheStore) {
  testing::SilentListener silent;
  ASSERT_NE(silent.port(), 0);
  // Without cancellation, the call would wait on the silent store for 10
  // minutes (and the test would time out).
  ASSERT_THAT(
      Create("stuck", absl::StrCat("127.0.0.1:", silent.port()), 600 * 1000),
      IsOk());
  const int idle = service_->LiveAsyncCalls();  // one waiting per method
  grpc::Status rpc;
  tpv1::RowResult row;
  std::thread reader([&] { rpc = Read("stuck", "default", "k", &row); });
  while (service_->LiveAsyncCalls() == idle)
    absl::SleepFor(absl::Milliseconds(1));
  proxy_->Shutdown(absl::Now());
  reader.join();
  EXPECT_TRUE(!rpc.ok() || row.status().code() != 0)
      << "a call to a store that never answers cannot succeed";
  EXPECT_EQ(service_->LiveAsyncCalls(), 0);
}

TEST_F(ProxyTest, ManyClientsAndCallsAtOnce) {
  constexpr int kThreads = 8, kRounds = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        std::string id = absl::StrCat("c", t, "-", i);
        if (!Create(id).ok()) ++failures;
        tpv1::MutateRowResult mutated;
        std::string key = absl::StrCat("k", t, "-", i);
        if (!Mutate(id, "default", key, id, &mutated).ok() ||
            mutated.status().code() != 0) {
          ++failures;
        }
        // The shared client keeps serving while others come and go.
        tpv1::RowResult row;
        if (!Read("c", "default", key, &row).ok() || !row.has_row() ||
            row.row().families(0).columns(0).cells(0).value() != id) {
          ++failures;
        }
        if (!Remove(id).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(service_->ClientCount(), 1u);  // only "c"
}

}  // namespace
}  // namespace kvstore::proxy
