#include "client/injection_event_stream.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "client/http_transport.h"
#include "client/injection_client.h"
#include "client/sse_parser.h"
#include "common/status_http.h"

namespace kvstore {
// Splits the SSE body into events and hands each to the stream. Stops the
// exchange once the stream is stopping, or to replay after a gap.
class InjectionEventStream::Sink final : public ResponseSink {
 public:
  explicit Sink(InjectionEventStream* stream) : stream_(stream) {}

  void OnHead(const ResponseHead& head) override {
    http_status_ = head.http_status;
  }

  absl::Status OnBody(absl::string_view bytes) override {
    if (http_status_ != 200) {
      error_body_.append(bytes.data(), bytes.size());
      return absl::OkStatus();
    }
    parser_.Feed(bytes, [this](absl::string_view name, absl::string_view id,
                               absl::string_view data) {
      if (name == "gap") saw_gap_ = true;
      stream_->OnEvent(name, id, data);
    });
    if (stream_->stopping_now_.load()) return absl::CancelledError("stopping");
    if (!saw_gap_) return absl::OkStatus();
    saw_gap_ = false;
    absl::MutexLock lock(&stream_->mu_);
    if (stream_->resubscribe_) {
      stream_->resubscribe_ = false;
      return absl::AbortedError("events were lost: replaying");
    }
    return absl::OkStatus();
  }

  int http_status() const { return http_status_; }
  const std::string& error_body() const { return error_body_; }

 private:
  InjectionEventStream* const stream_;
  int http_status_ = 0;
  bool saw_gap_ = false;
  internal::SseParser parser_;
  std::string error_body_;
};

InjectionEventStream::InjectionEventStream(
    const InjectionEventStreamOptions& options,
    std::unique_ptr<Transport> transport)
    : options_(options), transport_(std::move(transport)) {}

absl::StatusOr<std::unique_ptr<InjectionEventStream>>
InjectionEventStream::Connect(const InjectionEventStreamOptions& options) {
  HttpTransportOptions transport_options;
  absl::Status parsed = ParseEndpoint(options.endpoint, &transport_options.host,
                                      &transport_options.port);
  if (!parsed.ok()) return parsed;
  transport_options.pool_size = 1;
  transport_options.connect_timeout = options.connect_timeout;
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      NewHttpTransport(transport_options);
  if (!transport.ok()) return transport.status();
  std::unique_ptr<InjectionEventStream> stream(
      new InjectionEventStream(options, std::move(*transport)));
  stream->reader_ = std::thread([s = stream.get()] { s->Run(); });
  absl::MutexLock lock(&stream->mu_);
  if (!stream->mu_.AwaitWithTimeout(
          absl::Condition(stream.get(), &InjectionEventStream::Settled),
          options.connect_timeout)) {
    return absl::DeadlineExceededError(absl::StrCat(
        "no hello from ", options.endpoint, "'s event stream within ",
        absl::FormatDuration(options.connect_timeout)));
  }
  if (!stream->subscribed_) return stream->failure_;  // (destructor joins)
  return stream;
}

InjectionEventStream::~InjectionEventStream() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    stopping_now_.store(true);
  }
  if (reader_.joinable()) reader_.join();
}

void InjectionEventStream::Run() {
  for (bool first = true;; first = false) {
    HttpRequestSpec spec;
    spec.method = "GET";
    spec.accept = "text/event-stream";
    spec.target = absl::StrCat("/v2/error_injection/events?heartbeat_ms=",
                               absl::ToInt64Milliseconds(options_.heartbeat));
    if (!options_.injections.empty()) {
      absl::StrAppend(&spec.target,
                      "&injection=", absl::StrJoin(options_.injections, ","));
    }
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      if (!first) {
        ++reconnects_;
        spec.headers.emplace_back("Last-Event-ID", absl::StrCat(last_seq_));
      } else if (options_.since.has_value()) {
        absl::StrAppend(&spec.target, "&since=", *options_.since);
      }
    }
    if (options_.journal) absl::StrAppend(&spec.target, "&journal=1");
    Sink sink(this);
    absl::Status exchanged =
        transport_->Exchange(spec, absl::Now() + options_.renew_after, sink);
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    if (!subscribed_) {  // the first subscription failed: report, give up
      if (sink.http_status() != 0 && sink.http_status() != 200) {
        failure_ = absl::Status(
            CodeFromHttpStatus(sink.http_status()),
            absl::StrCat("subscribing to events: HTTP ", sink.http_status(),
                         ": ", sink.error_body()));
      } else {
        failure_ = exchanged.ok()
                       ? absl::UnavailableError("event stream ended at once")
                       : exchanged;
      }
      return;
    }
    // A replay (after a gap) or a renewal reconnects at once.
    if (exchanged.code() != absl::StatusCode::kAborted &&
        exchanged.code() != absl::StatusCode::kDeadlineExceeded) {
      mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                           options_.reconnect_delay);
      if (stopping_) return;
    }
  }
}

void InjectionEventStream::OnEvent(absl::string_view name, absl::string_view id,
                                   absl::string_view data) {
  const absl::Time received = absl::Now();
  absl::MutexLock lock(&mu_);
  // After a live gap, what follows is dropped: the replay resends it in order.
  if (resubscribe_) return;
  if (name == "hello") {  // each subscription starts with one
    const uint64_t current = internal::SseNumberField(data, "current_seq");
    if (!subscribed_ && !options_.since.has_value()) {
      last_seq_ = current;  // only what happens from now on
    } else if (current < last_seq_) {
      last_seq_ = current;  // a restarted server: its seqs start again
    }
    subscribed_ = true;
    events_this_subscription_ = 0;
    return;
  }
  if (name == "gap") {
    ++gaps_;
    const uint64_t lost_to = internal::SseNumberField(data, "lost_to");
    if (events_this_subscription_ == 0) {
      // A replay's gap: those events left the server's history; gone.
      last_seq_ = std::max(last_seq_, lost_to);
    } else {
      // This subscriber fell behind and the server dropped events: reconnect
      // and have them replayed from the history.
      resubscribe_ = true;
    }
    return;
  }
  ++events_this_subscription_;
  uint64_t seq = 0;
  if (!absl::SimpleAtoi(id, &seq) || seq <= last_seq_) return;  // seen
  last_seq_ = seq;
  InjectionEventRecord record;
  record.seq = seq;
  record.phase = std::string(name);
  record.data = std::string(data);
  record.received = received;
  record.injection = internal::SseStringField(data, "injection");
  record.type = internal::SseStringField(data, "type");
  if (record.phase == "request") {
    record.route = internal::SseStringField(data, "route");
  }
  events_.push_back(std::move(record));
  consumed_.push_back(false);
}

absl::StatusOr<InjectionEventRecord> InjectionEventStream::WaitFor(
    absl::string_view injection, absl::string_view phase,
    absl::Duration timeout) {
  absl::StatusOr<std::vector<InjectionEventRecord>> one =
      WaitForCount(injection, phase, 1, timeout);
  if (!one.ok()) return one.status();
  return std::move(one->front());
}

absl::StatusOr<std::vector<InjectionEventRecord>>
InjectionEventStream::WaitForCount(absl::string_view injection,
                                   absl::string_view phase, int count,
                                   absl::Duration timeout) {
  return WaitForMatching(
      [&](const InjectionEventRecord& e) {
        return e.injection == injection && (phase.empty() || e.phase == phase);
      },
      count, timeout, absl::StrCat("'", phase, "' event(s) of ", injection));
}

absl::StatusOr<std::vector<JournalRecord>>
InjectionEventStream::WaitForRequests(absl::string_view route, uint64_t since,
                                      int count, absl::Duration timeout) {
  absl::StatusOr<std::vector<InjectionEventRecord>> entries = WaitForMatching(
      [&](const InjectionEventRecord& e) {
        return e.phase == "request" && e.route == route && e.seq > since;
      },
      count, timeout, absl::StrCat("journal entries of ", route));
  if (!entries.ok()) return entries.status();
  std::vector<JournalRecord> out;
  for (const InjectionEventRecord& e : *entries) {
    absl::StatusOr<JournalRecord> record = ParseJournalRecord(e.data);
    if (!record.ok()) return record.status();
    out.push_back(*std::move(record));
  }
  return out;
}

absl::StatusOr<std::vector<InjectionEventRecord>>
InjectionEventStream::WaitForMatching(
    const std::function<bool(const InjectionEventRecord&)>& matches, int count,
    absl::Duration timeout, absl::string_view what) {
  // Unconsumed matches, counting no further than `limit`. (Evaluated by
  // whichever thread releases mu_ while a wait is on: kept cheap.)
  auto unconsumed = [&](int limit) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int n = 0;
    for (size_t i = scan_from_; i < events_.size() && n < limit; ++i) {
      if (!consumed_[i] && matches(events_[i])) ++n;
    }
    return n;
  };
  auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return unconsumed(count) >= count;
  };
  absl::MutexLock lock(&mu_);
  if (!mu_.AwaitWithTimeout(absl::Condition(&enough), timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("waited ", absl::FormatDuration(timeout), " for ", count,
                     " ", what, "; got ", unconsumed(count)));
  }
  std::vector<InjectionEventRecord> out;
  for (size_t i = scan_from_;
       i < events_.size() && static_cast<int>(out.size()) < count; ++i) {
    if (!consumed_[i] && matches(events_[i])) {
      consumed_[i] = true;
      out.push_back(events_[i]);
    }
  }
  while (scan_from_ < events_.size() && consumed_[scan_from_]) ++scan_from_;
  return out;
}

int InjectionEventStream::Count(absl::string_view injection,
                                absl::string_view phase) {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const InjectionEventRecord& e : events_) {
    if (e.injection == injection && (phase.empty() || e.phase == phase)) ++n;
  }
  return n;
}

std::vector<InjectionEventRecord> InjectionEventStream::Events() {
  absl::MutexLock lock(&mu_);
  return events_;
}

int InjectionEventStream::gaps() {
  absl::MutexLock lock(&mu_);
  return gaps_;
}

int InjectionEventStream::reconnects() {
  absl::MutexLock lock(&mu_);
  return reconnects_;
}

}  // namespace kvstore
