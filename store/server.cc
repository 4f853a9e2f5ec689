#include "store/server.h"

#include <utility>

#include "store/status_macros.h"

namespace kvstore::store {

absl::StatusOr<std::unique_ptr<KvServer>> KvServer::Start(
    const ServerConfig& config) {
  std::unique_ptr<KvServer> server(new KvServer());
  KV_ASSIGN_OR_RETURN(server->engine_, OpenRocksEngine(config.engine));
  server->router_ =
      std::make_unique<RequestRouter>(server->engine_.get(), &server->metrics_);
  KV_ASSIGN_OR_RETURN(
      server->http_,
      HttpServer::Start(config.http, server->router_.get(), &server->metrics_));
  return server;
}

KvServer::~KvServer() { Shutdown(absl::ZeroDuration()).IgnoreError(); }

absl::Status KvServer::Shutdown(absl::Duration grace) {
  if (http_ != nullptr) http_->Shutdown(grace);
  return engine_ != nullptr ? engine_->Close() : absl::OkStatus();
}

}  // namespace kvstore::store
