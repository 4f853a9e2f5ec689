// Builds and runs the gRPC server around a ProxyService: reflection and
// health services on (so grpcurl works: every listed service, health included,
// resolves through reflection; Check answers SERVING for "" and for
// kTestProxyServiceName), insecure credentials, one listening
// address, and the completion queue (with its thread) that serves the
// service's asynchronous methods. Used by main.cc and by the in-process tests.
//
// Thread-safe: Shutdown may be called from any thread, more than once.
#ifndef KVSTORE_PROXY_PROXY_SERVER_H_
#define KVSTORE_PROXY_PROXY_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/base/call_once.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "proxy/proxy_service.h"

namespace kvstore::proxy {

// The service name health checks answer for besides "".
inline constexpr absl::string_view kTestProxyServiceName =
    "kvstore.testproxy.v1.TestProxy";

struct ProxyServerOptions {
  std::string host = "127.0.0.1";
  int port = 9999;  // 0 picks a free one (see ProxyServer::port)
};

class ProxyServer {
 public:
  // `service` is not owned and must outlive the server. Unavailable if the
  // address cannot be bound, InvalidArgument for a bad port.
  static absl::StatusOr<std::unique_ptr<ProxyServer>> Start(
      const ProxyServerOptions& options, ProxyService* service);

  // Shuts down (at once) if Shutdown was not called.
  ~ProxyServer();

  int port() const { return port_; }
  grpc::Server* grpc_server() { return server_.get(); }

  // Stops taking calls; calls in flight may finish until `deadline`, then are
  // cancelled, the asynchronous ones' store calls too (see
  // ProxyService::CancelClientCalls). Returns once every call has ended and
  // the queue's thread is gone. A blocking handler (ReadRows,
  // BulkMutateRows) waiting on a silent store still ends only at its
  // client's timeout: the blocking client call cannot be cancelled.
  void Shutdown(absl::Time deadline);

 private:
  ProxyServer(ProxyService* service, std::unique_ptr<grpc::Server> server,
              std::unique_ptr<grpc::ServerCompletionQueue> cq, int port);

  ProxyService* const service_;
  const std::unique_ptr<grpc::ServerCompletionQueue> cq_;  // outlives server_
  const std::unique_ptr<grpc::Server> server_;
  const int port_;
  std::thread cq_thread_;
  absl::once_flag shutdown_;
};

}  // namespace kvstore::proxy

#endif  // KVSTORE_PROXY_PROXY_SERVER_H_
