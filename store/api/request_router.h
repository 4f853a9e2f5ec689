// Routes HTTP requests to the store's APIs: the seed Simple-DB API (/set,
// /get, behind the seed.request injection point), the data API (/v1/...), error
// injection (/v2/error_injection/...), /healthz, /readyz and /metrics. Paths
// outside these get the seed's 500, as its spec asks for anything not in it.
//
// The engine, metrics and registry are not owned and must outlive the router.
// Thread-safe.
#ifndef KVSTORE_STORE_API_REQUEST_ROUTER_H_
#define KVSTORE_STORE_API_REQUEST_ROUTER_H_

#include <string>

#include "store/api/data_api.h"
#include "store/api/injection_api.h"
#include "store/api/metrics.h"
#include "store/api/seed_query.h"
#include "store/http/http_server.h"
#include "store/injection/injection_registry.h"
#include "store/storage/engine.h"

namespace kvstore::store {

// The metrics (and journal) route of a request path.
Route RouteOfPath(absl::string_view path);

class RequestRouter final : public HttpHandler {
 public:
  // `injection` may be null: error injection is off (and so is the
  // console). A non-empty `cors_origin` is sent as Access-Control-Allow-Origin
  // on every answer, and preflight requests (OPTIONS) are answered for it.
  RequestRouter(Engine* engine, Metrics* metrics, InjectionRegistry* injection,
                std::string cors_origin = "")
      : engine_(engine),
        metrics_(metrics),
        injection_(injection),
        cors_origin_(std::move(cors_origin)),
        data_api_(engine, injection),
        injection_api_(injection) {}

  void Handle(HttpRequest request, Respond respond) override;

 private:
  static HttpResponse HealthResponse(Route route, const absl::Status& writable);
  HttpReply Reset(const HttpRequest& request);
  HttpReply Console(const HttpRequest& request, absl::string_view path);
  // `respond`, adding the CORS header to every answer.
  Respond WithCors(Respond respond) const;
  HttpReply Preflight() const;
  void HandleSeed(Route route, absl::string_view query, Respond respond);
  std::string InjectionMetrics() const;  // empty when injection is off

  Engine* const engine_;
  Metrics* const metrics_;
  InjectionRegistry* const injection_;
  const std::string cors_origin_;
  DataApi data_api_;
  InjectionApi injection_api_;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_REQUEST_ROUTER_H_
