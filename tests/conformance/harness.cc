#include "tests/conformance/harness.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/builders.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/common/http_test_client.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore::conformance {
namespace {

// Filled before main by CONFORMANCE_TEST's registrations.
std::map<std::string, std::vector<std::string>>& Rules() {
  static auto* rules = new std::map<std::string, std::vector<std::string>>();
  return *rules;
}

HarnessConfig& Config() {
  static HarnessConfig* config = new HarnessConfig();
  return *config;
}

struct ProxyState {
  std::unique_ptr<testing::ServerProcess> process;  // when we started it
  std::string address;
  std::unique_ptr<tpv1::TestProxy::Stub> stub;
};

ProxyState& Proxy() {
  static ProxyState* state = new ProxyState();
  return *state;
}

// One probe before any test: CreateClient without a client_id must fail with
// INVALID_ARGUMENT (docs/conformance.md CH-2). Anything else means nothing
// (or something other than a test proxy) answers at `address`: say so once,
// and stop the run, rather than fail every test.
void ExitUnlessProxyAnswers(tpv1::TestProxy::Stub& stub,
                            const std::string& address) {
  tpv1::CreateClientRequest request;
  tpv1::CreateClientResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  grpc::Status status = stub.CreateClient(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) return;
  std::fprintf(stderr,
               "kvstore_conformance: cannot use the test proxy at %s: a probe "
               "CreateClient without client_id answered %s (%d) '%s', not "
               "INVALID_ARGUMENT. Is a kvstore.testproxy.v1.TestProxy server "
               "listening there? Stopping.\n",
               address.c_str(),
               absl::StatusCodeToString(
                   static_cast<absl::StatusCode>(status.error_code()))
                   .c_str(),
               static_cast<int>(status.error_code()),
               status.error_message().c_str());
  std::fflush(stderr);
  std::exit(2);
}

}  // namespace

void SetRpcDeadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(60));
}

bool RegisterRules(const char* name, const char* rules) {
  std::vector<std::string> ids = absl::StrSplit(rules, ' ', absl::SkipEmpty());
  if (!Rules().emplace(name, std::move(ids)).second) {
    std::fprintf(stderr, "kvstore_conformance: two tests are named %s\n", name);
    std::abort();
  }
  return true;
}

const std::map<std::string, std::vector<std::string>>& RegisteredRules() {
  return Rules();
}

void SetHarnessConfig(HarnessConfig config) { Config() = std::move(config); }
const HarnessConfig& GetHarnessConfig() { return Config(); }

void ProxyEnvironment::SetUp() {
  ProxyState& proxy = Proxy();
  proxy.address = Config().proxy_addr;
  if (proxy.address.empty()) {
    auto started = testing::ServerProcess::Start(Config().proxy_binary, {});
    ASSERT_TRUE(started.ok()) << "starting the proxy " << Config().proxy_binary
                              << ": " << started.status();
    proxy.process = std::move(*started);
    proxy.address = absl::StrCat("127.0.0.1:", proxy.process->port());
  }
  proxy.stub = tpv1::TestProxy::NewStub(
      grpc::CreateChannel(proxy.address, grpc::InsecureChannelCredentials()));
  ExitUnlessProxyAnswers(*proxy.stub, proxy.address);
}

void ProxyEnvironment::TearDown() {
  ProxyState& proxy = Proxy();
  proxy.stub.reset();
  if (proxy.process != nullptr) {
    EXPECT_THAT(proxy.process->Stop(), IsOk());
    proxy.process.reset();
  }
}

tpv1::TestProxy::Stub& ProxyEnvironment::Stub() { return *Proxy().stub; }
const std::string& ProxyEnvironment::Address() { return Proxy().address; }

void ConformanceTest::SetUp() {
  current_ = this;
  ASSERT_NE(Proxy().stub, nullptr) << "the proxy did not start";
  auto store = testing::ServerProcess::Start(
      Config().store_binary, {"--in_memory", "--error_injection"});
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = std::move(*store);
  auto http = testing::HttpTestClient::Connect(store_->port());
  ASSERT_TRUE(http.ok()) << http.status();
  auto created = (*http)->Request("POST", "/v1/tables",
                                  R"({"table": {"name": "t", "columnFamilies": [
          {"name": "f"}, {"name": "g"},
          {"name": "one", "gcRule": {"maxVersions": 1}},
          {"name": "three", "gcRule": {"maxVersions": 3}}]}})",
                                  {{"Content-Type", "application/json"}});
  ASSERT_TRUE(created.ok() && created->status == 200)
      << (created.ok() ? created->body : created.status().ToString());
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  client_id_ = absl::StrCat(info->test_suite_name(), ".", info->name());
  caller_ = client_id_;
  auto injection = InjectionClient::Create(StoreTarget());
  ASSERT_TRUE(injection.ok()) << injection.status();
  injection_ = std::move(*injection);
  if (!Config().timeline_dir.empty()) {
    ASSERT_TRUE(SubscribeToEvents());
  }
  ASSERT_THAT(CreateClient(client_id_), IsOk());
  extra_clients_.clear();  // CreateClient recorded it; it is ours
}

void ConformanceTest::TearDown() {
  // Nothing stays parked in the store when the test ends.
  if (injection_ != nullptr) injection_->DisarmAll().IgnoreError();
  WriteTimeline();
  current_ = nullptr;
  events_.reset();
  if (!client_id_.empty()) RemoveClient(client_id_).ok();
  for (const std::string& id : extra_clients_) RemoveClient(id).ok();
}

bool ConformanceTest::SubscribeToEvents() {
  if (events_ != nullptr) return true;
  InjectionEventStreamOptions options;
  options.endpoint = StoreTarget();
  options.since = 0;
  options.journal = true;  // each request the store answered, as an event
  auto made = InjectionEventStream::Connect(options);
  if (!made.ok()) {
    ADD_FAILURE() << "subscribing to the store's events: " << made.status();
    return false;
  }
  events_ = std::move(*made);
  return true;
}

void ConformanceTest::Arm(
    const std::string& point,
    const std::map<std::string, std::string>& parameters) {
  absl::Status armed = Injection().Arm(point, parameters);
  ASSERT_TRUE(armed.ok()) << point << ": " << armed;
}

int ConformanceTest::CountUntilDisarmed(const std::string& point,
                                        const std::string& phase) {
  EXPECT_THAT(Injection().Disarm(point), IsOk());
  auto disarmed = Events().WaitFor(point, "disarmed", absl::Seconds(30));
  EXPECT_TRUE(disarmed.ok()) << disarmed.status();
  return Events().Count(point, phase);
}

grpc::Status ConformanceTest::CloseClient(const std::string& id) {
  tpv1::CloseClientRequest request;
  request.set_client_id(id);
  tpv1::CloseClientResponse response;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  const absl::Time start = absl::Now();
  grpc::Status status = stub().CloseClient(&context, request, &response);
  RecordRpc("CloseClient", id, start, status, 0, "");
  return status;
}

std::string ConformanceTest::StoreTarget() const {
  return absl::StrCat("127.0.0.1:", store_->port());
}

grpc::Status ConformanceTest::CreateClient(const std::string& id,
                                           int timeout_ms,
                                           const std::string& target,
                                           int pool_size) {
  tpv1::CreateClientRequest request;
  request.set_client_id(id);
  request.set_data_target(target.empty() ? StoreTarget() : target);
  if (timeout_ms > 0) {
    request.mutable_per_operation_timeout()->set_seconds(timeout_ms / 1000);
    request.mutable_per_operation_timeout()->set_nanos((timeout_ms % 1000) *
                                                       1000000);
  }
  request.set_pool_size(pool_size);
  tpv1::CreateClientResponse response;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  const absl::Time start = absl::Now();
  grpc::Status status = stub().CreateClient(&context, request, &response);
  RecordRpc("CreateClient", absl::StrCat(id, " on ", request.data_target()),
            start, status, 0, "");
  if (status.ok()) extra_clients_.push_back(id);
  return status;
}

grpc::Status ConformanceTest::RemoveClient(const std::string& id) {
  tpv1::RemoveClientRequest request;
  request.set_client_id(id);
  tpv1::RemoveClientResponse response;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  const absl::Time start = absl::Now();
  grpc::Status status = stub().RemoveClient(&context, request, &response);
  RecordRpc("RemoveClient", id, start, status, 0, "");
  return status;
}

tpv1::MutateRowResult ConformanceTest::Mutate(
    const std::string& key, std::vector<v1::Mutation> mutations,
    const std::string& table) {
  tpv1::MutateRowRequest request;
  request.set_client_id(caller_);
  request.set_table_name(table);
  request.mutable_request()->set_row_key(key);
  for (v1::Mutation& m : mutations) {
    *request.mutable_request()->add_mutations() = std::move(m);
  }
  tpv1::MutateRowResult result;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  const absl::Time start = absl::Now();
  grpc::Status rpc = stub().MutateRow(&context, request, &result);
  EXPECT_TRUE(rpc.ok()) << rpc.error_message();
  RecordRpc("MutateRow", absl::StrCat("row ", key, " of ", table), start, rpc,
            result.status().code(), result.status().message());
  return result;
}

tpv1::RowResult ConformanceTest::ReadRow(const std::string& key,
                                         const v1::RowFilter* filter,
                                         const std::string& table) {
  tpv1::ReadRowRequest request;
  request.set_client_id(caller_);
  request.set_table_name(table);
  request.set_row_key(key);
  if (filter != nullptr) *request.mutable_filter() = *filter;
  tpv1::RowResult result;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  const absl::Time start = absl::Now();
  grpc::Status rpc = stub().ReadRow(&context, request, &result);
  EXPECT_TRUE(rpc.ok()) << rpc.error_message();
  RecordRpc("ReadRow", absl::StrCat("row ", key, " of ", table), start, rpc,
            result.status().code(), result.status().message());
  return result;
}

tpv1::RowsResult ConformanceTest::ReadRows(const v1::ReadRowsRequest& read,
                                           int cancel_after_rows,
                                           const std::string& table) {
  tpv1::ReadRowsRequest request;
  request.set_client_id(caller_);
  request.set_table_name(table);
  *request.mutable_request() = read;
  request.set_cancel_after_rows(cancel_after_rows);
  tpv1::RowsResult result;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  const absl::Time start = absl::Now();
  grpc::Status rpc = stub().ReadRows(&context, request, &result);
  EXPECT_TRUE(rpc.ok()) << rpc.error_message();
  RecordRpc("ReadRows", absl::StrCat(table, ", ", read.ShortDebugString()),
            start, rpc, result.status().code(), result.status().message());
  return result;
}

tpv1::MutateRowsResult ConformanceTest::Bulk(const v1::MutateRowsRequest& bulk,
                                             const std::string& table) {
  tpv1::MutateRowsRequest request;
  request.set_client_id(caller_);
  request.set_table_name(table);
  *request.mutable_request() = bulk;
  tpv1::MutateRowsResult result;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  const absl::Time start = absl::Now();
  grpc::Status rpc = stub().BulkMutateRows(&context, request, &result);
  EXPECT_TRUE(rpc.ok()) << rpc.error_message();
  RecordRpc("BulkMutateRows",
            absl::StrCat(bulk.entries_size(), " entries in ", table), start,
            rpc, result.status().code(), result.status().message());
  return result;
}

tpv1::CheckAndMutateRowResult ConformanceTest::CheckAndMutate(
    const v1::CheckAndMutateRowRequest& cam, const std::string& table) {
  tpv1::CheckAndMutateRowRequest request;
  request.set_client_id(caller_);
  request.set_table_name(table);
  *request.mutable_request() = cam;
  tpv1::CheckAndMutateRowResult result;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  const absl::Time start = absl::Now();
  grpc::Status rpc = stub().CheckAndMutateRow(&context, request, &result);
  EXPECT_TRUE(rpc.ok()) << rpc.error_message();
  RecordRpc("CheckAndMutateRow",
            absl::StrCat("row ", cam.row_key(), " of ", table), start, rpc,
            result.status().code(), result.status().message());
  return result;
}

tpv1::RowResult ConformanceTest::ReadModifyWrite(
    const std::string& key, std::vector<v1::ReadModifyWriteRule> rules,
    const std::string& table) {
  tpv1::ReadModifyWriteRowRequest request;
  request.set_client_id(caller_);
  request.set_table_name(table);
  request.mutable_request()->set_row_key(key);
  for (v1::ReadModifyWriteRule& r : rules) {
    *request.mutable_request()->add_rules() = std::move(r);
  }
  tpv1::RowResult result;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  const absl::Time start = absl::Now();
  grpc::Status rpc = stub().ReadModifyWriteRow(&context, request, &result);
  EXPECT_TRUE(rpc.ok()) << rpc.error_message();
  RecordRpc("ReadModifyWriteRow", absl::StrCat("row ", key, " of ", table),
            start, rpc, result.status().code(), result.status().message());
  return result;
}

tpv1::SampleRowKeysResult ConformanceTest::Sample(const std::string& table) {
  tpv1::SampleRowKeysRequest request;
  request.set_client_id(caller_);
  request.set_table_name(table);
  tpv1::SampleRowKeysResult result;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  const absl::Time start = absl::Now();
  grpc::Status rpc = stub().SampleRowKeys(&context, request, &result);
  EXPECT_TRUE(rpc.ok()) << rpc.error_message();
  RecordRpc("SampleRowKeys", table, start, rpc, result.status().code(),
            result.status().message());
  return result;
}

std::vector<std::string> ConformanceTest::Keys(const tpv1::RowsResult& result) {
  std::vector<std::string> keys;
  for (const auto& row : result.rows()) keys.push_back(row.key());
  return keys;
}

void ConformanceTest::Put(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    auto result = Mutate(key, {SetCell("f", "q", key)});
    ASSERT_EQ(result.status().code(), 0) << result.status().message();
  }
}

}  // namespace kvstore::conformance
