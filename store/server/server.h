// KvServer: the whole store server (engine + HTTP front end + metrics + error
// injection) as one object, so main() and the tests start it the same way.
//
// Created running by Start(); Shutdown() (or the destructor) stops it: first
// error injection (parked requests go on, event streams end), then the HTTP
// side, so requests in flight finish and are answered, then the engine, so
// queued writes are synced and the storage is closed cleanly.
// Thread-safe.
#ifndef KVSTORE_STORE_SERVER_SERVER_H_
#define KVSTORE_STORE_SERVER_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/api/journal_sink.h"
#include "store/api/metrics.h"
#include "store/api/request_router.h"
#include "store/http/http_server.h"
#include "store/injection/injection_registry.h"
#include "store/storage/engine.h"
#include "store/storage/rocks_engine.h"

namespace kvstore::store {

struct ServerConfig {
  // Start sets its builtin_table (the seed table) and before_write hook.
  EngineOptions engine;
  HttpServerOptions http;
  // Serve /v2/error_injection and evaluate the injection points.
  bool error_injection = false;
  InjectionOptions injection;
  // With error_injection: record every request in the journal (/v2/journal).
  bool request_journal = true;
  // Sent as Access-Control-Allow-Origin on every answer if not empty.
  std::string cors_origin;
};

class KvServer {
 public:
  // Opens the storage and starts listening. Errors are those of OpenRocksEngine
  // and HttpServer::Start.
  static absl::StatusOr<std::unique_ptr<KvServer>> Start(
      const ServerConfig& config);
  ~KvServer();

  uint16_t port() const { return http_->port(); }
  // The error-injection registry; null unless error injection is on.
  InjectionRegistry* injection() const { return injection_.get(); }

  // Graceful stop; see the class comment. Returns the storage's close status.
  // Idempotent.
  absl::Status Shutdown(absl::Duration grace);

 private:
  KvServer() = default;

  Metrics metrics_;
  std::unique_ptr<InjectionRegistry> injection_;  // null unless enabled
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<RequestRouter> router_;
  std::unique_ptr<JournalSink> journal_sink_;  // null unless journaling
  std::unique_ptr<HttpServer> http_;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_SERVER_SERVER_H_
