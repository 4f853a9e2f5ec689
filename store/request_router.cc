#include "store/request_router.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "store/seed_query.h"

namespace kvstore::store {
namespace {

namespace http = boost::beast::http;

HttpResponse TextResponse(http::status status, std::string body,
                          absl::string_view content_type = "text/plain") {
  HttpResponse res{status, 11};
  res.set(http::field::content_type,
          boost::beast::string_view(content_type.data(), content_type.size()));
  res.body() = std::move(body);
  return res;
}

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

}  // namespace

void RequestRouter::Handle(HttpRequest request, Respond respond) {
  absl::string_view target(request.target().data(), request.target().size());
  size_t question = target.find('?');
  absl::string_view path = target.substr(0, question);
  absl::string_view query = question == absl::string_view::npos
                                ? absl::string_view()
                                : target.substr(question + 1);

  Route route = Route::kOther;
  if (path == "/get") {
    route = Route::kSeedGet;
  } else if (path == "/set") {
    route = Route::kSeedSet;
  } else if (path == "/healthz") {
    route = Route::kHealthz;
  } else if (path == "/metrics") {
    route = Route::kMetrics;
  } else if (absl::StartsWith(path, "/v1/")) {
    respond = Counted(metrics_, DataApi::RouteOf(path), std::move(respond));
    data_api_.Handle(request, path, std::move(respond));
    return;
  }
  respond = Counted(metrics_, route, std::move(respond));

  bool get = request.method() == http::verb::get;
  switch (route) {
    case Route::kSeedGet:
    case Route::kSeedSet:
      if (!get) {
        std::move(respond)(TextResponse(http::status::internal_server_error,
                                        "Error: only GET is supported"));
        return;
      }
      HandleSeed(route, query, std::move(respond));
      return;
    case Route::kHealthz:
      std::move(respond)(TextResponse(http::status::ok, "ok\n"));
      return;
    case Route::kMetrics:
      std::move(respond)(TextResponse(
          http::status::ok, metrics_->RenderPrometheus(engine_->GetStats()),
          "text/plain; version=0.0.4"));
      return;
    default:
      std::move(respond)(
          TextResponse(http::status::internal_server_error,
                       "Error: use /set?<key>=<val> or /get?key=<key>"));
      return;
  }
}

void RequestRouter::HandleSeed(Route route, absl::string_view query,
                               Respond respond) {
  absl::StatusOr<SeedQuery> parsed = ParseSeedQuery(query);
  if (!parsed.ok()) {
    std::move(respond)(TextResponse(http::status::internal_server_error,
                                    std::string(parsed.status().message())));
    return;
  }
  if (route == Route::kSeedGet) {
    if (parsed->field != "key") {
      std::move(respond)(TextResponse(http::status::internal_server_error,
                                      "Error: use /get?key=<keyname> format"));
      return;
    }
    absl::StatusOr<std::optional<Cell>> cell = engine_->ReadNewestCell(
        kDefaultTable, parsed->value, kDefaultFamily, "");
    if (!cell.ok()) {
      std::move(respond)(
          TextResponse(http::status::internal_server_error,
                       absl::StrCat("Error: ", cell.status().message())));
    } else if (!cell->has_value()) {
      std::move(respond)(TextResponse(http::status::not_found, ""));
    } else {
      std::move(respond)(
          TextResponse(http::status::ok, std::move((*cell)->value)));
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
          std::move(respond)(TextResponse(http::status::ok, ""));
        } else {
          std::move(respond)(
              TextResponse(http::status::internal_server_error,
                           absl::StrCat("Error: ", status.message())));
        }
      });
}

}  // namespace kvstore::store
