#include "store/injection/arming.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/quote.h"
#include "common/status_http.h"
#include "common/status_macros.h"
#include "store/injection/injection_events.h"

namespace kvstore::store {
namespace {

constexpr absl::string_view kStepKeys =
    "action, status, retry_after, message, code, body, delay_ms, "
    "timeout_ms, after_rows, after_bytes, bytes_per_s, count, probability";
constexpr absl::string_view kScopeKeys =
    "skip, seed, table, row_key, path, tag, script";

absl::Status BadParameter(absl::string_view key, absl::string_view value,
                          absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(
      "parameter ", Quote(key), " = ", Quote(value), ": expected ", want));
}

template <typename Int>
absl::Status ParseInt(absl::string_view key, absl::string_view value,
                      int64_t min, int64_t max, Int* out) {
  int64_t parsed;
  if (!absl::SimpleAtoi(value, &parsed) || parsed < min || parsed > max) {
    return BadParameter(key, value,
                        absl::StrCat("an integer in [", min, ", ", max, "]"));
  }
  *out = static_cast<Int>(parsed);
  return absl::OkStatus();
}

absl::Status SetAction(const PointInfo& info, const std::string& value,
                       ArmingStep& step) {
  std::vector<std::string> names;
  for (InjectAction a : info.actions) {
    names.emplace_back(InjectActionName(a));
    if (InjectActionName(a) == value) {
      step.action = a;
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "point ", info.name, " does not support action ", Quote(value),
      " (it supports: ", absl::StrJoin(names, ", "), ")"));
}

absl::Status SetDuration(const std::string& key, const std::string& value,
                         int64_t min, absl::Duration* out) {
  int64_t ms = 0;
  KV_RETURN_IF_ERROR(ParseInt(key, value, min, 3600 * 1000, &ms));
  *out = absl::Milliseconds(ms);
  return absl::OkStatus();
}

// Applies one step key; NotFound (turned into a listing by the caller) when
// `key` is not a step key.
absl::Status SetStepParameter(const PointInfo& info, const std::string& key,
                              const std::string& value, ArmingStep& step) {
  if (key == "action") return SetAction(info, value, step);
  // Errors only: a 1xx/2xx/3xx "error" would pass as success (or be an
  // answer HTTP forbids a body for).
  if (key == "status") return ParseInt(key, value, 400, 599, &step.http_status);
  if (key == "retry_after") {
    return ParseInt(key, value, 0, 86400, &step.retry_after_s);
  }
  if (key == "message") {
    step.message = value;
    return absl::OkStatus();
  }
  if (key == "code") return ParseInt(key, value, 1, 16, &step.body_code);
  if (key == "body") {
    if (value != "status" && value != "text") {
      return absl::InvalidArgumentError(
          absl::StrCat("body must be status or text, not ", Quote(value)));
    }
    step.text_body = value == "text";
    return absl::OkStatus();
  }
  if (key == "delay_ms") return SetDuration(key, value, 0, &step.delay);
  if (key == "timeout_ms") return SetDuration(key, value, 1, &step.timeout);
  if (key == "count") return ParseInt(key, value, 0, INT64_MAX, &step.count);
  if (key == "probability") {
    double p;
    if (!absl::SimpleAtod(value, &p) || !(p > 0.0 && p <= 1.0)) {
      return BadParameter(key, value, "a number in (0, 1]");
    }
    step.probability = p;
    return absl::OkStatus();
  }
  if (key == "after_rows") {
    if (info.id != PointId::kReadRowsRow) {
      return absl::InvalidArgumentError(
          "after_rows applies only to read_rows.row");
    }
    return ParseInt(key, value, 0, INT64_MAX, &step.after_rows);
  }
  if (key == "after_bytes") {
    return ParseInt(key, value, 0, INT64_MAX, &step.after_bytes);
  }
  if (key == "bytes_per_s") {
    return ParseInt(key, value, 1, INT64_MAX, &step.bytes_per_s);
  }
  return absl::NotFoundError(key);
}

// Applies one top-level key that scopes the whole arming; NotFound when `key`
// is not one.
absl::Status SetScopeParameter(const std::string& key, const std::string& value,
                               Arming& arming) {
  if (key == "skip") return ParseInt(key, value, 0, INT64_MAX, &arming.skip);
  if (key == "seed") {
    uint64_t seed;
    if (!absl::SimpleAtoi(value, &seed)) {
      return BadParameter(key, value, "an unsigned integer");
    }
    arming.rng.seed(seed);
    return absl::OkStatus();
  }
  std::optional<std::string>* match = key == "table"     ? &arming.table
                                      : key == "row_key" ? &arming.row_key
                                      : key == "path"    ? &arming.path
                                      : key == "tag"     ? &arming.tag
                                                         : nullptr;
  if (match != nullptr) {
    *match = value;
    return absl::OkStatus();
  }
  if (key == "script") return absl::OkStatus();  // parsed by BuildArming
  return absl::NotFoundError(key);
}

absl::Status UnknownKey(const std::string& key, bool scripted) {
  return absl::InvalidArgumentError(
      scripted ? absl::StrCat("unknown parameter ", Quote(key),
                              " (known in a step: ", kStepKeys,
                              "; beside the steps: ", kScopeKeys, ")")
               : absl::StrCat("unknown parameter ", Quote(key),
                              " (known: ", kStepKeys, ", ", kScopeKeys, ")"));
}

absl::StatusOr<ArmingStep> BuildStep(const PointInfo& info,
                                     StepParameters parameters) {
  ArmingStep step;
  for (const auto& [key, value] : parameters) {
    absl::Status set = SetStepParameter(info, key, value, step);
    if (absl::IsNotFound(set)) {
      if (key == "one_shot") {
        return absl::InvalidArgumentError(
            "one_shot applies to a whole arming; a step says count=1");
      }
      return UnknownKey(key, true);
    }
    KV_RETURN_IF_ERROR(set);
  }
  if (step.message.empty()) {
    step.message = absl::StrCat("injected error at ", info.name);
  }
  step.parameters = std::move(parameters);
  return step;
}

absl::Status InStep(size_t index, const absl::Status& status) {
  return absl::InvalidArgumentError(
      absl::StrCat("step ", index + 1, ": ", status.message()));
}

// An arming's parameters as a JSON object of strings, for its events.
std::string ParametersJson(const std::map<std::string, std::string>& parameters,
                           bool one_shot) {
  std::vector<std::string> json;
  for (const auto& [key, value] : parameters) {
    json.push_back(
        absl::StrCat("\"", JsonEscape(key), "\":\"", JsonEscape(value), "\""));
  }
  if (one_shot) json.push_back("\"one_shot\":\"true\"");
  return absl::StrCat("{", absl::StrJoin(json, ","), "}");
}

// Splits the top-level parameters into the arming's scope and (single-action
// form) its one step.
absl::Status SplitTopLevel(const PointInfo& info, bool scripted,
                           const std::map<std::string, std::string>& top,
                           Arming& arming, StepParameters* single) {
  for (const auto& [key, value] : top) {
    absl::Status scope = SetScopeParameter(key, value, arming);
    if (!absl::IsNotFound(scope)) {
      KV_RETURN_IF_ERROR(scope);
      continue;
    }
    ArmingStep probe;
    absl::Status step_key = SetStepParameter(info, key, value, probe);
    if (absl::IsNotFound(step_key)) return UnknownKey(key, scripted);
    if (scripted) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter ", Quote(key),
                       " belongs in a step when steps or a "
                       "script is given"));
    }
    KV_RETURN_IF_ERROR(step_key);
    (*single)[key] = value;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ArmingStep::Error() const {
  absl::StatusCode code = body_code > 0
                              ? static_cast<absl::StatusCode>(body_code)
                              : CodeFromHttpStatus(http_status);
  return WithHttpStatus(absl::Status(code, message), http_status);
}

bool Arming::Matches(const RequestInfo& request) const {
  return !(table && *table != request.table) &&
         !(row_key && *row_key != request.row_key) &&
         !(path && *path != request.path) && !(tag && *tag != request.tag);
}

int Arming::Pick() {
  for (size_t i = step; i < steps.size(); ++i) {
    ArmingStep& s = steps[i];
    if (s.used_up()) continue;
    ++s.reached;
    if (s.probability < 1.0 && std::uniform_real_distribution<double>(
                                   0.0, 1.0)(rng) >= s.probability) {
      continue;  // as in fail-rs: the next step may take this hit
    }
    ++s.fires;
    while (step < steps.size() && steps[step].used_up()) ++step;
    return static_cast<int>(i);
  }
  return -1;
}

absl::StatusOr<std::unique_ptr<Arming>> BuildArming(
    const PointInfo& info, bool one_shot,
    std::map<std::string, std::string> parameters,
    std::vector<StepParameters> steps) {
  auto script = parameters.find("script");
  if (script != parameters.end()) {
    if (!steps.empty()) {
      return absl::InvalidArgumentError(
          "give the steps either as \"steps\" or as a \"script\", not both");
    }
    KV_ASSIGN_OR_RETURN(steps, ParseFaultScript(script->second));
  }
  const bool scripted = !steps.empty();
  if (scripted && one_shot) {
    return absl::InvalidArgumentError(
        "one_shot does not combine with steps; give each step its count");
  }
  if (steps.size() > kMaxSteps) {
    return absl::InvalidArgumentError(
        absl::StrCat("an arming holds at most ", kMaxSteps, " steps"));
  }
  auto arming = std::make_unique<Arming>();
  StepParameters single;
  KV_RETURN_IF_ERROR(
      SplitTopLevel(info, scripted, parameters, *arming, &single));
  if (!scripted) {
    if (one_shot) single.emplace("count", "1");
    steps.push_back(std::move(single));
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    absl::StatusOr<ArmingStep> step = BuildStep(info, std::move(steps[i]));
    if (!step.ok()) {
      return scripted ? InStep(i, step.status()) : step.status();
    }
    arming->steps.push_back(*std::move(step));
  }
  arming->parameters_json = ParametersJson(parameters, one_shot);
  arming->parameters = std::move(parameters);
  if (one_shot) arming->parameters["one_shot"] = "true";
  return arming;
}

}  // namespace kvstore::store
