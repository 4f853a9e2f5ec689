#include "client/injection_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/http_transport.h"
#include "common/status_http.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace kvstore {
namespace {

constexpr absl::string_view kPrefix = "/v2/error_injection";

class CollectSink final : public ResponseSink {
 public:
  void OnHead(const ResponseHead& head) override { status = head.http_status; }
  absl::Status OnBody(absl::string_view bytes) override {
    body.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  }
  int status = 0;
  std::string body;
};

absl::StatusOr<google::protobuf::Value> ParseJson(absl::string_view text) {
  google::protobuf::Value value;
  auto parsed =
      google::protobuf::util::JsonStringToMessage(std::string(text), &value);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat("unparsable JSON from the store: ",
                                            parsed.message().as_string()));
  }
  return value;
}

int64_t Number(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end()
             ? 0
             : static_cast<int64_t>(it->second.number_value());
}

std::string String(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

bool Bool(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it != s.fields().end() && it->second.bool_value();
}

google::protobuf::Struct StructOf(
    const std::map<std::string, std::string>& fields) {
  google::protobuf::Struct out;
  for (const auto& [key, value] : fields) {
    (*out.mutable_fields())[key].set_string_value(value);
  }
  return out;
}

std::map<std::string, std::string> StringFields(
    const google::protobuf::Struct& s) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : s.fields()) out[key] = value.string_value();
  return out;
}

InjectionStepState StepOf(const google::protobuf::Struct& s) {
  InjectionStepState step;
  step.action = String(s, "action");
  if (auto p = s.fields().find("parameters"); p != s.fields().end()) {
    step.parameters = StringFields(p->second.struct_value());
  }
  step.count = Number(s, "count");
  step.reached = Number(s, "reached");
  step.fires = Number(s, "fires");
  return step;
}

std::vector<std::string> StringList(const google::protobuf::Struct& s,
                                    const std::string& key) {
  std::vector<std::string> out;
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return out;
  for (const auto& v : it->second.list_value().values()) {
    out.push_back(v.string_value());
  }
  return out;
}

JournalRecord JournalRecordOf(const google::protobuf::Struct& s) {
  JournalRecord r;
  r.seq = static_cast<uint64_t>(Number(s, "seq"));
  r.connection = static_cast<uint64_t>(Number(s, "connection"));
  r.method = String(s, "method");
  r.path = String(s, "path");
  r.route = String(s, "route");
  r.table = String(s, "table");
  r.tag = String(s, "tag");
  r.row_keys = StringList(s, "row_keys");
  r.status = static_cast<int>(Number(s, "status"));
  r.cut = Bool(s, "cut");
  r.bytes_in = Number(s, "bytes_in");
  r.bytes_out = Number(s, "bytes_out");
  r.start_us = Number(s, "start_us");
  r.end_us = Number(s, "end_us");
  r.injections = StringList(s, "injections");
  return r;
}

// `text` percent-encoded for a query value.
std::string UrlEncoded(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> Strings(
    const google::protobuf::Value& list) {
  std::vector<std::string> out;
  for (const auto& v : list.list_value().values()) {
    out.push_back(v.string_value());
  }
  return out;
}

}  // namespace

absl::StatusOr<JournalRecord> ParseJournalRecord(absl::string_view json) {
  absl::StatusOr<google::protobuf::Value> value = ParseJson(json);
  if (!value.ok()) return value.status();
  if (!value->has_struct_value()) {
    return absl::InvalidArgumentError("a journal entry is not a JSON object");
  }
  return JournalRecordOf(value->struct_value());
}

absl::StatusOr<std::unique_ptr<InjectionClient>> InjectionClient::Create(
    absl::string_view endpoint, absl::Duration timeout) {
  HttpTransportOptions options;
  absl::Status parsed = ParseEndpoint(endpoint, &options.host, &options.port);
  if (!parsed.ok()) return parsed;
  options.pool_size = 4;
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      NewHttpTransport(options);
  if (!transport.ok()) return transport.status();
  return std::unique_ptr<InjectionClient>(
      new InjectionClient(std::move(*transport), timeout));
}

absl::StatusOr<std::string> InjectionClient::Call(
    const std::string& method, const std::string& target, std::string body,
    std::optional<absl::Duration> timeout) {
  HttpRequestSpec spec;
  spec.method = method;
  spec.target = target;
  spec.body = std::move(body);
  spec.content_type = "application/json";
  spec.accept = "application/json";
  CollectSink sink;
  absl::Status exchanged = transport_->Exchange(
      spec, absl::Now() + timeout.value_or(timeout_), sink);
  if (!exchanged.ok()) return exchanged;
  if (sink.status == 200) return std::move(sink.body);
  absl::StatusOr<google::protobuf::Value> error = ParseJson(sink.body);
  if (error.ok() && error->has_struct_value()) {
    const auto& fields = error->struct_value().fields();
    auto code = fields.find("code");
    auto message = fields.find("message");
    if (code != fields.end() && message != fields.end()) {
      return absl::Status(
          static_cast<absl::StatusCode>(code->second.number_value()),
          message->second.string_value());
    }
  }
  return absl::Status(CodeFromHttpStatus(sink.status),
                      absl::StrCat("HTTP ", sink.status, ": ", sink.body));
}

absl::Status InjectionClient::Arm(
    absl::string_view point,
    const std::map<std::string, std::string>& parameters, bool one_shot) {
  return PostArming(point, StructOf(parameters), one_shot);
}

absl::Status InjectionClient::ArmSteps(
    absl::string_view point,
    const std::vector<std::map<std::string, std::string>>& steps,
    const std::map<std::string, std::string>& scope) {
  google::protobuf::Struct body = StructOf(scope);
  auto* list = (*body.mutable_fields())["steps"].mutable_list_value();
  for (const auto& step : steps) {
    *list->add_values()->mutable_struct_value() = StructOf(step);
  }
  return PostArming(point, body, false);
}

absl::Status InjectionClient::PostArming(absl::string_view point,
                                         const google::protobuf::Struct& body,
                                         bool one_shot) {
  std::string json;
  auto printed = google::protobuf::util::MessageToJsonString(body, &json);
  if (!printed.ok()) {
    return absl::InvalidArgumentError(printed.message().as_string());
  }
  return Call("POST",
              absl::StrCat(kPrefix, "/injection/", point,
                           one_shot ? "?one_shot=true" : ""),
              std::move(json))
      .status();
}

absl::Status InjectionClient::Disarm(absl::string_view point) {
  return Call("DELETE", absl::StrCat(kPrefix, "/injection/", point)).status();
}

absl::Status InjectionClient::DisarmAll() {
  return Call("DELETE", absl::StrCat(kPrefix, "/injection")).status();
}

absl::Status InjectionClient::Message(absl::string_view point) {
  return Call("POST", absl::StrCat(kPrefix, "/injection/", point, "/message"))
      .status();
}

absl::StatusOr<InjectionEventRecord> InjectionClient::WaitForEvent(
    absl::string_view point, absl::string_view phase, uint64_t since,
    absl::Duration timeout) {
  std::string target = absl::StrCat(
      kPrefix, "/wait?injection=", point, "&since=", since,
      "&timeout_ms=", std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout)));
  if (!phase.empty()) absl::StrAppend(&target, "&phase=", phase);
  // The store answers at the timeout: give the exchange a little longer.
  absl::StatusOr<std::string> body =
      Call("GET", target, "", timeout + absl::Seconds(10));
  if (!body.ok()) return body.status();
  absl::StatusOr<google::protobuf::Value> json = ParseJson(*body);
  if (!json.ok()) return json.status();
  const google::protobuf::Struct& s = json->struct_value();
  InjectionEventRecord event;
  event.seq = static_cast<uint64_t>(Number(s, "seq"));
  event.phase = String(s, "phase");
  event.injection = String(s, "injection");
  event.type = String(s, "type");
  event.data = *std::move(body);
  event.received = absl::Now();
  return event;
}

absl::StatusOr<InjectionState> InjectionClient::State(absl::string_view point) {
  absl::StatusOr<std::string> body =
      Call("GET", absl::StrCat(kPrefix, "/injection/", point));
  if (!body.ok()) return body.status();
  absl::StatusOr<google::protobuf::Value> json = ParseJson(*body);
  if (!json.ok()) return json.status();
  if (json->list_value().values_size() != 1) {
    return absl::DataLossError("expected a one-element list");
  }
  const google::protobuf::Struct& s =
      json->list_value().values(0).struct_value();
  InjectionState state;
  state.enabled = Bool(s, "enabled");
  state.exhausted = Bool(s, "exhausted");
  state.hits = Number(s, "hits");
  state.fires = Number(s, "fires");
  state.waiting = Number(s, "waiting");
  state.messages = Number(s, "messages");
  state.step = Number(s, "step");
  if (auto steps = s.fields().find("steps"); steps != s.fields().end()) {
    for (const auto& step : steps->second.list_value().values()) {
      state.steps.push_back(StepOf(step.struct_value()));
    }
  }
  auto params = s.fields().find("parameters");
  if (params != s.fields().end()) {
    for (const auto& p : params->second.list_value().values()) {
      const auto& kv = p.struct_value().fields();
      auto k = kv.find("key");
      auto v = kv.find("value");
      if (k != kv.end() && v != kv.end()) {
        state.parameters[k->second.string_value()] = v->second.string_value();
      }
    }
  }
  return state;
}

absl::StatusOr<std::vector<std::string>> InjectionClient::Armed() {
  absl::StatusOr<std::string> body =
      Call("GET", absl::StrCat(kPrefix, "/injection"));
  if (!body.ok()) return body.status();
  absl::StatusOr<google::protobuf::Value> json = ParseJson(*body);
  if (!json.ok()) return json.status();
  return Strings(*json);
}

absl::StatusOr<std::vector<JournalRecord>> InjectionClient::Journal(
    uint64_t since, absl::string_view tag, absl::string_view route,
    absl::string_view table) {
  std::string target = absl::StrCat("/v2/journal?since=", since);
  if (!tag.empty()) absl::StrAppend(&target, "&tag=", UrlEncoded(tag));
  if (!route.empty()) absl::StrAppend(&target, "&route=", UrlEncoded(route));
  if (!table.empty()) absl::StrAppend(&target, "&table=", UrlEncoded(table));
  absl::StatusOr<std::string> body = Call("GET", target);
  if (!body.ok()) return body.status();
  absl::StatusOr<google::protobuf::Value> json = ParseJson(*body);
  if (!json.ok()) return json.status();
  std::vector<JournalRecord> out;
  auto entries = json->struct_value().fields().find("entries");
  if (entries == json->struct_value().fields().end()) {
    return absl::DataLossError("no 'entries' in the journal");
  }
  for (const auto& e : entries->second.list_value().values()) {
    out.push_back(JournalRecordOf(e.struct_value()));
  }
  return out;
}

absl::StatusOr<uint64_t> InjectionClient::Reset() {
  absl::StatusOr<std::string> body = Call("POST", "/v2/reset");
  if (!body.ok()) return body.status();
  absl::StatusOr<google::protobuf::Value> json = ParseJson(*body);
  if (!json.ok()) return json.status();
  return static_cast<uint64_t>(Number(json->struct_value(), "seq"));
}

absl::StatusOr<std::vector<std::string>> InjectionClient::Points() {
  absl::StatusOr<std::string> body =
      Call("GET", absl::StrCat(kPrefix, "/points"));
  if (!body.ok()) return body.status();
  absl::StatusOr<google::protobuf::Value> json = ParseJson(*body);
  if (!json.ok()) return json.status();
  std::vector<std::string> names;
  auto points = json->struct_value().fields().find("points");
  if (points == json->struct_value().fields().end()) {
    return absl::DataLossError("no 'points' in the catalog");
  }
  for (const auto& p : points->second.list_value().values()) {
    auto name = p.struct_value().fields().find("name");
    if (name != p.struct_value().fields().end()) {
      names.push_back(name->second.string_value());
    }
  }
  return names;
}

}  // namespace kvstore
