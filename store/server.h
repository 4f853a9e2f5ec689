// KvServer: the whole store server (engine + HTTP front end + metrics) as one
// object, so main() and the tests start it the same way.
//
// Created running by Start(); Shutdown() (or the destructor) stops it: first
// the HTTP side, so requests in flight finish and are answered, then the
// engine, so queued writes are synced and the storage is closed cleanly.
// Thread-safe.
#ifndef KVSTORE_STORE_SERVER_H_
#define KVSTORE_STORE_SERVER_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/engine.h"
#include "store/http_server.h"
#include "store/metrics.h"
#include "store/request_router.h"
#include "store/rocks_engine.h"

namespace kvstore::store {

struct ServerConfig {
  EngineOptions engine;
  HttpServerOptions http;
};

class KvServer {
 public:
  // Opens the storage and starts listening. Errors are those of OpenRocksEngine
  // and HttpServer::Start.
  static absl::StatusOr<std::unique_ptr<KvServer>> Start(
      const ServerConfig& config);
  ~KvServer();

  uint16_t port() const { return http_->port(); }

  // Graceful stop; see the class comment. Returns the storage's close status.
  // Idempotent.
  absl::Status Shutdown(absl::Duration grace);

 private:
  KvServer() = default;

  Metrics metrics_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<RequestRouter> router_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_SERVER_H_
