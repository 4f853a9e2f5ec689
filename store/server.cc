#include "store/server.h"

#include <utility>

#include "store/status_macros.h"

namespace kvstore::store {

absl::StatusOr<std::unique_ptr<KvServer>> KvServer::Start(
    const ServerConfig& config) {
  std::unique_ptr<KvServer> server(new KvServer());
  EngineOptions engine = config.engine;
  if (config.error_injection) {
    server->injection_ = InjectionRegistry::Create(config.injection);
    engine.injection = server->injection_.get();
  }
  KV_ASSIGN_OR_RETURN(server->engine_, OpenRocksEngine(engine));
  server->router_ = std::make_unique<RequestRouter>(
      server->engine_.get(), &server->metrics_, server->injection_.get());
  KV_ASSIGN_OR_RETURN(
      server->http_,
      HttpServer::Start(config.http, server->router_.get(), &server->metrics_));
  return server;
}

KvServer::~KvServer() { Shutdown(absl::ZeroDuration()).IgnoreError(); }

absl::Status KvServer::Shutdown(absl::Duration grace) {
  if (injection_ != nullptr) injection_->Shutdown();
  if (http_ != nullptr) http_->Shutdown(grace);
  return engine_ != nullptr ? engine_->Close() : absl::OkStatus();
}

}  // namespace kvstore::store
