// The error-injection event stream's hub (docs/design.md, "Error injection"):
// every event an injection point produces gets a server-wide sequence number,
// goes into a bounded history, and is copied to each subscriber whose filter it
// passes.
//
// Guarantees:
//  - one order: seq numbers are assigned under one lock, so every subscriber
//    sees events in seq order;
//  - a publisher never blocks on a reader: each subscriber has a bounded queue,
//    and what does not fit is dropped and reported to that subscriber as one
//    `gap` event (lost_from, lost_to) after the events queued before it (a
//    client may then replay the lost range from the history);
//  - replay: a subscriber may ask for every event after a seq; what has left
//  the
//    history is reported as a gap;
//  - independent subscribers: each one's queue and lifetime are its own, and
//    destroying a Subscription unregisters it.
//
// Events are stored as ready-to-send Server-Sent-Events frames
// ("id: N\nevent: PHASE\ndata: JSON\n\n").
//
// Thread-safe. The hub must outlive its subscriptions.
#ifndef KVSTORE_STORE_INJECTION_INJECTION_EVENTS_H_
#define KVSTORE_STORE_INJECTION_INJECTION_EVENTS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kvstore::store {

// Escapes `bytes` as the contents of a JSON string. Bytes >= 0x80 are written
// as \u00XX (the bytes read as Latin-1), so any key round-trips exactly.
std::string JsonEscape(absl::string_view bytes);
// The same in quotes: a whole JSON string.
std::string JsonQuote(absl::string_view bytes);

struct InjectionEvent {
  uint64_t seq = 0;
  std::string injection;  // the point's name
  std::string phase;      // the SSE event name: fired, paused, ...
  std::string tag;        // the request's X-Test-Tag, if it concerns one
  std::string table;      // the request's table, if it concerns one
  std::string route;      // a journal entry's route
  std::string frame;      // the whole SSE frame
};

// The phase of the event POST /v2/reset publishes; it passes every filter.
inline constexpr absl::string_view kResetPhase = "reset";
// The phase of a request journal entry (request_journal.h).
inline constexpr absl::string_view kRequestPhase = "request";

// Which events a subscriber wants; an empty list means all (and a reset
// event always passes). Journal entries pass only with `journal`, and then
// only `tag` and `route` filter them.
struct EventFilter {
  absl::flat_hash_set<std::string> injections;
  absl::flat_hash_set<std::string> phases;
  std::string tag;            // events and entries of requests with this tag
  std::string table;          // events and entries of requests on this table
  std::string route;          // entries of this route
  bool journal = false;       // journal entries too
  bool journal_only = false;  // journal entries only
  bool Passes(const InjectionEvent& event) const;
};

class InjectionEvents;

// One subscriber: a bounded queue filled by the hub. Used by one reader at a
// time (the SSE stream of one connection); publishers may run concurrently.
class Subscription {
 public:
  ~Subscription();  // unregisters from the hub
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Calls `ready` exactly once, from any thread (maybe inline), when there is
  // something to read (events, a gap, a heartbeat due, or the end), unless the
  // Subscription is destroyed first. One call outstanding at a time.
  void NotifyWhenReady(absl::AnyInvocable<void() &&> ready);

  // Everything queued, as SSE text (then a gap event if events were lost; a
  // heartbeat comment if one is due and nothing else is queued); nullopt once
  // the hub has closed and the queue is drained.
  std::optional<std::string> Take();

 private:
  friend class InjectionEvents;
  Subscription(InjectionEvents* hub, EventFilter filter, size_t capacity,
               absl::Duration heartbeat);
  // Called by the hub with its lock held.
  void Push(const std::shared_ptr<const InjectionEvent>& event);
  void PushText(std::string text);
  void Close();
  void Tick(absl::Time now);

  InjectionEvents* const hub_;
  const EventFilter filter_;
  const size_t capacity_;
  const absl::Duration heartbeat_;

  absl::Mutex mu_;
  std::deque<std::shared_ptr<const InjectionEvent>> queue_ ABSL_GUARDED_BY(mu_);
  std::string text_ ABSL_GUARDED_BY(mu_);  // hello and replay text, sent first
  uint64_t lost_from_ ABSL_GUARDED_BY(mu_) = 0;  // 0: nothing lost
  uint64_t lost_to_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool heartbeat_due_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_sent_ ABSL_GUARDED_BY(mu_);
  absl::AnyInvocable<void() &&> ready_ ABSL_GUARDED_BY(mu_);
};

class InjectionEvents {
 public:
  struct Options {
    size_t history = 10000;           // events kept for replay
    size_t subscriber_queue = 10000;  // live events queued per subscriber
  };
  explicit InjectionEvents(const Options& options) : options_(options) {}
  ~InjectionEvents();

  // Assigns the next seq and delivers. `data_fields` is the inside of the
  // JSON object after the common keys (seq, injection, phase, ts, ts_us),
  // either empty or starting with a comma. Returns the seq.
  // `tag` and `table` are those of the request the event concerns, for
  // filters.
  uint64_t Publish(absl::string_view injection, absl::string_view phase,
                   absl::string_view data_fields, absl::string_view tag = "",
                   absl::string_view table = "");
  // The same for a journal entry: an `event: request` frame whose data is
  // {"seq", "phase":"request", "ts", "ts_us" <data_fields>}.
  uint64_t PublishEntry(absl::string_view tag, absl::string_view route,
                        absl::string_view table, absl::string_view data_fields);

  // What the history holds after `since` that passes the filter, oldest
  // first, at most `limit`; OutOfRange if events after `since` have left it.
  absl::StatusOr<std::vector<std::shared_ptr<const InjectionEvent>>> Query(
      const EventFilter& filter, uint64_t since, size_t limit) const;

  // Registers a subscriber. Its stream starts with `retry:` and a `hello`
  // event carrying the current seq, then (with `since`) every event of the
  // history with a larger seq that passes the filter (a gap first if some have
  // left the history), then live events.
  std::unique_ptr<Subscription> Subscribe(EventFilter filter,
                                          std::optional<uint64_t> since,
                                          absl::Duration heartbeat);

  // A long poll's answer: the first event passing the filter with a seq above
  // `since`; DeadlineExceeded at the deadline; OutOfRange if events after
  // `since` have left the history (one of them may have matched);
  // Unavailable once the hub closes; ResourceExhausted past kMaxWaiters.
  using WaitResult = absl::StatusOr<std::shared_ptr<const InjectionEvent>>;
  static constexpr size_t kMaxWaiters = 10000;

  // Calls `done` exactly once, from any thread (inline if the history already
  // answers), with the WaitResult. The deadline is checked by Tick, so it may
  // be up to one tick late.
  void WaitForEvent(EventFilter filter, uint64_t since, absl::Time deadline,
                    absl::AnyInvocable<void(WaitResult) &&> done);

  // Marks heartbeats due and ends long polls past their deadline; called
  // periodically.
  void Tick();

  // Ends every subscription (their streams finish) and refuses new ones.
  void Close();

  // Forgets the history, then publishes a `reset` event (to every subscriber
  // and long poll, whatever its filter), which starts the new history; seqs
  // go on increasing. Returns the reset event's seq.
  uint64_t Reset();

  size_t subscribers() const;
  size_t waiters() const;  // long polls waiting (WaitForEvent)
  uint64_t last_seq() const;

 private:
  friend class Subscription;
  void Unregister(Subscription* sub);
  // Assigns the seq, stamps the time, builds the frame (`before_fields`
  // after "seq", then the common keys, then `data_fields`) and delivers.
  uint64_t Append(std::shared_ptr<InjectionEvent> event,
                  absl::string_view before_fields,
                  absl::string_view data_fields);

  const Options options_;
  mutable absl::Mutex mu_;
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::shared_ptr<const InjectionEvent>> history_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Subscription*> subscribers_ ABSL_GUARDED_BY(mu_);
  struct Waiter {
    EventFilter filter;
    uint64_t since = 0;
    absl::Time deadline;
    absl::AnyInvocable<void(WaitResult) &&> done;
  };
  std::list<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_INJECTION_INJECTION_EVENTS_H_
