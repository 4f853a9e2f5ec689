// Named error-injection points (docs/design.md, "Error injection"): where they
// are, how a test arms them, and what a request does when it reaches one.
//
// The points are a fixed catalog (InjectionRegistry::Catalog()); arming an
// unknown name is NotFound. An arming is a set of string parameters (the JSON
// object of ScyllaDB's API):
//   action       error | delay | pause | drop | reset | truncate | crash
//                (default error; each point lists the actions it supports).
//                drop closes the connection without an answer; reset lets
//                the request run, sends half of its answer (status line,
//                headers, half the body) and resets the connection (RST)
//   code, body   error: the code of the Status body (1-16; default: the
//                HTTP status's), or body=text for a text/plain body instead
//   status       error: the HTTP status, 400-599 (default 503); retry_after:
//                seconds for a Retry-After header; message: the error text
//   delay_ms     delay: how long (default 1000)
//   timeout_ms   pause: how long a request stays parked without a message
//                (default 60000); then it goes on and a `timeout` event is sent
//   count        fire at most this many times (0: no limit; one_shot = 1)
//   skip         let the first K matching hits pass without firing
//   probability  fire with this probability (0..1], drawn from `seed`
//   seed         the random seed (default 1), so a run can be replayed
//   table, row_key, path, tag   match: a hit only for requests with exactly
//                this table / row key / URL path / X-Test-Tag header
//   after_rows   read_rows.row only: the row count after which it is hit
//   steps, script  a fault script: an ordered list of steps, each an action
//                with its own parameters, count and probability (arming.h,
//                fault_script.h); the arming above is its one-step case.
//                Every event names the step it concerns ("step", 0-based).
// Arming replaces any earlier arming of the point and resets its counters.
//
// A hit is a request reaching an armed point and passing its match; it fires
// unless skip, or every step's count or probability, says no. Counters (hits,
// fires, waiting, messages) belong to the arming and stay readable after it is
// disarmed, until the point is armed again; so do each step's (reached, fires).
// An exhausted arming (every step's count reached) stays armed, counting hits,
// until disarmed.
//
// Pause: a firing request is parked until a message, a disarm, or its timeout.
// A message releases every request parked at the point; sent when none is
// parked it is latched, and the next request to pause there passes at once.
// Delays at points checked with Check() are parked too, so disarming releases
// them at once; CheckNow() points (storage.write) sleep on the caller's
// thread.
//
// Every hit, fire, park, release, timeout, arming and disarming is published to
// events() in the order it happened at the point; `paused` only once the
// request is parked (a message sent on seeing it releases that request).
//
// Cost: a disarmed point costs one relaxed atomic load (armed()).
//
// Thread-safe. Continuations of delayed or paused requests run on the
// registry's own thread.
#ifndef KVSTORE_STORE_INJECTION_INJECTION_REGISTRY_H_
#define KVSTORE_STORE_INJECTION_INJECTION_REGISTRY_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/injection/arming.h"
#include "store/injection/injection_events.h"
#include "store/injection/injection_types.h"
#include "store/injection/request_journal.h"

namespace kvstore::store {

// One step of a point's arming, for the control API.
struct StepState {
  std::string action;
  std::map<std::string, std::string> parameters;
  int64_t count = 0;    // fires allowed; 0: no limit
  int64_t reached = 0;  // hits that came to the step
  int64_t fires = 0;
};

// A point's state, for the control API.
struct PointState {
  bool armed = false;
  bool exhausted = false;  // armed, but its count is used up
  std::map<std::string, std::string> parameters;
  int64_t hits = 0;
  int64_t fires = 0;
  int64_t waiting = 0;   // requests parked now
  int64_t messages = 0;  // messages received by this arming
  int64_t step = 0;      // the next step to try; steps.size(): all used up
  std::vector<StepState> steps;
};

struct InjectionOptions {
  InjectionEvents::Options events;
  absl::Duration tick = absl::Milliseconds(100);  // heartbeat granularity
  // Loses what the disk has not synced and kills the process (never
  // returns): the power_cut action. Empty (a store in memory): power_cut and
  // storage.sync cannot be armed (FailedPrecondition).
  std::function<void()> power_cut;
};

class InjectionRegistry {
 public:
  using Continue = absl::AnyInvocable<void(Verdict) &&>;

  // Starts the registry's thread.
  static std::unique_ptr<InjectionRegistry> Create(
      const InjectionOptions& options);
  ~InjectionRegistry();  // Shutdown()

  static const std::vector<PointInfo>& Catalog();
  static std::optional<PointId> Find(absl::string_view name);

  bool armed(PointId id) const {
    return points_[static_cast<int>(id)].armed.load(std::memory_order_relaxed);
  }

  // Evaluates point `id` for a request and calls `next` with the verdict: at
  // once (inline) unless the point delays or pauses the request, then later on
  // the registry's thread. A crash action kills the process (SIGKILL).
  void Check(PointId id, const RequestInfo& request, Continue next);
  // The same for places that cannot wait for a callback: a delay sleeps on the
  // calling thread; pause is not offered at such points.
  Verdict CheckNow(PointId id, const RequestInfo& request);
  // The after_rows of the step a hit at `id` would try next (default 1).
  int64_t AfterRows(PointId id);

  // Control API. Errors: NotFound for an unknown point; InvalidArgument for a
  // bad parameter or an action the point does not support (arming.h says
  // which forms `parameters` and `steps` take).
  absl::Status Arm(absl::string_view name, bool one_shot,
                   std::map<std::string, std::string> parameters,
                   std::vector<StepParameters> steps = {});
  absl::Status Disarm(absl::string_view name);
  void DisarmAll();
  absl::Status Message(absl::string_view name);
  absl::StatusOr<PointState> State(absl::string_view name);
  std::vector<std::string> ArmedNames();

  InjectionEvents& events() { return events_; }
  // The request journal, on the events' sequence and history.
  RequestJournal& journal() { return journal_; }

  // Disarms everything (releasing parked requests), ends event streams, and
  // stops the thread. Later checks proceed at once. Idempotent.
  void Shutdown();

 private:
  struct Waiter {
    uint64_t id;
    bool pause;  // else a delay
    Continue next;
    RequestInfo request;
    std::shared_ptr<Arming> arming;  // the arming that parked it
    size_t step;                     // the step that did
  };
  // A hit that fired: its arming and step (no arming: it passes).
  struct Fire {
    std::shared_ptr<Arming> arming;
    size_t step = 0;
  };
  struct Point {
    const PointInfo* info = nullptr;
    std::atomic<bool> armed{false};
    absl::Mutex mu;
    std::shared_ptr<Arming> arming ABSL_GUARDED_BY(mu);  // last arming
    std::list<Waiter> waiters ABSL_GUARDED_BY(mu);
  };
  class Loop;

  explicit InjectionRegistry(const InjectionOptions& options);

  // Decides a hit under the point's lock: which step fires, if any.
  Fire Decide(Point& point, const RequestInfo& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(point.mu);
  // Parks a request that a delay or pause step fired on.
  void Park(Point& point, Fire fire, bool pause, const RequestInfo& request,
            Continue next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(point.mu);
  // FailedPrecondition if the arming needs what this store lacks (a disk).
  absl::Status CanRun(const PointInfo& info, const Arming& arming) const;
  // What a firing step (not a delay or pause) tells the caller to do.
  static Verdict VerdictOf(const ArmingStep& step);
  // Publishes an event of the point; `step` is the step it concerns.
  void Publish(const Point& point, const Arming& arming,
               absl::string_view phase, const RequestInfo* request,
               size_t step);
  void Release(Point& point, uint64_t waiter_id, absl::string_view phase);
  // Unparks every request at the point (publishing `phase` for pauses); the
  // caller passes the result to Resume() once the lock is released.
  std::list<Waiter> TakeWaiters(Point& point, absl::string_view phase)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(point.mu);
  void Resume(std::list<Waiter> waiters);
  Point* PointNamed(absl::string_view name);

  const std::function<void()> power_cut_;  // InjectionOptions::power_cut
  InjectionEvents events_;
  RequestJournal journal_{&events_};
  std::array<Point, static_cast<int>(PointId::kCount)> points_;
  std::atomic<uint64_t> next_waiter_{1};
  std::atomic<bool> shut_down_{false};
  std::unique_ptr<Loop> loop_;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_INJECTION_INJECTION_REGISTRY_H_
