// Routes HTTP requests to the store's APIs: the seed Simple-DB API (/set,
// /get), /healthz and /metrics. Paths outside these get the seed's 500, as its
// spec asks for anything not in it.
//
// The engine and metrics are not owned and must outlive the router.
// Thread-safe.
#ifndef KVSTORE_STORE_REQUEST_ROUTER_H_
#define KVSTORE_STORE_REQUEST_ROUTER_H_

#include "store/data_api.h"
#include "store/engine.h"
#include "store/http_server.h"
#include "store/metrics.h"

namespace kvstore::store {

class RequestRouter final : public HttpHandler {
 public:
  RequestRouter(Engine* engine, Metrics* metrics)
      : engine_(engine), metrics_(metrics), data_api_(engine) {}

  void Handle(HttpRequest request, Respond respond) override;

 private:
  void HandleSeed(Route route, absl::string_view query, Respond respond);

  Engine* const engine_;
  Metrics* const metrics_;
  DataApi data_api_;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_REQUEST_ROUTER_H_
