// The C++ test proxy in process, for the proxy's own tests: a ProxyServer on a
// free port around a caller's ProxyService, and a channel to it.
#ifndef KVSTORE_TESTS_PROXY_IN_PROCESS_PROXY_H_
#define KVSTORE_TESTS_PROXY_IN_PROCESS_PROXY_H_

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/channel.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "proxy/proxy_server.h"
#include "proxy/proxy_service.h"

namespace kvstore::proxy {

struct InProcessProxy {
  std::unique_ptr<ProxyServer> server;
  std::shared_ptr<grpc::Channel> channel;
};

// `service` is not owned and must outlive the server. Errors are
// ProxyServer::Start's.
inline absl::StatusOr<InProcessProxy> StartInProcessProxy(
    ProxyService* service) {
  ProxyServerOptions options;
  options.port = 0;
  absl::StatusOr<std::unique_ptr<ProxyServer>> started =
      ProxyServer::Start(options, service);
  if (!started.ok()) return started.status();
  InProcessProxy proxy;
  proxy.channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*started)->port()),
                          grpc::InsecureChannelCredentials());
  proxy.server = std::move(*started);
  return proxy;
}

}  // namespace kvstore::proxy

#endif  // KVSTORE_TESTS_PROXY_IN_PROCESS_PROXY_H_
