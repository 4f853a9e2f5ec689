#include "store/api/injection_api.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/quote.h"
#include "common/status_http.h"
#include "store/api/arming_json.h"
#include "store/api/responses.h"
#include "store/api/seed_query.h"

namespace kvstore::store {
namespace {

namespace http = boost::beast::http;

constexpr absl::Duration kDefaultHeartbeat = absl::Seconds(15);
constexpr absl::Duration kMinHeartbeat = absl::Milliseconds(50);

HttpResponse JsonResponse(int status, std::string body) {
  return BodyResponse(status, std::move(body), kJsonContentType);
}

HttpResponse ErrorJson(const absl::Status& status) {
  return ErrorResponse(status, Encoding::kJson);
}

// The query's name=value pairs, percent-decoded (a repeated name keeps the
// last value).
absl::StatusOr<QueryParams> ParseQuery(absl::string_view query) {
  std::map<std::string, std::string> out;
  for (absl::string_view piece :
       absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(piece, absl::MaxSplits('=', 1));
    absl::StatusOr<std::string> name = DecodeQueryComponent(kv.first);
    if (!name.ok()) return name.status();
    absl::StatusOr<std::string> value = DecodeQueryComponent(kv.second);
    if (!value.ok()) return value.status();
    out[*name] = *value;
  }
  return out;
}

// An SSE response body fed by a Subscription.
class EventStreamSource final : public ChunkSource {
 public:
  explicit EventStreamSource(std::unique_ptr<Subscription> sub)
      : sub_(std::move(sub)) {}

  Piece Next() override {
    std::optional<std::string> text = sub_->Take();
    if (!text.has_value()) return std::nullopt;
    return std::move(*text);
  }
  bool event_driven() const override { return true; }
  void NextAsync(absl::AnyInvocable<void(Piece) &&> deliver) override {
    Await(sub_.get(), std::move(deliver));
  }

 private:
  // The readiness callback runs inline or under the hub's lock, which
  // ~Subscription takes before its members go: `sub` is whole while it runs
  // (the source around it may already be being destroyed, so the callback
  // uses only `sub`).
  static void Await(Subscription* sub,
                    absl::AnyInvocable<void(Piece) &&> deliver) {
    sub->NotifyWhenReady([sub, deliver = std::move(deliver)]() mutable {
      std::optional<std::string> text = sub->Take();
      if (text.has_value() && text->empty()) {  // nothing after all: wait on
        Await(sub, std::move(deliver));
        return;
      }
      std::move(deliver)(text.has_value() ? Piece(std::move(*text))
                                          : Piece(std::nullopt));
    });
  }

  std::unique_ptr<Subscription> sub_;
};

// `request`'s method is not one of `allowed`, the methods of its route.
HttpResponse NotAllowed(const HttpRequest& request, absl::string_view allowed) {
  absl::string_view target(request.target().data(), request.target().size());
  return MethodNotAllowed(request, target.substr(0, target.find('?')), allowed,
                          Encoding::kJson);
}

// The events stream's filter: ?injection= (or name=) and ?phase=.
absl::StatusOr<EventFilter> EventFilterOf(const QueryParams& params) {
  EventFilter filter;
  for (const char* key : {"injection", "name"}) {
    auto it = params.find(key);
    if (it == params.end()) continue;
    for (absl::string_view n :
         absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
      if (!InjectionRegistry::Find(n).has_value()) {
        return absl::NotFoundError(
            absl::StrCat("no injection point named ", Quote(n)));
      }
      filter.injections.insert(std::string(n));
    }
  }
  if (auto it = params.find("phase"); it != params.end()) {
    for (absl::string_view p :
         absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
      filter.phases.insert(std::string(p));
    }
  }
  if (auto it = params.find("tag"); it != params.end()) filter.tag = it->second;
  if (auto it = params.find("table"); it != params.end()) {
    filter.table = it->second;
  }
  if (auto it = params.find("route"); it != params.end()) {
    filter.route = it->second;
  }
  if (auto it = params.find("journal"); it != params.end()) {
    if (it->second == "1" || it->second == "true") {
      filter.journal = true;
    } else if (it->second == "only") {
      filter.journal = filter.journal_only = true;
    } else if (it->second != "0" && it->second != "false") {
      return absl::InvalidArgumentError(absl::StrCat(
          "journal must be 1, 0 or only, not ", Quote(it->second)));
    }
  }
  return filter;
}

// The seq to replay after: the Last-Event-ID header, else ?since=.
absl::StatusOr<std::optional<uint64_t>> SinceOf(const HttpRequest& request,
                                                const QueryParams& params) {
  std::string since_text;
  if (auto it = params.find("since"); it != params.end()) {
    since_text = it->second;
  }
  auto last_id = request.find("Last-Event-ID");
  if (last_id != request.end()) since_text = std::string(last_id->value());
  if (since_text.empty()) return std::optional<uint64_t>();
  uint64_t n;
  if (!absl::SimpleAtoi(since_text, &n)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "since / Last-Event-ID must be an event seq, not ", Quote(since_text)));
  }
  return std::optional<uint64_t>(n);
}

absl::StatusOr<absl::Duration> HeartbeatOf(const QueryParams& params) {
  auto it = params.find("heartbeat_ms");
  if (it == params.end()) return kDefaultHeartbeat;
  int64_t ms;
  if (!absl::SimpleAtoi(it->second, &ms) ||
      absl::Milliseconds(ms) < kMinHeartbeat) {
    return absl::InvalidArgumentError(
        absl::StrCat("heartbeat_ms must be an integer >= ",
                     absl::ToInt64Milliseconds(kMinHeartbeat)));
  }
  return absl::Milliseconds(ms);
}

constexpr absl::string_view kInjection = "/injection";

}  // namespace

void InjectionApi::Handle(const HttpRequest& request, absl::string_view path,
                          absl::string_view query,
                          HttpHandler::Respond respond) {
  if (registry_ == nullptr) {
    return std::move(respond)(ErrorJson(absl::NotFoundError(
        "error injection is off; start kvstore_server with --error_injection "
        "to use /v2/error_injection")));
  }
  absl::StatusOr<QueryParams> params = ParseQuery(query);
  if (!params.ok()) return std::move(respond)(ErrorJson(params.status()));
  const http::verb method = request.method();
  absl::string_view rest = path.substr(kInjectionPathPrefix.size());
  if (rest == "/points") {
    return std::move(respond)(
        method == http::verb::get ? Points() : NotAllowed(request, "GET"));
  }
  if (rest == "/events") {
    if (method != http::verb::get) {
      return std::move(respond)(NotAllowed(request, "GET"));
    }
    return std::move(respond)(Events(request, *params));
  }
  if (rest == "/wait") {
    if (method != http::verb::get) {
      return std::move(respond)(NotAllowed(request, "GET"));
    }
    return Wait(*params, std::move(respond));
  }
  if (rest == kInjection) return std::move(respond)(AllPoints(request));
  if (!absl::StartsWith(rest, absl::StrCat(kInjection, "/"))) {
    return std::move(respond)(ErrorJson(absl::NotFoundError(absl::StrCat(
        "no such route: ", Quote(path),
        " (see /v2/error_injection/points, /injection, /events)"))));
  }
  absl::string_view point = rest.substr(kInjection.size() + 1);
  size_t slash = point.find('/');
  absl::string_view name = point.substr(0, slash);
  // "" for the point itself, else "/message", "/enters", ...
  absl::string_view sub = slash == absl::string_view::npos
                              ? absl::string_view()
                              : point.substr(slash);
  std::move(respond)(OnePoint(request, std::string(name), sub, *params));
}

// ?timeout_ms= of a long poll: 1 ms to 10 minutes, 30 s if absent.
absl::StatusOr<absl::Duration> WaitTimeoutOf(const QueryParams& params) {
  auto it = params.find("timeout_ms");
  if (it == params.end()) return absl::Seconds(30);
  int64_t ms;
  if (!absl::SimpleAtoi(it->second, &ms) || ms < 1 || ms > 600000) {
    return absl::InvalidArgumentError(
        "timeout_ms must be an integer from 1 to 600000");
  }
  return absl::Milliseconds(ms);
}

// The JSON object of an event's SSE frame (its data: line).
absl::string_view EventData(const InjectionEvent& event) {
  absl::string_view frame = event.frame;
  size_t start = frame.find("\ndata: ");
  if (start == absl::string_view::npos) return "{}";
  start += 7;
  return frame.substr(start, frame.find('\n', start) - start);
}

void InjectionApi::Wait(const QueryParams& params,
                        HttpHandler::Respond respond) {
  absl::StatusOr<EventFilter> filter = EventFilterOf(params);
  if (!filter.ok()) return std::move(respond)(ErrorJson(filter.status()));
  absl::StatusOr<absl::Duration> timeout = WaitTimeoutOf(params);
  if (!timeout.ok()) return std::move(respond)(ErrorJson(timeout.status()));
  uint64_t since = registry_->events().last_seq();  // default: from now on
  if (auto it = params.find("since"); it != params.end()) {
    if (!absl::SimpleAtoi(it->second, &since)) {
      return std::move(respond)(
          ErrorJson(absl::InvalidArgumentError(absl::StrCat(
              "since must be an event seq, not ", Quote(it->second)))));
    }
  }
  registry_->events().WaitForEvent(
      *std::move(filter), since, absl::Now() + *timeout,
      [respond = std::move(respond)](InjectionEvents::WaitResult got) mutable {
        if (got.ok()) {
          return std::move(respond)(
              JsonResponse(200, std::string(EventData(**got))));
        }
        absl::Status error = got.status();
        if (absl::IsDeadlineExceeded(error)) error = WithHttpStatus(error, 408);
        if (absl::IsOutOfRange(error)) error = WithHttpStatus(error, 410);
        std::move(respond)(ErrorJson(error));
      });
}

HttpReply InjectionApi::Journal(const HttpRequest& request,
                                absl::string_view query) {
  if (registry_ == nullptr) {
    return ErrorJson(absl::NotFoundError(
        "the request journal is off; start kvstore_server with "
        "--error_injection to use /v2/journal"));
  }
  if (request.method() != http::verb::get) return NotAllowed(request, "GET");
  absl::StatusOr<QueryParams> params = ParseQuery(query);
  if (!params.ok()) return ErrorJson(params.status());
  absl::StatusOr<EventFilter> filter = EventFilterOf(*params);
  if (!filter.ok()) return ErrorJson(filter.status());
  filter->journal = filter->journal_only = true;
  uint64_t since = 0;
  size_t limit = 10000;
  if (auto it = params->find("since");
      it != params->end() && !absl::SimpleAtoi(it->second, &since)) {
    return ErrorJson(absl::InvalidArgumentError(
        absl::StrCat("since must be a seq, not ", Quote(it->second))));
  }
  if (auto it = params->find("limit");
      it != params->end() &&
      (!absl::SimpleAtoi(it->second, &limit) || limit < 1 || limit > 100000)) {
    return ErrorJson(absl::InvalidArgumentError(
        "limit must be an integer from 1 to 100000"));
  }
  absl::StatusOr<std::vector<std::shared_ptr<const InjectionEvent>>> entries =
      registry_->events().Query(*filter, since, limit);
  if (!entries.ok()) {
    return ErrorJson(WithHttpStatus(entries.status(), 410));
  }
  std::string body = "{\"entries\":[";
  for (size_t i = 0; i < entries->size(); ++i) {
    if (i > 0) body.push_back(',');
    absl::StrAppend(&body, EventData(*(*entries)[i]));
  }
  absl::StrAppend(&body, "],\"last_seq\":", registry_->events().last_seq(),
                  "}");
  return JsonResponse(200, std::move(body));
}

HttpReply InjectionApi::Points() {
  std::vector<std::string> points;
  for (const PointInfo& info : InjectionRegistry::Catalog()) {
    std::vector<std::string> actions;
    for (InjectAction a : info.actions) {
      actions.push_back(JsonQuote(InjectActionName(a)));
    }
    absl::StatusOr<PointState> state = registry_->State(info.name);
    points.push_back(absl::StrCat(
        "{\"name\":", JsonQuote(info.name),
        ",\"description\":", JsonQuote(info.description), ",\"actions\":[",
        absl::StrJoin(actions, ","),
        "],\"state\":", state.ok() ? StateJson(*state) : "null", "}"));
  }
  return JsonResponse(
      200, absl::StrCat("{\"points\":[", absl::StrJoin(points, ","),
                        "],\"subscribers\":", registry_->events().subscribers(),
                        ",\"last_seq\":", registry_->events().last_seq(), "}"));
}

HttpReply InjectionApi::Events(const HttpRequest& request,
                               const QueryParams& params) {
  absl::StatusOr<EventFilter> filter = EventFilterOf(params);
  if (!filter.ok()) return ErrorJson(filter.status());
  absl::StatusOr<std::optional<uint64_t>> since = SinceOf(request, params);
  if (!since.ok()) return ErrorJson(since.status());
  absl::StatusOr<absl::Duration> heartbeat = HeartbeatOf(params);
  if (!heartbeat.ok()) return ErrorJson(heartbeat.status());
  HttpResponse head = BodyResponse(200, "", "text/event-stream");
  head.set(http::field::cache_control, "no-cache");
  return HttpReply(
      std::move(head),
      std::make_unique<EventStreamSource>(registry_->events().Subscribe(
          std::move(*filter), *since, *heartbeat)));
}

HttpReply InjectionApi::AllPoints(const HttpRequest& request) {
  if (request.method() == http::verb::get) {
    std::vector<std::string> names;
    for (const std::string& n : registry_->ArmedNames()) {
      names.push_back(JsonQuote(n));
    }
    return JsonResponse(200, absl::StrCat("[", absl::StrJoin(names, ","), "]"));
  }
  if (request.method() == http::verb::delete_) {
    registry_->DisarmAll();
    return JsonResponse(200, "{}");
  }
  return NotAllowed(request, "GET, DELETE");
}

HttpReply InjectionApi::OnePoint(const HttpRequest& request,
                                 const std::string& name, absl::string_view sub,
                                 const QueryParams& params) {
  if (!InjectionRegistry::Find(name).has_value()) {
    return ErrorJson(absl::NotFoundError(
        absl::StrCat("no injection point named ", Quote(name),
                     "; GET /v2/error_injection/points lists them")));
  }
  const http::verb method = request.method();
  if (sub.empty() && method == http::verb::post) {
    return Arm(request, name, params);
  }
  if (sub.empty() && method == http::verb::get) {
    absl::StatusOr<PointState> state = registry_->State(name);
    if (!state.ok()) return ErrorJson(state.status());
    return JsonResponse(200, absl::StrCat("[", StateJson(*state), "]"));
  }
  if (sub.empty() && method == http::verb::delete_) {
    absl::Status disarmed = registry_->Disarm(name);
    if (!disarmed.ok()) return ErrorJson(disarmed);
    return JsonResponse(200, StateJson(*registry_->State(name)));
  }
  if (sub == "/message" && method == http::verb::post) {
    absl::Status sent = registry_->Message(name);
    if (!sent.ok()) return ErrorJson(sent);
    return JsonResponse(200, "{}");
  }
  if (sub == "/enters" && method == http::verb::get) {
    absl::StatusOr<PointState> state = registry_->State(name);
    if (!state.ok()) return ErrorJson(state.status());
    return JsonResponse(200, absl::StrCat(state->hits));
  }
  if (sub.empty()) return NotAllowed(request, "GET, POST, DELETE");
  if (sub == "/message") return NotAllowed(request, "POST");
  if (sub == "/enters") return NotAllowed(request, "GET");
  absl::string_view target(request.target().data(), request.target().size());
  return ErrorJson(absl::NotFoundError(absl::StrCat(
      "no such route: ", Quote(target.substr(0, target.find('?'))))));
}

HttpReply InjectionApi::Arm(const HttpRequest& request, const std::string& name,
                            const QueryParams& params) {
  bool one_shot = false;
  if (auto it = params.find("one_shot"); it != params.end()) {
    one_shot = absl::EqualsIgnoreCase(it->second, "true");
  }
  absl::StatusOr<ArmingBody> body = ParseArmingBody(request.body());
  if (!body.ok()) return ErrorJson(body.status());
  absl::Status armed = registry_->Arm(
      name, one_shot, std::move(body->parameters), std::move(body->steps));
  if (!armed.ok()) return ErrorJson(armed);
  return JsonResponse(200, StateJson(*registry_->State(name)));
}

}  // namespace kvstore::store
