// The compact fault-script language of failpoint libraries (fail-rs, gofail,
// FreeBSD fail(9)), turned into the steps of an arming:
//
//   script := step ( "->" step )*
//   step   := [ P "%" ] [ N "*" ] action [ "(" arg ( "," arg )* ")" ]
//   arg    := value | key "=" value
//
// e.g. "2*error(503,retry_after=1)->1*truncate(3)->off". Steps are tried in
// order: one whose count N is used up is passed over for good; one whose
// probability P (percent) misses lets the next step try this hit (as in
// fail-rs). Without N a step never runs out. After the last step: pass.
//
// A step becomes the same parameters a JSON step holds ("action", "count",
// "probability", and the action's own), so both forms are validated by one
// function (arming.h) with the same messages. A bare value is the action's
// main parameter: error(status), delay(delay_ms), pause(timeout_ms),
// truncate(after_rows), and the transport actions' byte counts.
//
// Thread-compatible; pure functions.
#ifndef KVSTORE_STORE_INJECTION_FAULT_SCRIPT_H_
#define KVSTORE_STORE_INJECTION_FAULT_SCRIPT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvstore::store {

// One step's parameters, as text (the JSON form's object).
using StepParameters = std::map<std::string, std::string>;

// The longest script accepted, and the most steps one arming may hold.
inline constexpr size_t kMaxScriptBytes = 4096;
inline constexpr size_t kMaxSteps = 64;

// Parses `script` into steps. InvalidArgument names the step (1-based) and
// what is wrong with it; values are not checked here (that is the arming's
// job), only the syntax.
absl::StatusOr<std::vector<StepParameters>> ParseFaultScript(
    absl::string_view script);

// The parameter a bare value sets for `action` ("" if it takes none).
absl::string_view MainParameterOf(absl::string_view action);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_INJECTION_FAULT_SCRIPT_H_
