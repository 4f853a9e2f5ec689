// kvstore::InjectionClient: arms, disarms, messages and reads the counters of
// a kvstore_server's error-injection points (/v2/error_injection, see
// store/injection_api.h; the server must run with --error_injection).
//
//   auto injection = kvstore::InjectionClient::Create("127.0.0.1:4000");
//   (*injection)->Arm("mutation.before_commit",
//                     {{"action", "error"}, {"status", "503"}, {"count",
//                     "2"}});
//   ... run the code under test ...
//   auto state = (*injection)->State("mutation.before_commit");  // hits, fires
//
// Parameters are those of store/injection_registry.h. Errors are the store's:
// NOT_FOUND for an unknown point (or injection turned off), INVALID_ARGUMENT
// for a bad parameter; UNAVAILABLE if the store cannot be reached.
//
// Thread-safe. Owns its connections.
#ifndef KVSTORE_CLIENT_INJECTION_CLIENT_H_
#define KVSTORE_CLIENT_INJECTION_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/transport.h"
#include "google/protobuf/struct.pb.h"

namespace kvstore {

// One step of a point's fault script and its counters.
struct InjectionStepState {
  std::string action;
  std::map<std::string, std::string> parameters;
  int64_t count = 0;    // fires allowed; 0: no limit
  int64_t reached = 0;  // hits that came to the step
  int64_t fires = 0;
};

// A point's arming and counters (GET /v2/error_injection/injection/{name}).
struct InjectionState {
  bool enabled = false;    // armed now
  bool exhausted = false;  // armed, but its count is used up
  std::map<std::string, std::string> parameters;
  int64_t hits = 0;
  int64_t fires = 0;
  int64_t waiting = 0;  // requests parked at the point now
  int64_t messages = 0;
  int64_t step = 0;  // the next step to try; steps.size(): all used up
  std::vector<InjectionStepState> steps;
};

// One event of the store's error-injection stream (also what
// InjectionClient::WaitForEvent answers).
struct InjectionEventRecord {
  uint64_t seq = 0;
  std::string phase;      // hit, fired, paused, released, timeout, armed, ...
  std::string injection;  // the point
  std::string type;       // the action: error, delay, pause, ...
  std::string route;      // a journal entry's (phase "request") route
  std::string data;       // the whole JSON object, as sent
  absl::Time received;    // when this client parsed it
};

// One request the store answered (GET /v2/journal).
struct JournalRecord {
  uint64_t seq = 0;
  uint64_t connection = 0;
  std::string method, path, route, table, tag;
  std::vector<std::string> row_keys;
  int status = 0;  // 0: closed without an answer
  bool cut = false;
  int64_t bytes_in = 0, bytes_out = 0;
  int64_t start_us = 0, end_us = 0;     // the store's clock, Unix microseconds
  std::vector<std::string> injections;  // the points that fired on it
};

// A journal entry's JSON (as /v2/journal lists it, or the data of an
// `event: request` on the events stream). DataLoss if unparsable,
// InvalidArgument if not an object.
absl::StatusOr<JournalRecord> ParseJournalRecord(absl::string_view json);

class InjectionClient {
 public:
  // `endpoint` is "ip:port". InvalidArgument if malformed. Connects lazily.
  static absl::StatusOr<std::unique_ptr<InjectionClient>> Create(
      absl::string_view endpoint, absl::Duration timeout = absl::Seconds(10));

  // Arms `point`, replacing any arming and resetting its counters.
  absl::Status Arm(absl::string_view point,
                   const std::map<std::string, std::string>& parameters,
                   bool one_shot = false);
  // Arms `point` with a fault script given as steps, each an object of step
  // parameters (action, count, probability, the action's own); `scope` holds
  // the keys for the whole arming (skip, seed, table, row_key, path, tag).
  // The term form is Arm(point, {{"script", "2*error(503)->off"}}).
  absl::Status ArmSteps(
      absl::string_view point,
      const std::vector<std::map<std::string, std::string>>& steps,
      const std::map<std::string, std::string>& scope = {});
  // Disarms it, releasing requests parked there. Counters stay readable.
  absl::Status Disarm(absl::string_view point);
  absl::Status DisarmAll();
  // Releases every request paused at `point`; with none parked, the next one
  // to pause passes at once (the message is latched).
  absl::Status Message(absl::string_view point);
  absl::StatusOr<InjectionState> State(absl::string_view point);
  // The names of the armed points.
  absl::StatusOr<std::vector<std::string>> Armed();
  // Every point of the catalog, by name.
  absl::StatusOr<std::vector<std::string>> Points();
  // POST /v2/reset: disarms everything, drops every table but `default` and
  // empties it, and restarts the event history (and the journal) with a
  // `reset` event, whose seq this answers.
  absl::StatusOr<uint64_t> Reset();
  // The request journal after `since` (GET /v2/journal), oldest first; `tag`,
  // `route` and `table` filter it unless empty. OutOfRange if entries after
  // `since` have left the store's history.
  absl::StatusOr<std::vector<JournalRecord>> Journal(
      uint64_t since, absl::string_view tag = "", absl::string_view route = "",
      absl::string_view table = "");

  // A long poll (GET /v2/error_injection/wait), for callers without an event
  // stream: the first event of `point` (and of `phase`, unless empty) whose
  // seq is above `since`, from the store's history or when it happens.
  // DeadlineExceeded if none comes within `timeout`; OutOfRange if events
  // after `since` have left the store's history (one of them may have
  // matched). Pass the answer's seq as the next `since`.
  absl::StatusOr<InjectionEventRecord> WaitForEvent(absl::string_view point,
                                                    absl::string_view phase,
                                                    uint64_t since,
                                                    absl::Duration timeout);

 private:
  InjectionClient(std::unique_ptr<Transport> transport, absl::Duration timeout)
      : transport_(std::move(transport)), timeout_(timeout) {}

  absl::Status PostArming(absl::string_view point,
                          const google::protobuf::Struct& body, bool one_shot);
  // One request; the body of a 200 answer, else the store's error.
  absl::StatusOr<std::string> Call(
      const std::string& method, const std::string& target,
      std::string body = "",
      std::optional<absl::Duration> timeout = std::nullopt);

  const std::unique_ptr<Transport> transport_;
  const absl::Duration timeout_;
};

}  // namespace kvstore

#endif  // KVSTORE_CLIENT_INJECTION_CLIENT_H_
