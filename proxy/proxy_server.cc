#include "proxy/proxy_server.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace kvstore::proxy {

absl::StatusOr<StartedProxy> StartProxyServer(const ProxyServerOptions& options,
                                              ProxyService* service) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError("port must be 0..65535");
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  StartedProxy started;
  std::string address = absl::StrCat(options.host, ":", options.port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(),
                           &started.port);
  builder.RegisterService(service);
  // Handlers block on the store for a whole call. With gRPC's default of at
  // most two idle polling threads, every call past the second would start a
  // thread and every finished one end it (measured: thread churn cut 16
  // callers to a fifth of one caller's throughput). Keep enough threads.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 256);
  started.server = builder.BuildAndStart();
  if (started.server == nullptr || started.port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  return started;
}

}  // namespace kvstore::proxy
