#include "store/api/arming_json.h"

#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "store/injection/injection_events.h"

namespace kvstore::store {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// A scalar JSON value as text; false for anything else.
bool ScalarText(const Value& value, std::string* out) {
  switch (value.kind_case()) {
    case Value::kStringValue:
      *out = value.string_value();
      return true;
    case Value::kBoolValue:
      *out = value.bool_value() ? "true" : "false";
      return true;
    case Value::kNumberValue: {
      double n = value.number_value();
      // Whole numbers in int64's range print as integers; the rest as
      // doubles (and fail integer parameters with a clear message).
      bool whole = n >= -9.2e18 && n <= 9.2e18 && n == std::trunc(n);
      *out = whole ? absl::StrCat(static_cast<int64_t>(n)) : absl::StrCat(n);
      return true;
    }
    default:
      return false;
  }
}

absl::StatusOr<std::map<std::string, std::string>> ScalarFields(
    const Struct& object, absl::string_view where) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : object.fields()) {
    if (!ScalarText(value, &out[key])) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "parameter ", key, ": expected a string, number or boolean"));
    }
  }
  return out;
}

absl::StatusOr<std::vector<StepParameters>> StepsOf(const Value& steps) {
  if (steps.kind_case() != Value::kListValue) {
    return absl::InvalidArgumentError(
        "steps must be an array of objects, one per step");
  }
  std::vector<StepParameters> out;
  for (int i = 0; i < steps.list_value().values_size(); ++i) {
    const Value& step = steps.list_value().values(i);
    if (step.kind_case() != Value::kStructValue) {
      return absl::InvalidArgumentError(
          absl::StrCat("step ", i + 1, ": expected an object"));
    }
    absl::StatusOr<StepParameters> fields =
        ScalarFields(step.struct_value(), absl::StrCat("step ", i + 1, ": "));
    if (!fields.ok()) return fields.status();
    out.push_back(*std::move(fields));
  }
  if (out.empty()) return absl::InvalidArgumentError("steps is empty");
  return out;
}

std::string ObjectJson(const std::map<std::string, std::string>& fields) {
  std::vector<std::string> json;
  for (const auto& [key, value] : fields) {
    json.push_back(absl::StrCat(JsonQuote(key), ":", JsonQuote(value)));
  }
  return absl::StrCat("{", absl::StrJoin(json, ","), "}");
}

std::string StepJson(const StepState& step) {
  return absl::StrCat("{\"action\":", JsonQuote(step.action),
                      ",\"parameters\":", ObjectJson(step.parameters),
                      ",\"count\":", step.count, ",\"reached\":", step.reached,
                      ",\"fires\":", step.fires, "}");
}

}  // namespace

absl::StatusOr<ArmingBody> ParseArmingBody(absl::string_view body) {
  ArmingBody out;
  if (absl::StripAsciiWhitespace(body).empty()) return out;
  if (body.size() > kMaxArmingBodyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameters exceed ", kMaxArmingBodyBytes, " bytes"));
  }
  Struct object;
  auto parsed =
      google::protobuf::util::JsonStringToMessage(std::string(body), &object);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parameters must be a JSON object: ", parsed.message().as_string()));
  }
  if (auto steps = object.fields().find("steps");
      steps != object.fields().end()) {
    absl::StatusOr<std::vector<StepParameters>> parsed_steps =
        StepsOf(steps->second);
    if (!parsed_steps.ok()) return parsed_steps.status();
    out.steps = *std::move(parsed_steps);
    object.mutable_fields()->erase("steps");
  }
  absl::StatusOr<std::map<std::string, std::string>> fields =
      ScalarFields(object, "");
  if (!fields.ok()) return fields.status();
  out.parameters = *std::move(fields);
  return out;
}

std::string StateJson(const PointState& s) {
  std::vector<std::string> params;
  for (const auto& [k, v] : s.parameters) {
    params.push_back(absl::StrCat("{\"key\":", JsonQuote(k),
                                  ",\"value\":", JsonQuote(v), "}"));
  }
  std::vector<std::string> steps;
  for (const StepState& step : s.steps) steps.push_back(StepJson(step));
  return absl::StrCat(
      "{\"enabled\":", s.armed ? "true" : "false",
      ",\"exhausted\":", s.exhausted ? "true" : "false", ",\"parameters\":[",
      absl::StrJoin(params, ","), "],\"hits\":", s.hits, ",\"fires\":", s.fires,
      ",\"waiting\":", s.waiting, ",\"messages\":", s.messages,
      ",\"step\":", s.step, ",\"steps\":[", absl::StrJoin(steps, ","), "]}");
}

}  // namespace kvstore::store
