#include "proxy/proxy_server.h"

#include <pthread.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "proxy/async_unary_call.h"

namespace kvstore::proxy {

absl::StatusOr<std::unique_ptr<ProxyServer>> ProxyServer::Start(
    const ProxyServerOptions& options, ProxyService* service) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError("port must be 0..65535");
  }
  grpc::EnableDefaultHealthCheckService(true);
  // The health service's descriptor, for reflection (protos/grpc/health/v1):
  // naming it links the generated file, which registers it in the pool.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  std::string address = absl::StrCat(options.host, ":", options.port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::ServerCompletionQueue> cq =
      builder.AddCompletionQueue();
  // The synchronous handlers (ReadRows, BulkMutateRows, client lifecycle)
  // block on the store for a whole call. With gRPC's default of at most two
  // idle polling threads, every call past the second would start a thread and
  // every finished one end it. Keep enough threads.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 256);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  server->GetHealthCheckService()->SetServingStatus(
      std::string(kTestProxyServiceName), true);
  return std::unique_ptr<ProxyServer>(
      new ProxyServer(service, std::move(server), std::move(cq), port));
}

ProxyServer::ProxyServer(ProxyService* service,
                         std::unique_ptr<grpc::Server> server,
                         std::unique_ptr<grpc::ServerCompletionQueue> cq,
                         int port)
    : service_(service),
      cq_(std::move(cq)),
      server_(std::move(server)),
      port_(port) {
  service_->StartAsyncMethods(cq_.get());
  cq_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "proxy-cq");
    void* tag = nullptr;
    bool ok = false;
    while (cq_->Next(&tag, &ok)) static_cast<CompletionTag*>(tag)->Proceed(ok);
  });
}

ProxyServer::~ProxyServer() { Shutdown(absl::Now()); }

void ProxyServer::Shutdown(absl::Time deadline) {
  absl::call_once(shutdown_, [&] {
    server_->Shutdown(absl::ToChronoTime(deadline));
    // Calls still waiting on the store end now; their client callbacks may
    // still answer on the queue, so it stays until they have.
    service_->CancelClientCalls();
    service_->AwaitAsyncCallsEnded();
    cq_->Shutdown();
    cq_thread_.join();
  });
}

}  // namespace kvstore::proxy
