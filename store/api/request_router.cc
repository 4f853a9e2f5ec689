#include "store/api/request_router.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/status_http.h"
#include "store/api/console.h"
#include "store/api/request_info.h"
#include "store/api/responses.h"
#include "store/api/seed_query.h"
#include "store/api/seed_table.h"

namespace kvstore::store {
namespace {

namespace http = boost::beast::http;

// Wraps `respond` so the answer is counted under `route` with its latency.
HttpHandler::Respond Counted(Metrics* metrics, Route route,
                             HttpHandler::Respond respond) {
  return [metrics, route, start = absl::Now(),
          respond = std::move(respond)](HttpReply reply) mutable {
    metrics->RecordRequest(route, reply.response.result_int(),
                           absl::Now() - start);
    std::move(respond)(std::move(reply));
  };
}

// The route of a path the router serves by name; kOther for the rest.
Route FixedRoute(absl::string_view path) {
  if (path == "/get") return Route::kSeedGet;
  if (path == "/set") return Route::kSeedSet;
  if (path == "/healthz") return Route::kHealthz;
  if (path == "/readyz") return Route::kReadyz;
  if (path == "/metrics") return Route::kMetrics;
  return Route::kOther;
}

}  // namespace

HttpReply RequestRouter::Console(const HttpRequest& request,
                                 absl::string_view path) {
  if (injection_ == nullptr) {
    return BodyResponse(404,
                        "the console is off; start kvstore_server with "
                        "--error_injection to use /console\n");
  }
  return ConsoleReply(request, path);
}

HttpHandler::Respond RequestRouter::WithCors(Respond respond) const {
  return [respond = std::move(respond),
          origin = cors_origin_](HttpReply reply) mutable {
    reply.response.set(http::field::access_control_allow_origin, origin);
    reply.response.set(http::field::vary, "Origin");
    std::move(respond)(std::move(reply));
  };
}

HttpReply RequestRouter::Preflight() const {
  HttpResponse res = BodyResponse(204, "");
  res.set(http::field::access_control_allow_methods,
          "GET, POST, DELETE, HEAD, OPTIONS");
  res.set(http::field::access_control_allow_headers,
          "Content-Type, Last-Event-ID, X-Test-Tag");
  res.set(http::field::access_control_max_age, "600");
  return res;
}

Route RouteOfPath(absl::string_view path) {
  if (absl::StartsWith(path, "/v1/")) return RouteOf(ParseDataPath(path));
  if (path == "/v2/reset" || absl::StartsWith(path, kInjectionPathPrefix) ||
      absl::StartsWith(path, "/v2/journal")) {
    return Route::kErrorInjection;
  }
  return FixedRoute(path);
}

std::string RequestRouter::InjectionMetrics() const {
  if (injection_ == nullptr) return "";
  return absl::StrCat(
      "# HELP kvstore_injection_subscribers Open error-injection event "
      "streams.\n# TYPE kvstore_injection_subscribers gauge\n"
      "kvstore_injection_subscribers ",
      injection_->events().subscribers(),
      "\n# HELP kvstore_injection_waiters Long polls waiting for an event "
      "(/v2/error_injection/wait).\n# TYPE kvstore_injection_waiters gauge\n"
      "kvstore_injection_waiters ",
      injection_->events().waiters(),
      "\n# HELP kvstore_injection_events_total Error-injection events "
      "published.\n# TYPE kvstore_injection_events_total counter\n"
      "kvstore_injection_events_total ",
      injection_->events().last_seq(), "\n");
}

void RequestRouter::Handle(HttpRequest request, Respond respond) {
  absl::string_view target(request.target().data(), request.target().size());
  size_t question = target.find('?');
  absl::string_view path = target.substr(0, question);
  absl::string_view query = question == absl::string_view::npos
                                ? absl::string_view()
                                : target.substr(question + 1);

  if (!cors_origin_.empty()) {
    respond = WithCors(std::move(respond));
    if (request.method() == http::verb::options) {
      std::move(respond)(Preflight());
      return;
    }
  }
  const Route route = FixedRoute(path);
  if (route != Route::kOther) {
    // one of the fixed paths: handled below
  } else if (absl::StartsWith(path, "/v1/")) {
    absl::StatusOr<DataPath> parsed = ParseDataPath(path);
    respond = Counted(metrics_, RouteOf(parsed), std::move(respond));
    data_api_.Handle(request, path, std::move(parsed), std::move(respond));
    return;
  } else if (path == "/console" || absl::StartsWith(path, "/console/")) {
    respond = Counted(metrics_, Route::kOther, std::move(respond));
    std::move(respond)(Console(request, path));
    return;
  } else if (path == "/v2/reset") {
    respond = Counted(metrics_, Route::kErrorInjection, std::move(respond));
    std::move(respond)(Reset(request));
    return;
  } else if (path == "/v2/journal") {
    respond = Counted(metrics_, Route::kErrorInjection, std::move(respond));
    std::move(respond)(injection_api_.Journal(request, query));
    return;
  } else if (absl::StartsWith(path, kInjectionPathPrefix)) {
    respond = Counted(metrics_, Route::kErrorInjection, std::move(respond));
    injection_api_.Handle(request, path, query, std::move(respond));
    return;
  }
  respond = Counted(metrics_, route, std::move(respond));

  bool get = request.method() == http::verb::get;
  switch (route) {
    case Route::kSeedGet:
    case Route::kSeedSet:
      if (!get) {
        std::move(respond)(BodyResponse(500, "Error: only GET is supported"));
        return;
      }
      if (injection_ != nullptr && injection_->armed(PointId::kSeedRequest)) {
        absl::StatusOr<SeedQuery> parsed = ParseSeedQuery(query);
        RequestInfo info = RequestInfoOf(request, path, kDefaultTable);
        if (parsed.ok())
          info.row_key = parsed->field == "key" && route == Route::kSeedGet
                             ? parsed->value
                             : parsed->field;
        injection_->Check(
            PointId::kSeedRequest, info,
            [this, route, query = std::string(query),
             respond = std::move(respond)](Verdict verdict) mutable {
              if (verdict.kind == Verdict::kProceed) {
                HandleSeed(route, query, std::move(respond));
              } else if (verdict.kind == Verdict::kTransport) {
                HandleSeed(
                    route, query,
                    WithTransportFault(std::move(respond), verdict.transport));
              } else if (verdict.kind == Verdict::kError) {
                HttpResponse res = BodyResponse(
                    HttpStatusOf(verdict.error),
                    absl::StrCat("Error: ", verdict.error.message()));
                if (verdict.retry_after_s >= 0) {
                  res.set(http::field::retry_after,
                          std::to_string(verdict.retry_after_s));
                }
                std::move(respond)(std::move(res));
              } else {
                std::move(respond)(HttpReply::Drop());
              }
            });
        return;
      }
      HandleSeed(route, query, std::move(respond));
      return;
    case Route::kHealthz:
    case Route::kReadyz:
      std::move(respond)(HealthResponse(route, engine_->Writable()));
      return;
    case Route::kMetrics:
      std::move(respond)(BodyResponse(
          200,
          absl::StrCat(metrics_->RenderPrometheus(engine_->GetStats()),
                       InjectionMetrics()),
          "text/plain; version=0.0.4"));
      return;
    default:
      std::move(respond)(
          BodyResponse(500, "Error: use /set?<key>=<val> or /get?key=<key>"));
      return;
  }
}

// POST /v2/reset (with --error_injection only): disarms every point, drops
// every table but the built-in one and clears that, and restarts the event
// history with a `reset` event.
HttpReply RequestRouter::Reset(const HttpRequest& request) {
  if (injection_ == nullptr) {
    return ErrorResponse(
        absl::NotFoundError("/v2/reset needs --error_injection"),
        Encoding::kJson);
  }
  if (request.method() != http::verb::post) {
    return MethodNotAllowed(request, "/v2/reset", "POST", Encoding::kJson);
  }
  injection_->DisarmAll();
  absl::StatusOr<std::vector<TableSchema>> tables = engine_->ListTables();
  if (!tables.ok()) return ErrorResponse(tables.status(), Encoding::kJson);
  int dropped = 0;
  for (const TableSchema& table : *tables) {
    absl::Status done = table.name() == kDefaultTable
                            ? engine_->ClearTable(table.name())
                            : engine_->DeleteTable(table.name());
    // A table another request deleted meanwhile is gone either way.
    if (!done.ok() && !absl::IsNotFound(done)) {
      return ErrorResponse(done, Encoding::kJson);
    }
    if (table.name() != kDefaultTable) ++dropped;
  }
  const uint64_t seq = injection_->events().Reset();
  HttpResponse res = BodyResponse(
      200, absl::StrCat("{\"tables_dropped\":", dropped, ",\"seq\":", seq, "}"),
      "application/json");
  return res;
}

// /healthz: the process serves (200), and says whether writes are refused.
// /readyz: 200 only while writes are accepted, else 503 with the reason.
HttpResponse RequestRouter::HealthResponse(Route route,
                                           const absl::Status& writable) {
  if (writable.ok()) {
    return BodyResponse(200, route == Route::kReadyz ? "ready\n" : "ok\n");
  }
  return BodyResponse(
      route == Route::kReadyz ? 503 : 200,
      absl::StrCat("writes refused: ", writable.message(), "\n"));
}

void RequestRouter::HandleSeed(Route route, absl::string_view query,
                               Respond respond) {
  absl::StatusOr<SeedQuery> parsed = ParseSeedQuery(query);
  if (!parsed.ok()) {
    std::move(respond)(
        BodyResponse(500, std::string(parsed.status().message())));
    return;
  }
  if (route == Route::kSeedGet) {
    if (parsed->field != "key") {
      std::move(respond)(
          BodyResponse(500, "Error: use /get?key=<keyname> format"));
      return;
    }
    absl::StatusOr<std::optional<Cell>> cell = engine_->ReadNewestCell(
        kDefaultTable, parsed->value, kDefaultFamily, "");
    if (!cell.ok()) {
      std::move(respond)(
          BodyResponse(500, absl::StrCat("Error: ", cell.status().message())));
    } else if (!cell->has_value()) {
      std::move(respond)(BodyResponse(404, ""));
    } else {
      std::move(respond)(BodyResponse(200, std::move((*cell)->value)));
    }
    return;
  }
  std::vector<Mutation> mutations;
  mutations.push_back(Mutation::SetCell(std::string(kDefaultFamily), "",
                                        kServerTimestamp,
                                        std::move(parsed->value)));
  engine_->MutateRow(
      kDefaultTable, std::move(parsed->field), std::move(mutations),
      [respond = std::move(respond)](absl::Status status) mutable {
        if (status.ok()) {
          std::move(respond)(BodyResponse(200, ""));
        } else {
          std::move(respond)(
              BodyResponse(500, absl::StrCat("Error: ", status.message())));
        }
      });
}

}  // namespace kvstore::store
