// The JSON of the error-injection control API's arming route: the body a
// test posts to arm a point, and the state it reads back.
//
// Pure functions; thread-safe.
#ifndef KVSTORE_STORE_API_ARMING_JSON_H_
#define KVSTORE_STORE_API_ARMING_JSON_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "store/injection/fault_script.h"
#include "store/injection/injection_registry.h"

namespace kvstore::store {

inline constexpr size_t kMaxArmingBodyBytes = 64 * 1024;

struct ArmingBody {
  std::map<std::string, std::string> parameters;
  std::vector<StepParameters> steps;  // "steps": [{...}, ...]
};

// Parses an arming body: a JSON object whose values are strings (ScyllaDB
// sends strings), numbers or booleans, all kept as text, and an optional
// "steps" array of objects of the same kind. An empty body is no parameters.
// InvalidArgument (naming the key or step) for anything else, or a body over
// kMaxArmingBodyBytes.
absl::StatusOr<ArmingBody> ParseArmingBody(absl::string_view body);

// A point's state as the control API shows it: enabled, exhausted, the
// parameters (ScyllaDB's [{key, value}]), counters, and the current step with
// every step's counters.
std::string StateJson(const PointState& state);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_ARMING_JSON_H_
