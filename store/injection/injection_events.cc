#include "store/injection/injection_events.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace kvstore::store {
namespace {

// Tells EventSource clients how long to wait before reconnecting.
constexpr absl::string_view kRetryField = "retry: 1000\n";

std::string GapFrame(uint64_t from, uint64_t to) {
  return absl::StrCat("event: gap\ndata: {\"lost_from\":", from,
                      ",\"lost_to\":", to, "}\n\n");
}

}  // namespace

std::string JsonQuote(absl::string_view bytes) {
  return absl::StrCat("\"", JsonEscape(bytes), "\"");
}

std::string JsonEscape(absl::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + 2);
  for (unsigned char c : bytes) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x80) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

bool EventFilter::Passes(const InjectionEvent& event) const {
  if (event.phase == kResetPhase) return true;  // everyone must hear of it
  if (!tag.empty() && event.tag != tag) return false;
  if (!table.empty() && event.table != table) return false;
  if (event.phase == kRequestPhase) {
    return journal && (route.empty() || event.route == route);
  }
  return !journal_only &&
         (injections.empty() || injections.contains(event.injection)) &&
         (phases.empty() || phases.contains(event.phase));
}

Subscription::Subscription(InjectionEvents* hub, EventFilter filter,
                           size_t capacity, absl::Duration heartbeat)
    : hub_(hub),
      filter_(std::move(filter)),
      capacity_(capacity),
      heartbeat_(heartbeat),
      last_sent_(absl::Now()) {}

Subscription::~Subscription() { hub_->Unregister(this); }

void Subscription::NotifyWhenReady(absl::AnyInvocable<void() &&> ready) {
  {
    absl::MutexLock lock(&mu_);
    bool has_data = !queue_.empty() || !text_.empty() || lost_from_ != 0 ||
                    closed_ || heartbeat_due_;
    if (!has_data) {
      ready_ = std::move(ready);
      return;
    }
  }
  std::move(ready)();
}

std::optional<std::string> Subscription::Take() {
  absl::MutexLock lock(&mu_);
  std::string out = std::move(text_);
  text_.clear();
  // Queued events precede the lost ones (nothing is queued while events are
  // being lost), so the gap comes last: the stream stays in seq order.
  for (const auto& event : queue_) out += event->frame;
  queue_.clear();
  if (lost_from_ != 0) {
    out += GapFrame(lost_from_, lost_to_);
    lost_from_ = lost_to_ = 0;
  }
  if (out.empty() && heartbeat_due_) out = ": heartbeat\n\n";
  heartbeat_due_ = false;
  if (out.empty() && closed_) return std::nullopt;
  last_sent_ = absl::Now();
  return out;
}

void Subscription::Push(const std::shared_ptr<const InjectionEvent>& event) {
  if (!filter_.Passes(*event)) return;
  absl::AnyInvocable<void() &&> ready;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    if (queue_.size() >= capacity_) {
      if (lost_from_ == 0) lost_from_ = event->seq;
      lost_to_ = event->seq;
    } else {
      queue_.push_back(event);
    }
    ready = std::move(ready_);
    ready_ = nullptr;
  }
  if (ready) std::move(ready)();
}

void Subscription::PushText(std::string text) {
  absl::MutexLock lock(&mu_);
  text_ += text;
}

void Subscription::Close() {
  absl::AnyInvocable<void() &&> ready;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    ready = std::move(ready_);
    ready_ = nullptr;
  }
  if (ready) std::move(ready)();
}

void Subscription::Tick(absl::Time now) {
  absl::AnyInvocable<void() &&> ready;
  {
    absl::MutexLock lock(&mu_);
    if (now - last_sent_ < heartbeat_ || !ready_) return;
    heartbeat_due_ = true;
    ready = std::move(ready_);
    ready_ = nullptr;
  }
  std::move(ready)();
}

InjectionEvents::~InjectionEvents() { Close(); }

uint64_t InjectionEvents::Publish(absl::string_view injection,
                                  absl::string_view phase,
                                  absl::string_view data_fields,
                                  absl::string_view tag,
                                  absl::string_view table) {
  auto event = std::make_shared<InjectionEvent>();
  event->injection = std::string(injection);
  event->phase = std::string(phase);
  event->tag = std::string(tag);
  event->table = std::string(table);
  return Append(std::move(event),
                absl::StrCat(",\"injection\":", JsonQuote(injection)),
                data_fields);
}

uint64_t InjectionEvents::PublishEntry(absl::string_view tag,
                                       absl::string_view route,
                                       absl::string_view table,
                                       absl::string_view data_fields) {
  auto event = std::make_shared<InjectionEvent>();
  event->phase = std::string(kRequestPhase);
  event->tag = std::string(tag);
  event->table = std::string(table);
  event->route = std::string(route);
  return Append(std::move(event), "", data_fields);
}

absl::StatusOr<std::vector<std::shared_ptr<const InjectionEvent>>>
InjectionEvents::Query(const EventFilter& filter, uint64_t since,
                       size_t limit) const {
  absl::MutexLock lock(&mu_);
  const uint64_t oldest = history_.empty() ? seq_ + 1 : history_.front()->seq;
  if (since + 1 < oldest) {
    return absl::OutOfRangeError(absl::StrCat(
        "entries ", since + 1, "..", oldest - 1,
        " have left the history; query again with since=", oldest - 1,
        " or later"));
  }
  std::vector<std::shared_ptr<const InjectionEvent>> out;
  for (const auto& event : history_) {
    if (out.size() >= limit) break;
    if (event->seq <= since || !filter.Passes(*event)) continue;
    if (filter.journal_only && event->phase != kRequestPhase) continue;
    out.push_back(event);
  }
  return out;
}

uint64_t InjectionEvents::Append(std::shared_ptr<InjectionEvent> event,
                                 absl::string_view before_fields,
                                 absl::string_view data_fields) {
  const absl::Time now = absl::Now();
  const std::string ts =
      absl::FormatTime("%Y-%m-%d%ET%H:%M:%E6SZ", now, absl::UTCTimeZone());
  absl::MutexLock lock(&mu_);
  event->seq = ++seq_;
  event->frame = absl::StrCat("id: ", event->seq, "\nevent: ", event->phase,
                              "\ndata: {\"seq\":", event->seq, before_fields,
                              ",\"phase\":\"", event->phase, "\",\"ts\":\"", ts,
                              "\",\"ts_us\":", absl::ToUnixMicros(now),
                              data_fields, "}\n\n");
  std::shared_ptr<const InjectionEvent> shared = std::move(event);
  history_.push_back(shared);
  if (history_.size() > options_.history) history_.pop_front();
  for (Subscription* sub : subscribers_) sub->Push(shared);
  if (!waiters_.empty()) {
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (shared->seq <= it->since || !it->filter.Passes(*shared)) {
        ++it;
        continue;
      }
      // The long poll answers on the I/O thread it came from; no lock of
      // ours is taken there.
      std::move(it->done)(shared);
      it = waiters_.erase(it);
    }
  }
  return shared->seq;
}

void InjectionEvents::WaitForEvent(
    EventFilter filter, uint64_t since, absl::Time deadline,
    absl::AnyInvocable<void(WaitResult) &&> done) {
  absl::MutexLock lock(&mu_);
  if (closed_) {
    return std::move(done)(absl::UnavailableError("the store is stopping"));
  }
  if (since < seq_) {
    uint64_t oldest = history_.empty() ? seq_ + 1 : history_.front()->seq;
    if (since + 1 < oldest) {
      return std::move(done)(absl::OutOfRangeError(absl::StrCat(
          "events ", since + 1, "..", oldest - 1,
          " have left the history (one may have matched); wait again with "
          "since=",
          oldest - 1, " or later")));
    }
    for (const auto& event : history_) {
      if (event->seq > since && filter.Passes(*event)) {
        return std::move(done)(event);
      }
    }
  }
  if (waiters_.size() >= kMaxWaiters) {
    return std::move(done)(absl::ResourceExhaustedError(
        absl::StrCat("too many waiting requests (", kMaxWaiters, ")")));
  }
  waiters_.push_back(
      Waiter{std::move(filter), since, deadline, std::move(done)});
}

std::unique_ptr<Subscription> InjectionEvents::Subscribe(
    EventFilter filter, std::optional<uint64_t> since,
    absl::Duration heartbeat) {
  std::unique_ptr<Subscription> sub(new Subscription(
      this, std::move(filter), options_.subscriber_queue, heartbeat));
  absl::MutexLock lock(&mu_);
  std::string text = absl::StrCat(
      kRetryField, "event: hello\ndata: {\"current_seq\":", seq_,
      ",\"history_from\":", history_.empty() ? seq_ + 1 : history_.front()->seq,
      "}\n\n");
  if (since.has_value() && *since < seq_) {
    uint64_t oldest = history_.empty() ? seq_ + 1 : history_.front()->seq;
    if (*since + 1 < oldest) text += GapFrame(*since + 1, oldest - 1);
    for (const auto& event : history_) {
      if (event->seq > *since && sub->filter_.Passes(*event)) {
        text += event->frame;
      }
    }
  }
  sub->PushText(std::move(text));
  if (closed_) {
    sub->Close();
  } else {
    subscribers_.insert(sub.get());
  }
  return sub;
}

void InjectionEvents::Tick() {
  absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  for (Subscription* sub : subscribers_) sub->Tick(now);
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (it->deadline > now) {
      ++it;
      continue;
    }
    std::move(it->done)(
        absl::DeadlineExceededError("no matching event before the timeout"));
    it = waiters_.erase(it);
  }
}

void InjectionEvents::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  for (Subscription* sub : subscribers_) sub->Close();
  for (Waiter& waiter : waiters_) {
    std::move(waiter.done)(absl::UnavailableError("the store is stopping"));
  }
  waiters_.clear();
}

size_t InjectionEvents::subscribers() const {
  absl::MutexLock lock(&mu_);
  return subscribers_.size();
}

uint64_t InjectionEvents::Reset() {
  {
    absl::MutexLock lock(&mu_);
    history_.clear();
  }
  return Publish("", kResetPhase, "");
}

size_t InjectionEvents::waiters() const {
  absl::MutexLock lock(&mu_);
  return waiters_.size();
}

uint64_t InjectionEvents::last_seq() const {
  absl::MutexLock lock(&mu_);
  return seq_;
}

void InjectionEvents::Unregister(Subscription* sub) {
  absl::MutexLock lock(&mu_);
  subscribers_.erase(sub);
}

}  // namespace kvstore::store
