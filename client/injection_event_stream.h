// kvstore::InjectionEventStream: a live subscription to a kvstore_server's
// error-injection events (GET /v2/error_injection/events, Server-Sent Events),
// so a test waits for "the request is parked" or "the point fired" instead of
// sleeping or parsing logs.
//
//   auto events = kvstore::InjectionEventStream::Connect({"127.0.0.1:4000"});
//   injection->Arm("request.parsed", {{"action", "pause"}});
//   std::thread call([&] { client->MutateRow(...); });
//   auto parked = (*events)->WaitFor("request.parsed", "paused",
//   absl::Seconds(5)); injection->Message("request.parsed");  // release it
//
// Connect() returns once the server has registered the subscription (its
// `hello` arrived), so nothing that happens afterwards can be missed. Every
// event is kept: WaitFor consumes only the first unconsumed event it matches
// and leaves the others for later waits. A background thread reads the
// stream; if the connection breaks (or the server reports that this reader
// fell behind) it reconnects with Last-Event-ID and the server replays what
// was missed from its history (duplicates are dropped by seq); what has left
// the history is reported by gaps().
//
// Thread-safe. The destructor stops the reader (within one heartbeat).
#ifndef KVSTORE_CLIENT_INJECTION_EVENT_STREAM_H_
#define KVSTORE_CLIENT_INJECTION_EVENT_STREAM_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/injection_client.h"  // InjectionEventRecord
#include "client/transport.h"

namespace kvstore {

struct InjectionEventStreamOptions {
  std::string endpoint;  // "ip:port" of a kvstore_server
  // Only these points' events (server-side filter); empty: all.
  std::vector<std::string> injections;
  // Replay every event of the server's history after this seq first (0: the
  // whole history); unset: only what happens after Connect().
  std::optional<uint64_t> since;
  // Also the request journal's entries (?journal=1): events whose phase is
  // "request" and whose `route` names the request's route (WaitForRequests).
  bool journal = false;
  // Asked of the server; also how soon the destructor's reader notices.
  absl::Duration heartbeat = absl::Milliseconds(200);
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration reconnect_delay = absl::Milliseconds(100);
  // A subscription is renewed (reconnecting with Last-Event-ID, nothing lost)
  // after this long. Also bounds how long the destructor may wait for a
  // server that stopped sending.
  absl::Duration renew_after = absl::Seconds(5);
};

// One event: the SSE event name (phase), id (seq) and its JSON data.

class InjectionEventStream {
 public:
  // Subscribes and waits for the server's hello. Errors: InvalidArgument for a
  // bad endpoint, the store's error (e.g. NOT_FOUND when injection is off),
  // DeadlineExceeded / Unavailable if it cannot subscribe in time.
  static absl::StatusOr<std::unique_ptr<InjectionEventStream>> Connect(
      const InjectionEventStreamOptions& options);
  ~InjectionEventStream();

  InjectionEventStream(const InjectionEventStream&) = delete;
  InjectionEventStream& operator=(const InjectionEventStream&) = delete;

  // The first unconsumed event of `injection` with `phase` (any phase if
  // empty), consumed. DeadlineExceeded if none arrives within `timeout`.
  absl::StatusOr<InjectionEventRecord> WaitFor(absl::string_view injection,
                                               absl::string_view phase,
                                               absl::Duration timeout);
  // Waits until `count` unconsumed matching events are there; consumes and
  // returns them.
  absl::StatusOr<std::vector<InjectionEventRecord>> WaitForCount(
      absl::string_view injection, absl::string_view phase, int count,
      absl::Duration timeout);
  // Waits until `count` unconsumed journal entries of `route` (":mutateRow",
  // "/get", ...) with a seq above `since` are there; consumes and returns
  // them, parsed. Needs options.journal.
  absl::StatusOr<std::vector<JournalRecord>> WaitForRequests(
      absl::string_view route, uint64_t since, int count,
      absl::Duration timeout);
  // How many events of `injection` with `phase` have arrived (consumed or
  // not).
  int Count(absl::string_view injection, absl::string_view phase);
  // Every event received so far, in seq order.
  std::vector<InjectionEventRecord> Events();
  // How often the stream reconnected.
  int reconnects();
  // Gap events seen: a live gap is replayed from the server's history; one
  // that a replay reports means those events are gone.
  int gaps();

 private:
  // The first subscription has answered: a hello, or a failure.
  bool Settled() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return subscribed_ || !failure_.ok();
  }
  class Sink;
  // Waits until `count` unconsumed events pass `matches`, consumes and
  // returns them; `what` names them in the timeout's message.
  absl::StatusOr<std::vector<InjectionEventRecord>> WaitForMatching(
      const std::function<bool(const InjectionEventRecord&)>& matches,
      int count, absl::Duration timeout, absl::string_view what);
  explicit InjectionEventStream(const InjectionEventStreamOptions& options,
                                std::unique_ptr<Transport> transport);
  void Run();
  // Called by the sink for each complete SSE event.
  void OnEvent(absl::string_view name, absl::string_view id,
               absl::string_view data) ABSL_LOCKS_EXCLUDED(mu_);

  const InjectionEventStreamOptions options_;
  const std::unique_ptr<Transport> transport_;
  std::thread reader_;

  absl::Mutex mu_;
  std::vector<InjectionEventRecord> events_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> consumed_ ABSL_GUARDED_BY(mu_);
  // Every event before this index is consumed: waits scan from here, so a
  // long-lived stream's waits do not slow down as its history grows.
  size_t scan_from_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;     // highest seq seen
  bool subscribed_ ABSL_GUARDED_BY(mu_) = false;   // a hello arrived
  bool resubscribe_ ABSL_GUARDED_BY(mu_) = false;  // a gap: replay
  absl::Status failure_ ABSL_GUARDED_BY(mu_);  // why the first subscribe failed
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> stopping_now_{false};  // stopping_, read without mu_
  int reconnects_ ABSL_GUARDED_BY(mu_) = 0;
  int gaps_ ABSL_GUARDED_BY(mu_) = 0;
  int events_this_subscription_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kvstore

#endif  // KVSTORE_CLIENT_INJECTION_EVENT_STREAM_H_
