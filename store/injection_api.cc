#include "store/injection_api.h"

#include <cmath>
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
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "store/seed_query.h"
#include "store/status_http.h"

namespace kvstore::store {
namespace {

namespace http = boost::beast::http;

constexpr size_t kMaxArmingBodyBytes = 64 * 1024;
constexpr absl::Duration kDefaultHeartbeat = absl::Seconds(15);
constexpr absl::Duration kMinHeartbeat = absl::Milliseconds(50);

HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

HttpResponse ErrorJson(const absl::Status& status) {
  return JsonResponse(
      HttpStatusFromCode(status.code()),
      absl::StrCat("{\"code\":", static_cast<int>(status.code()),
                   ",\"message\":\"", JsonEscape(status.message()), "\"}"));
}

std::string JsonString(absl::string_view s) {
  return absl::StrCat("\"", JsonEscape(s), "\"");
}

// The query's name=value pairs, percent-decoded (a repeated name keeps the
// last value).
absl::StatusOr<std::map<std::string, std::string>> ParseQuery(
    absl::string_view query) {
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

// The arming body: a JSON object whose values are strings (ScyllaDB sends
// strings), numbers or booleans, all kept as text.
absl::StatusOr<std::map<std::string, std::string>> ParseParameters(
    absl::string_view body) {
  std::map<std::string, std::string> out;
  if (absl::StripAsciiWhitespace(body).empty()) return out;
  if (body.size() > kMaxArmingBodyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameters exceed ", kMaxArmingBodyBytes, " bytes"));
  }
  google::protobuf::Struct object;
  auto parsed =
      google::protobuf::util::JsonStringToMessage(std::string(body), &object);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parameters must be a JSON object: ", parsed.message().as_string()));
  }
  for (const auto& [key, value] : object.fields()) {
    switch (value.kind_case()) {
      case google::protobuf::Value::kStringValue:
        out[key] = value.string_value();
        break;
      case google::protobuf::Value::kBoolValue:
        out[key] = value.bool_value() ? "true" : "false";
        break;
      case google::protobuf::Value::kNumberValue: {
        double n = value.number_value();
        // Whole numbers in int64's range print as integers; the rest as
        // doubles (and fail integer parameters with a clear message).
        bool whole = n >= -9.2e18 && n <= 9.2e18 && n == std::trunc(n);
        out[key] =
            whole ? absl::StrCat(static_cast<int64_t>(n)) : absl::StrCat(n);
        break;
      }
      default:
        return absl::InvalidArgumentError(absl::StrCat(
            "parameter ", key, ": expected a string, number or boolean"));
    }
  }
  return out;
}

std::string StateJson(const PointState& s) {
  std::vector<std::string> params;
  for (const auto& [k, v] : s.parameters) {
    params.push_back(absl::StrCat("{\"key\":", JsonString(k),
                                  ",\"value\":", JsonString(v), "}"));
  }
  return absl::StrCat(
      "{\"enabled\":", s.armed ? "true" : "false",
      ",\"exhausted\":", s.exhausted ? "true" : "false", ",\"parameters\":[",
      absl::StrJoin(params, ","), "],\"hits\":", s.hits, ",\"fires\":", s.fires,
      ",\"waiting\":", s.waiting, ",\"messages\":", s.messages, "}");
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

}  // namespace

void InjectionApi::Handle(const HttpRequest& request, absl::string_view path,
                          absl::string_view query,
                          HttpHandler::Respond respond) {
  auto reply = [&](HttpResponse res) { std::move(respond)(std::move(res)); };
  if (registry_ == nullptr) {
    return reply(ErrorJson(absl::NotFoundError(
        "error injection is off; start kvstore_server with --error_injection "
        "to use /v2/error_injection")));
  }
  const http::verb method = request.method();
  absl::string_view rest = path.substr(kInjectionPathPrefix.size());
  absl::StatusOr<std::map<std::string, std::string>> params = ParseQuery(query);
  if (!params.ok()) return reply(ErrorJson(params.status()));
  auto not_allowed = [&] {
    return ErrorJson(absl::UnimplementedError(absl::StrCat(
        std::string(request.method_string()), " is not supported on ", path)));
  };

  if (rest == "/points") {
    if (method != http::verb::get) return reply(not_allowed());
    std::vector<std::string> points;
    for (const PointInfo& info : InjectionRegistry::Catalog()) {
      std::vector<std::string> actions;
      for (InjectAction a : info.actions) {
        actions.push_back(JsonString(InjectActionName(a)));
      }
      absl::StatusOr<PointState> state = registry_->State(info.name);
      points.push_back(absl::StrCat(
          "{\"name\":", JsonString(info.name),
          ",\"description\":", JsonString(info.description), ",\"actions\":[",
          absl::StrJoin(actions, ","),
          "],\"state\":", state.ok() ? StateJson(*state) : "null", "}"));
    }
    return reply(JsonResponse(
        200,
        absl::StrCat("{\"points\":[", absl::StrJoin(points, ","),
                     "],\"subscribers\":", registry_->events().subscribers(),
                     ",\"last_seq\":", registry_->events().last_seq(), "}")));
  }

  if (rest == "/events") {
    if (method != http::verb::get) return reply(not_allowed());
    EventFilter filter;
    for (const char* key : {"injection", "name"}) {
      auto it = params->find(key);
      if (it == params->end()) continue;
      for (absl::string_view n :
           absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
        if (!InjectionRegistry::Find(n).has_value()) {
          return reply(ErrorJson(absl::NotFoundError(
              absl::StrCat("no injection point named '", n, "'"))));
        }
        filter.injections.insert(std::string(n));
      }
    }
    if (auto it = params->find("phase"); it != params->end()) {
      for (absl::string_view p :
           absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
        filter.phases.insert(std::string(p));
      }
    }
    std::optional<uint64_t> since;
    std::string since_text;
    if (auto it = params->find("since"); it != params->end()) {
      since_text = it->second;
    }
    auto last_id = request.find("Last-Event-ID");
    if (last_id != request.end()) {
      since_text = std::string(last_id->value());
    }
    if (!since_text.empty()) {
      uint64_t n;
      if (!absl::SimpleAtoi(since_text, &n)) {
        return reply(ErrorJson(absl::InvalidArgumentError(
            absl::StrCat("since / Last-Event-ID must be an event seq, not '",
                         since_text, "'"))));
      }
      since = n;
    }
    absl::Duration heartbeat = kDefaultHeartbeat;
    if (auto it = params->find("heartbeat_ms"); it != params->end()) {
      int64_t ms;
      if (!absl::SimpleAtoi(it->second, &ms) ||
          absl::Milliseconds(ms) < kMinHeartbeat) {
        return reply(ErrorJson(absl::InvalidArgumentError(
            absl::StrCat("heartbeat_ms must be an integer >= ",
                         absl::ToInt64Milliseconds(kMinHeartbeat)))));
      }
      heartbeat = absl::Milliseconds(ms);
    }
    HttpResponse head{http::status::ok, 11};
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    std::move(respond)(HttpReply(
        std::move(head),
        std::make_unique<EventStreamSource>(registry_->events().Subscribe(
            std::move(filter), since, heartbeat))));
    return;
  }

  constexpr absl::string_view kInjection = "/injection";
  if (rest == kInjection) {
    if (method == http::verb::get) {
      std::vector<std::string> names;
      for (const std::string& n : registry_->ArmedNames()) {
        names.push_back(JsonString(n));
      }
      return reply(
          JsonResponse(200, absl::StrCat("[", absl::StrJoin(names, ","), "]")));
    }
    if (method == http::verb::delete_) {
      registry_->DisarmAll();
      return reply(JsonResponse(200, "{}"));
    }
    return reply(not_allowed());
  }
  if (!absl::StartsWith(rest, absl::StrCat(kInjection, "/"))) {
    return reply(ErrorJson(absl::NotFoundError(absl::StrCat(
        "no such route: ", path,
        " (see /v2/error_injection/points, /injection, /events)"))));
  }
  std::vector<std::string> parts =
      absl::StrSplit(rest.substr(kInjection.size() + 1), '/');
  const std::string& name = parts[0];
  if (!InjectionRegistry::Find(name).has_value()) {
    return reply(ErrorJson(absl::NotFoundError(
        absl::StrCat("no injection point named '", name,
                     "'; GET /v2/error_injection/points lists them"))));
  }
  if (parts.size() == 1) {
    if (method == http::verb::post) {
      bool one_shot = false;
      if (auto it = params->find("one_shot"); it != params->end()) {
        one_shot = absl::EqualsIgnoreCase(it->second, "true");
      }
      absl::StatusOr<std::map<std::string, std::string>> parameters =
          ParseParameters(request.body());
      if (!parameters.ok()) return reply(ErrorJson(parameters.status()));
      absl::Status armed =
          registry_->Arm(name, one_shot, std::move(*parameters));
      if (!armed.ok()) return reply(ErrorJson(armed));
      absl::StatusOr<PointState> state = registry_->State(name);
      return reply(JsonResponse(200, StateJson(*state)));
    }
    if (method == http::verb::get) {
      absl::StatusOr<PointState> state = registry_->State(name);
      if (!state.ok()) return reply(ErrorJson(state.status()));
      return reply(
          JsonResponse(200, absl::StrCat("[", StateJson(*state), "]")));
    }
    if (method == http::verb::delete_) {
      absl::Status disarmed = registry_->Disarm(name);
      if (!disarmed.ok()) return reply(ErrorJson(disarmed));
      absl::StatusOr<PointState> state = registry_->State(name);
      return reply(JsonResponse(200, StateJson(*state)));
    }
    return reply(not_allowed());
  }
  if (parts.size() == 2 && parts[1] == "message") {
    if (method != http::verb::post) return reply(not_allowed());
    absl::Status sent = registry_->Message(name);
    if (!sent.ok()) return reply(ErrorJson(sent));
    return reply(JsonResponse(200, "{}"));
  }
  if (parts.size() == 2 && parts[1] == "enters") {
    if (method != http::verb::get) return reply(not_allowed());
    absl::StatusOr<PointState> state = registry_->State(name);
    if (!state.ok()) return reply(ErrorJson(state.status()));
    return reply(JsonResponse(200, absl::StrCat(state->hits)));
  }
  reply(ErrorJson(absl::NotFoundError(absl::StrCat("no such route: ", path))));
}

}  // namespace kvstore::store
