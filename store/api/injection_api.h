// The error-injection control API and event stream over HTTP (docs/design.md,
// "Error injection"), ScyllaDB's routes with our additions:
//
//   GET    /v2/error_injection/points          catalog: name, description,
//                                               actions, state, counters
//   GET    /v2/error_injection/injection       ["armed point", ...]
//   DELETE /v2/error_injection/injection       disarm every point
//   POST   /v2/error_injection/injection/{name}[?one_shot=true]
//          body: a JSON object of parameters (strings; numbers and booleans
//          are accepted too), see injection_registry.h. Arms (replacing).
//   GET    /v2/error_injection/injection/{name}
//          [{"enabled":bool,"parameters":[{"key","value"}...],"hits",
//            "fires","waiting","messages","exhausted"}]
//   DELETE /v2/error_injection/injection/{name} disarm (releases parked
//                                               requests)
//   POST   /v2/error_injection/injection/{name}/message   release (latched)
//   GET    /v2/error_injection/injection/{name}/enters    hits, an integer
//   GET    /v2/error_injection/events[?injection=a,b][&phase=p,q]
//          [&since=SEQ][&heartbeat_ms=N]     Server-Sent Events; the
//          Last-Event-ID header works as since=.
//
// Errors are JSON {"code": canonical code, "message": text} with the HTTP
// status of status_http.h: 404 for an unknown point, 400 for bad parameters.
// Without a registry (the server started without --error_injection) every
// route answers 404 saying how to turn it on.
//
// The registry is not owned and must outlive the API. Thread-safe.
#ifndef KVSTORE_STORE_API_INJECTION_API_H_
#define KVSTORE_STORE_API_INJECTION_API_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "store/http/http_server.h"
#include "store/injection/injection_registry.h"

namespace kvstore::store {

inline constexpr absl::string_view kInjectionPathPrefix = "/v2/error_injection";

// A query string's or an arming body's name=value pairs.
using QueryParams = std::map<std::string, std::string>;

class InjectionApi {
 public:
  // `registry` may be null: error injection is off.
  explicit InjectionApi(InjectionRegistry* registry) : registry_(registry) {}

  // Serves a request whose path starts with kInjectionPathPrefix.
  void Handle(const HttpRequest& request, absl::string_view path,
              absl::string_view query, HttpHandler::Respond respond);
  // GET /v2/journal?since=&tag=&table=&route=&limit=: the request journal's
  // entries
  // after `since` (default 0) as {"entries":[...],"last_seq":N}; 410 when
  // entries after `since` have left the history, 404 with injection off.
  HttpReply Journal(const HttpRequest& request, absl::string_view query);

 private:
  // One function per route; each answers in full.
  HttpReply Points();
  HttpReply Events(const HttpRequest& request, const QueryParams& params);
  HttpReply AllPoints(const HttpRequest& request);  // /injection
  // /injection/{name}{sub}: `sub` is "" or "/message", "/enters", ...
  HttpReply OnePoint(const HttpRequest& request, const std::string& name,
                     absl::string_view sub, const QueryParams& params);
  HttpReply Arm(const HttpRequest& request, const std::string& name,
                const QueryParams& params);
  // /wait: a long poll for the first matching event; answers later.
  void Wait(const QueryParams& params, HttpHandler::Respond respond);

  InjectionRegistry* const registry_;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_INJECTION_API_H_
