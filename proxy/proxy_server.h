// Builds and starts the gRPC server around a ProxyService: reflection and
// health services on (so grpcurl works), insecure credentials, one listening
// address. Used by main.cc and by the in-process tests.
#ifndef KVSTORE_PROXY_PROXY_SERVER_H_
#define KVSTORE_PROXY_PROXY_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "proxy/proxy_service.h"

namespace kvstore::proxy {

struct ProxyServerOptions {
  std::string host = "127.0.0.1";
  int port = 9999;  // 0 picks a free one (see StartedProxy::port)
};

struct StartedProxy {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

// `service` is not owned and must outlive the server. Unavailable if the
// address cannot be bound, InvalidArgument for a bad port.
absl::StatusOr<StartedProxy> StartProxyServer(const ProxyServerOptions& options,
                                              ProxyService* service);

}  // namespace kvstore::proxy

#endif  // KVSTORE_PROXY_PROXY_SERVER_H_
