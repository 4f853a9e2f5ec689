#include "store/injection/fault_script.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/quote.h"
#include "common/status_macros.h"

namespace kvstore::store {
namespace {

absl::Status StepError(size_t index, absl::string_view text,
                       absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("script step ", index, " (", Quote(text), "): ", what));
}

bool IsName(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

// Strips a leading "P%" into parameters["probability"] (P / 100, as text).
absl::Status TakeProbability(size_t index, absl::string_view text,
                             absl::string_view* rest, StepParameters* out) {
  size_t percent = rest->find('%');
  if (percent == absl::string_view::npos) return absl::OkStatus();
  absl::string_view number =
      absl::StripAsciiWhitespace(rest->substr(0, percent));
  double p;
  if (!absl::SimpleAtod(number, &p) || !(p > 0.0 && p <= 100.0)) {
    return StepError(index, text,
                     "a probability is a percentage in (0, 100], as in 20%");
  }
  (*out)["probability"] = absl::StrCat(p / 100.0);
  *rest = absl::StripLeadingAsciiWhitespace(rest->substr(percent + 1));
  return absl::OkStatus();
}

// Strips a leading "N*" into parameters["count"].
absl::Status TakeCount(size_t index, absl::string_view text,
                       absl::string_view* rest, StepParameters* out) {
  size_t star = rest->find('*');
  if (star == absl::string_view::npos) return absl::OkStatus();
  absl::string_view number = absl::StripAsciiWhitespace(rest->substr(0, star));
  int64_t n;
  if (!absl::SimpleAtoi(number, &n) || n < 1) {
    return StepError(index, text, "a count is a whole number >= 1, as in 2*");
  }
  (*out)["count"] = absl::StrCat(n);
  *rest = absl::StripLeadingAsciiWhitespace(rest->substr(star + 1));
  return absl::OkStatus();
}

// Parses "action" or "action(args)" into parameters.
absl::Status TakeAction(size_t index, absl::string_view text,
                        absl::string_view rest, StepParameters* out) {
  size_t open = rest.find('(');
  absl::string_view action = absl::StripAsciiWhitespace(rest.substr(0, open));
  if (!IsName(action)) {
    return StepError(index, text, "expected an action name, as in error(503)");
  }
  (*out)["action"] = std::string(action);
  if (open == absl::string_view::npos) return absl::OkStatus();
  if (!absl::ConsumeSuffix(&rest, ")")) {
    return StepError(index, text, "its arguments lack a closing ')'");
  }
  absl::string_view args = rest.substr(open + 1);
  bool positional_taken = false;
  for (absl::string_view arg : absl::StrSplit(args, ',')) {
    arg = absl::StripAsciiWhitespace(arg);
    if (arg.empty()) return StepError(index, text, "an empty argument");
    size_t eq = arg.find('=');
    std::string key;
    if (eq == absl::string_view::npos) {
      key = std::string(MainParameterOf(action));
      if (key.empty() || positional_taken) {
        return StepError(
            index, text,
            absl::StrCat("action ", Quote(action),
                         key.empty() ? " takes no bare value; use key=value"
                                     : " takes one bare value"));
      }
      positional_taken = true;
    } else {
      key = std::string(absl::StripAsciiWhitespace(arg.substr(0, eq)));
      arg = absl::StripAsciiWhitespace(arg.substr(eq + 1));
      if (!IsName(key)) {
        return StepError(index, text, "an argument's key must be a name");
      }
    }
    if (out->count(key) > 0) {
      return StepError(index, text,
                       absl::StrCat(Quote(key), " is given twice"));
    }
    (*out)[key] = std::string(arg);
  }
  return absl::OkStatus();
}

// The script's steps: split at "->" outside parentheses, so an argument such
// as message=a->b stays whole. (A ',' inside a value cannot be written.)
std::vector<absl::string_view> SplitSteps(absl::string_view script) {
  std::vector<absl::string_view> steps;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < script.size(); ++i) {
    if (script[i] == '(') ++depth;
    if (script[i] == ')' && depth > 0) --depth;
    if (depth == 0 && script.substr(i, 2) == "->") {
      steps.push_back(script.substr(start, i - start));
      start = i + 2;
      ++i;
    }
  }
  steps.push_back(script.substr(start));
  return steps;
}

}  // namespace

absl::string_view MainParameterOf(absl::string_view action) {
  if (action == "error") return "status";
  if (action == "delay" || action == "delay_headers") return "delay_ms";
  if (action == "pause") return "timeout_ms";
  if (action == "truncate") return "after_rows";
  if (action == "slow") return "bytes_per_s";
  if (action == "stall" || action == "reset") return "after_bytes";
  return "";
}

absl::StatusOr<std::vector<StepParameters>> ParseFaultScript(
    absl::string_view script) {
  if (script.size() > kMaxScriptBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("script exceeds ", kMaxScriptBytes, " bytes"));
  }
  if (absl::StripAsciiWhitespace(script).empty()) {
    return absl::InvalidArgumentError("script is empty");
  }
  std::vector<StepParameters> steps;
  size_t index = 0;
  for (absl::string_view text : SplitSteps(script)) {
    ++index;
    text = absl::StripAsciiWhitespace(text);
    if (index > kMaxSteps) {
      return absl::InvalidArgumentError(
          absl::StrCat("a script holds at most ", kMaxSteps, " steps"));
    }
    StepParameters step;
    absl::string_view rest = text;
    size_t open = rest.find('(');
    // P% and N* come before the action, so look for them only there.
    absl::string_view head = rest.substr(0, open);
    if (head.find('%') != absl::string_view::npos) {
      KV_RETURN_IF_ERROR(TakeProbability(index, text, &rest, &step));
    }
    head = rest.substr(0, rest.find('('));
    if (head.find('*') != absl::string_view::npos) {
      KV_RETURN_IF_ERROR(TakeCount(index, text, &rest, &step));
    }
    KV_RETURN_IF_ERROR(TakeAction(index, text, rest, &step));
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace kvstore::store
