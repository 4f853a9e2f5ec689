// One arming of an injection point: what the control API asked for, turned
// into an ordered list of steps, plus the arming's counters. Built by
// BuildArming from either form of a fault script (docs/design.md, "Fault
// scripts"):
//   - the single-action form: action and its parameters at the top level
//     (count, probability and one_shot included), which is one step;
//   - {"steps": [{...}, ...]}: each step an object of the same step keys;
//   - {"script": "2*error(503)->off"}: the term language (fault_script.h).
// Top-level keys that scope the whole arming: skip, seed, table, row_key,
// path, tag. Both script forms are checked by the same code, so a bad value
// gets the same message whichever form carried it.
//
// Thread-compatible: the registry guards an Arming with its point's mutex.
#ifndef KVSTORE_STORE_INJECTION_ARMING_H_
#define KVSTORE_STORE_INJECTION_ARMING_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/injection/fault_script.h"
#include "store/injection/injection_types.h"

namespace kvstore::store {

// One step: an action, its parameters, and how often it may fire.
struct ArmingStep {
  InjectAction action = InjectAction::kError;
  StepParameters parameters;  // as given, for the control API

  int http_status = 503;  // error: the HTTP status to answer with
  int retry_after_s = -1;
  std::string message;
  int body_code = -1;      // error: the Status body's code; -1: from status
  bool text_body = false;  // error: a text/plain body, no Status
  absl::Duration delay = absl::Seconds(1);     // delay, delay_headers
  absl::Duration timeout = absl::Seconds(60);  // pause, stall
  int64_t after_rows = 1;                      // read_rows.row
  int64_t after_bytes = -1;    // reset, stall: bytes sent first; -1: half
  int64_t bytes_per_s = 1024;  // slow

  int64_t count = 0;  // fires allowed; 0: no limit
  double probability = 1.0;

  int64_t reached = 0;  // hits that came to this step (its draw included)
  int64_t fires = 0;

  bool used_up() const { return count > 0 && fires >= count; }
  // The error an error step answers with.
  absl::Status Error() const;
};

struct Arming {
  std::map<std::string, std::string> parameters;  // top level, as given
  std::string parameters_json;                    // the same, for events
  std::vector<ArmingStep> steps;                  // at least one
  size_t step = 0;  // the first step not used up; steps.size(): all are

  int64_t skip = 0;
  std::mt19937_64 rng{1};
  std::optional<std::string> table, row_key, path, tag;

  int64_t hits = 0;
  int64_t fires = 0;  // fires of every step but `off`
  int64_t waiting = 0;
  int64_t messages = 0;
  int64_t latched = 0;  // messages not yet consumed by a pause
  bool disarmed = false;

  bool exhausted() const { return step >= steps.size(); }
  bool Matches(const RequestInfo& request) const;
  // The step that fires on a hit past `skip`, counting it, or -1 when every
  // step passes (used up, or its probability missed).
  int Pick();
};

// Builds an arming of point `info`. InvalidArgument for an unknown key, a
// bad value, an action the point does not support, a step key at the top
// level beside steps or a script, or both steps and a script; the message
// names the step (1-based) when the fault is in one.
absl::StatusOr<std::unique_ptr<Arming>> BuildArming(
    const PointInfo& info, bool one_shot,
    std::map<std::string, std::string> parameters,
    std::vector<StepParameters> steps);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_INJECTION_ARMING_H_
