#include "store/injection/injection_registry.h"

#include <csignal>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "common/quote.h"
#include "common/status_http.h"
#include "common/status_macros.h"

namespace kvstore::store {

namespace net = boost::asio;

absl::string_view InjectActionName(InjectAction action) {
  switch (action) {
    case InjectAction::kError:
      return "error";
    case InjectAction::kDelay:
      return "delay";
    case InjectAction::kPause:
      return "pause";
    case InjectAction::kDrop:
      return "drop";
    case InjectAction::kReset:
      return "reset";
    case InjectAction::kTruncate:
      return "truncate";
    case InjectAction::kCrash:
      return "crash";
  }
  return "?";
}

const std::vector<PointInfo>& InjectionRegistry::Catalog() {
  using A = InjectAction;
  static const auto* catalog = new std::vector<PointInfo>{
      {PointId::kRequestParsed,
       "request.parsed",
       "Every data-API request (/v1/...) once its body is parsed, before it "
       "runs. Matches table, row_key (single-row calls), path and tag. "
       "reset runs the request, then cuts its answer halfway and resets the "
       "connection (a write is applied, its answer lost).",
       {A::kError, A::kDelay, A::kPause, A::kDrop, A::kReset, A::kCrash}},
      {PointId::kBeforeCommit,
       "mutation.before_commit",
       "A single-row write (mutateRow, checkAndMutateRow, readModifyWriteRow) "
       "about to be committed: an error here leaves the row untouched.",
       {A::kError, A::kDelay, A::kPause, A::kDrop, A::kCrash}},
      {PointId::kAfterCommit,
       "mutation.after_commit",
       "A single-row write that has been committed (and synced), before the "
       "answer: an error here is 'failed, but applied'.",
       {A::kError, A::kDelay, A::kPause, A::kDrop, A::kCrash}},
      {PointId::kBulkEntry,
       "mutate_rows.entry",
       "Each entry of a mutateRows request before it is committed: an error "
       "becomes that entry's status; the other entries go on.",
       {A::kError, A::kDelay, A::kPause, A::kCrash}},
      {PointId::kReadRowsRow,
       "read_rows.row",
       "A readRows stream once it has sent after_rows rows (default 1): error "
       "ends the stream with that status in-band, truncate cuts the "
       "connection.",
       {A::kError, A::kTruncate, A::kCrash}},
      {PointId::kStorageWrite,
       "storage.write",
       "A write about to be applied to storage (every data and seed write): "
       "error fails it with nothing written, delay stalls the writer like a "
       "slow disk. Matches table and row_key.",
       {A::kError, A::kDelay, A::kCrash}},
      {PointId::kSeedRequest,
       "seed.request",
       "Every seed API request (/get, /set). Matches row_key (the key), path "
       "and tag.",
       {A::kError, A::kDelay, A::kPause, A::kDrop, A::kCrash}},
  };
  return *catalog;
}

std::optional<PointId> InjectionRegistry::Find(absl::string_view name) {
  for (const PointInfo& info : Catalog()) {
    if (info.name == name) return info.id;
  }
  return std::nullopt;
}

// One arming of a point. Guarded by its point's mutex.
struct InjectionRegistry::Arming {
  std::map<std::string, std::string> parameters;
  std::string parameters_json;  // for events
  InjectAction action = InjectAction::kError;
  int http_status = 503;  // `status`: the HTTP status to answer with
  int retry_after_s = -1;
  std::string message;
  int body_code = -1;      // `code`: the Status body's code; -1: from status
  bool text_body = false;  // `body` = text: a text/plain body, no Status

  // The error an error action answers with.
  absl::Status Error() const {
    absl::StatusCode code = body_code > 0
                                ? static_cast<absl::StatusCode>(body_code)
                                : CodeFromHttpStatus(http_status);
    return WithHttpStatus(absl::Status(code, message), http_status);
  }
  absl::Duration delay = absl::Seconds(1);
  absl::Duration timeout = absl::Seconds(60);
  int64_t count = 0;
  int64_t skip = 0;
  double probability = 1.0;
  std::mt19937_64 rng{1};
  std::optional<std::string> table, row_key, path, tag;

  int64_t hits = 0;
  int64_t fires = 0;
  int64_t waiting = 0;
  int64_t messages = 0;
  int64_t latched = 0;  // messages not yet consumed by a pause
  bool disarmed = false;
};

// The registry's thread: runs continuations of parked requests, their timers,
// and the event stream's heartbeat tick.
class InjectionRegistry::Loop {
 public:
  Loop(absl::Duration tick, InjectionEvents* events)
      : tick_(absl::ToChronoNanoseconds(tick)), events_(events) {
    ScheduleTick();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~Loop() { Stop(); }

  // Runs `fn` on the loop's thread; inline once the loop has stopped (so
  // nothing posted is ever left unrun).
  void Post(absl::AnyInvocable<void() &&> fn) {
    {
      absl::MutexLock lock(&mu_);
      if (!stopped_) {
        net::post(ioc_, [fn = std::make_shared<absl::AnyInvocable<void() &&>>(
                             std::move(fn))]() mutable { std::move (*fn)(); });
        return;
      }
    }
    std::move(fn)();
  }

  // Runs `fn` on the loop's thread after `delay` (never, if it stops first).
  void After(absl::Duration delay, absl::AnyInvocable<void() &&> fn) {
    auto timer = std::make_shared<net::steady_timer>(
        ioc_, absl::ToChronoNanoseconds(delay));
    auto shared =
        std::make_shared<absl::AnyInvocable<void() &&>>(std::move(fn));
    timer->async_wait([timer, shared](const boost::system::error_code& ec) {
      if (!ec) std::move (*shared)();
    });
  }

  // Runs what was posted so far, then stops and joins. Idempotent.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
      net::post(ioc_, [this] { ioc_.stop(); });  // after everything posted
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void ScheduleTick() {
    ticker_.expires_after(tick_);
    ticker_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      events_->Tick();
      ScheduleTick();
    });
  }

  const std::chrono::nanoseconds tick_;
  InjectionEvents* const events_;
  net::io_context ioc_{1};
  net::executor_work_guard<net::io_context::executor_type> work_{
      ioc_.get_executor()};
  net::steady_timer ticker_{ioc_};
  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

namespace {

absl::Status BadParameter(absl::string_view key, absl::string_view value,
                          absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(
      "parameter ", Quote(key), " = ", Quote(value), ": expected ", want));
}

template <typename Int>
absl::Status ParseInt(absl::string_view key, absl::string_view value,
                      int64_t min, int64_t max, Int* out) {
  int64_t parsed;
  if (!absl::SimpleAtoi(value, &parsed) || parsed < min || parsed > max) {
    return BadParameter(key, value,
                        absl::StrCat("an integer in [", min, ", ", max, "]"));
  }
  *out = static_cast<Int>(parsed);
  return absl::OkStatus();
}

}  // namespace

InjectionRegistry::InjectionRegistry(const InjectionOptions& options)
    : events_(options.events) {
  for (const PointInfo& info : Catalog()) {
    points_[static_cast<int>(info.id)].info = &info;
  }
  loop_ = std::make_unique<Loop>(options.tick, &events_);
}

std::unique_ptr<InjectionRegistry> InjectionRegistry::Create(
    const InjectionOptions& options) {
  return std::unique_ptr<InjectionRegistry>(new InjectionRegistry(options));
}

InjectionRegistry::~InjectionRegistry() { Shutdown(); }

InjectionRegistry::Point* InjectionRegistry::PointNamed(
    absl::string_view name) {
  std::optional<PointId> id = Find(name);
  return id.has_value() ? &points_[static_cast<int>(*id)] : nullptr;
}

absl::Status InjectionRegistry::SetParameter(const PointInfo& info,
                                             const std::string& key,
                                             const std::string& value,
                                             Arming& arming) {
  absl::Status status;
  if (key == "action") {
    bool found = false;
    std::vector<std::string> names;
    for (InjectAction a : info.actions) {
      names.emplace_back(InjectActionName(a));
      if (InjectActionName(a) == value) {
        arming.action = a;
        found = true;
      }
    }
    if (!found) {
      status = absl::InvalidArgumentError(absl::StrCat(
          "point ", info.name, " does not support action ", Quote(value),
          " (it supports: ", absl::StrJoin(names, ", "), ")"));
    }
  } else if (key == "status") {
    // Errors only: a 1xx/2xx/3xx "error" would pass as success (or be an
    // answer HTTP forbids a body for).
    status = ParseInt(key, value, 400, 599, &arming.http_status);
  } else if (key == "retry_after") {
    status = ParseInt(key, value, 0, 86400, &arming.retry_after_s);
  } else if (key == "message") {
    arming.message = value;
  } else if (key == "code") {
    status = ParseInt(key, value, 1, 16, &arming.body_code);
  } else if (key == "body") {
    if (value != "status" && value != "text") {
      status = absl::InvalidArgumentError(
          absl::StrCat("body must be status or text, not ", Quote(value)));
    }
    arming.text_body = value == "text";
  } else if (key == "delay_ms" || key == "timeout_ms") {
    int64_t ms = 0;
    status = ParseInt(key, value, key == "delay_ms" ? 0 : 1, 3600 * 1000, &ms);
    (key == "delay_ms" ? arming.delay : arming.timeout) =
        absl::Milliseconds(ms);
  } else if (key == "count") {
    status = ParseInt(key, value, 0, INT64_MAX, &arming.count);
  } else if (key == "skip") {
    status = ParseInt(key, value, 0, INT64_MAX, &arming.skip);
  } else if (key == "probability") {
    double p;
    if (!absl::SimpleAtod(value, &p) || !(p > 0.0 && p <= 1.0)) {
      status = BadParameter(key, value, "a number in (0, 1]");
    }
    arming.probability = p;
  } else if (key == "seed") {
    uint64_t seed;
    if (!absl::SimpleAtoi(value, &seed)) {
      status = BadParameter(key, value, "an unsigned integer");
    }
    arming.rng.seed(seed);
  } else if (key == "after_rows") {
    int64_t rows;
    status = info.id == PointId::kReadRowsRow
                 ? ParseInt(key, value, 0, INT64_MAX, &rows)
                 : absl::InvalidArgumentError(
                       "after_rows applies only to read_rows.row");
  } else if (key == "table") {
    arming.table = value;
  } else if (key == "row_key") {
    arming.row_key = value;
  } else if (key == "path") {
    arming.path = value;
  } else if (key == "tag") {
    arming.tag = value;
  } else {
    status = absl::InvalidArgumentError(absl::StrCat(
        "unknown parameter ", Quote(key),
        " (known: action, status, retry_after, message, code, body, "
        "delay_ms, "
        "timeout_ms, count, skip, probability, seed, table, row_key, path, "
        "tag, after_rows)"));
  }
  return status;
}

namespace {

// An arming's parameters as a JSON object of strings, for its events.
std::string ParametersJson(const std::map<std::string, std::string>& parameters,
                           bool one_shot) {
  std::vector<std::string> json;
  for (const auto& [key, value] : parameters) {
    json.push_back(
        absl::StrCat("\"", JsonEscape(key), "\":\"", JsonEscape(value), "\""));
  }
  if (one_shot) json.push_back("\"one_shot\":\"true\"");
  return absl::StrCat("{", absl::StrJoin(json, ","), "}");
}

}  // namespace

absl::Status InjectionRegistry::Arm(
    absl::string_view name, bool one_shot,
    std::map<std::string, std::string> parameters) {
  Point* point = PointNamed(name);
  if (point == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no injection point named ", Quote(name),
                     "; GET /v2/error_injection/points lists them"));
  }
  auto arming = std::make_shared<Arming>();
  if (one_shot) arming->count = 1;
  for (const auto& [key, value] : parameters) {
    KV_RETURN_IF_ERROR(SetParameter(*point->info, key, value, *arming));
  }
  if (arming->message.empty()) {
    arming->message = absl::StrCat("injected error at ", name);
  }
  arming->parameters_json = ParametersJson(parameters, one_shot);
  arming->parameters = std::move(parameters);
  if (one_shot) arming->parameters["one_shot"] = "true";

  std::list<Waiter> parked;
  {
    absl::MutexLock lock(&point->mu);
    if (point->arming != nullptr) point->arming->disarmed = true;
    parked = TakeWaiters(*point, "released");  // parked by the old arming
    point->arming = arming;
    point->armed.store(!shut_down_.load(), std::memory_order_relaxed);
    Publish(*point, *arming, "armed", nullptr);
  }
  Resume(std::move(parked));
  return absl::OkStatus();
}

absl::Status InjectionRegistry::Disarm(absl::string_view name) {
  Point* point = PointNamed(name);
  if (point == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no injection point named ", Quote(name)));
  }
  std::list<Waiter> parked;
  {
    absl::MutexLock lock(&point->mu);
    point->armed.store(false, std::memory_order_relaxed);
    if (point->arming == nullptr || point->arming->disarmed) {
      return absl::OkStatus();
    }
    point->arming->disarmed = true;
    Publish(*point, *point->arming, "disarmed", nullptr);
    parked = TakeWaiters(*point, "released");
  }
  Resume(std::move(parked));
  return absl::OkStatus();
}

void InjectionRegistry::DisarmAll() {
  for (const PointInfo& info : Catalog()) Disarm(info.name).IgnoreError();
}

absl::Status InjectionRegistry::Message(absl::string_view name) {
  Point* point = PointNamed(name);
  if (point == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no injection point named ", Quote(name)));
  }
  std::list<Waiter> released;
  {
    absl::MutexLock lock(&point->mu);
    Arming* arming = point->arming.get();
    if (arming == nullptr || arming->disarmed) return absl::OkStatus();
    ++arming->messages;
    Publish(*point, *arming, "message", nullptr);
    // Delays stay parked; pauses go on.
    for (auto it = point->waiters.begin(); it != point->waiters.end();) {
      if (it->pause) {
        --it->arming->waiting;
        Publish(*point, *it->arming, "released", &it->request);
        released.splice(released.end(), point->waiters, it++);
      } else {
        ++it;
      }
    }
    if (released.empty()) ++arming->latched;
  }
  Resume(std::move(released));
  return absl::OkStatus();
}

absl::StatusOr<PointState> InjectionRegistry::State(absl::string_view name) {
  Point* point = PointNamed(name);
  if (point == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no injection point named ", Quote(name)));
  }
  PointState state;
  absl::MutexLock lock(&point->mu);
  if (point->arming == nullptr) return state;
  const Arming& a = *point->arming;
  state.armed = !a.disarmed;
  state.exhausted = a.count > 0 && a.fires >= a.count;
  state.parameters = a.parameters;
  state.hits = a.hits;
  state.fires = a.fires;
  state.waiting = a.waiting;
  state.messages = a.messages;
  return state;
}

std::vector<std::string> InjectionRegistry::ArmedNames() {
  std::vector<std::string> names;
  for (Point& point : points_) {
    absl::MutexLock lock(&point.mu);
    if (point.arming != nullptr && !point.arming->disarmed) {
      names.emplace_back(point.info->name);
    }
  }
  return names;
}

int64_t InjectionRegistry::IntParameter(PointId id, absl::string_view key,
                                        int64_t fallback) {
  Point& point = points_[static_cast<int>(id)];
  absl::MutexLock lock(&point.mu);
  if (point.arming == nullptr || point.arming->disarmed) return fallback;
  auto it = point.arming->parameters.find(std::string(key));
  int64_t value;
  if (it == point.arming->parameters.end() ||
      !absl::SimpleAtoi(it->second, &value)) {
    return fallback;
  }
  return value;
}

void InjectionRegistry::Publish(const Point& point, const Arming& arming,
                                absl::string_view phase,
                                const RequestInfo* request) {
  std::string fields =
      absl::StrCat(",\"type\":\"", InjectActionName(arming.action),
                   "\",\"shard\":0,\"hits\":", arming.hits,
                   ",\"fires\":", arming.fires, ",\"waiting\":", arming.waiting,
                   ",\"parameters\":", arming.parameters_json);
  if (request != nullptr) {
    absl::StrAppend(&fields, ",\"request\":{\"method\":\"",
                    JsonEscape(request->method), "\",\"path\":\"",
                    JsonEscape(request->path), "\",\"table\":\"",
                    JsonEscape(request->table), "\",\"row_key\":\"",
                    JsonEscape(request->row_key), "\",\"tag\":\"",
                    JsonEscape(request->tag), "\"}");
  }
  events_.Publish(point.info->name, phase, fields);
}

std::shared_ptr<InjectionRegistry::Arming> InjectionRegistry::Decide(
    Point& point, const RequestInfo& request) {
  std::shared_ptr<Arming> arming = point.arming;
  if (arming == nullptr || arming->disarmed || shut_down_.load()) {
    return nullptr;
  }
  if ((arming->table && *arming->table != request.table) ||
      (arming->row_key && *arming->row_key != request.row_key) ||
      (arming->path && *arming->path != request.path) ||
      (arming->tag && *arming->tag != request.tag)) {
    return nullptr;
  }
  ++arming->hits;
  Publish(point, *arming, "hit", &request);
  if (arming->hits <= arming->skip) return nullptr;
  if (arming->count > 0 && arming->fires >= arming->count) return nullptr;
  if (arming->probability < 1.0 &&
      std::uniform_real_distribution<double>(0.0, 1.0)(arming->rng) >=
          arming->probability) {
    return nullptr;
  }
  ++arming->fires;
  Publish(point, *arming, "fired", &request);
  if (arming->action == InjectAction::kCrash) {
    std::raise(SIGKILL);  // like kill -9: nothing is flushed or closed
  }
  return arming;
}

Verdict InjectionRegistry::VerdictOf(const Arming& arming) {
  Verdict v;
  switch (arming.action) {
    case InjectAction::kError:
      v.kind = Verdict::kError;
      v.error = arming.Error();
      v.retry_after_s = arming.retry_after_s;
      v.text_body = arming.text_body;
      break;
    case InjectAction::kDrop:
      v.kind = Verdict::kDrop;
      break;
    case InjectAction::kReset:
      v.kind = Verdict::kReset;
      break;
    case InjectAction::kTruncate:
      v.kind = Verdict::kTruncate;
      break;
    default:
      break;
  }
  return v;
}

void InjectionRegistry::Check(PointId id, const RequestInfo& request,
                              Continue next) {
  Point& point = points_[static_cast<int>(id)];
  Verdict verdict;
  {
    absl::MutexLock lock(&point.mu);
    std::shared_ptr<Arming> arming = Decide(point, request);
    if (arming != nullptr) {
      const InjectAction action = arming->action;
      if (action == InjectAction::kPause && arming->latched > 0) {
        --arming->latched;
        Publish(point, *arming, "released", &request);
      } else if ((action == InjectAction::kPause ||
                  action == InjectAction::kDelay) &&
                 !shut_down_.load()) {  // after Shutdown(): go on at once
        const bool pause = action == InjectAction::kPause;
        const uint64_t waiter = next_waiter_.fetch_add(1);
        ++arming->waiting;
        point.waiters.push_back(
            Waiter{waiter, pause, std::move(next), request, arming});
        if (pause) Publish(point, *arming, "paused", &request);
        loop_->After(pause ? arming->timeout : arming->delay,
                     [this, &point, waiter, pause] {
                       Release(point, waiter, pause ? "timeout" : "");
                     });
        return;
      } else if (action != InjectAction::kPause &&
                 action != InjectAction::kDelay) {
        verdict = VerdictOf(*arming);
      }
    }
  }
  std::move(next)(std::move(verdict));
}

Verdict InjectionRegistry::CheckNow(PointId id, const RequestInfo& request) {
  Point& point = points_[static_cast<int>(id)];
  absl::Duration delay;
  Verdict verdict;
  {
    absl::MutexLock lock(&point.mu);
    std::shared_ptr<Arming> arming = Decide(point, request);
    if (arming == nullptr) return verdict;
    if (arming->action == InjectAction::kDelay) {
      delay = arming->delay;
    } else {
      verdict = VerdictOf(*arming);
    }
  }
  absl::SleepFor(delay);
  return verdict;
}

void InjectionRegistry::Release(Point& point, uint64_t waiter_id,
                                absl::string_view phase) {
  Continue next;
  {
    absl::MutexLock lock(&point.mu);
    auto it = point.waiters.begin();
    while (it != point.waiters.end() && it->id != waiter_id) ++it;
    if (it == point.waiters.end()) return;  // already released
    next = std::move(it->next);
    --it->arming->waiting;
    if (!phase.empty()) Publish(point, *it->arming, phase, &it->request);
    point.waiters.erase(it);
  }
  loop_->Post(
      [next = std::move(next)]() mutable { std::move(next)(Verdict{}); });
}

std::list<InjectionRegistry::Waiter> InjectionRegistry::TakeWaiters(
    Point& point, absl::string_view phase) {
  std::list<Waiter> taken;
  taken.swap(point.waiters);
  for (const Waiter& w : taken) {
    --w.arming->waiting;
    if (w.pause) Publish(point, *w.arming, phase, &w.request);
  }
  return taken;
}

void InjectionRegistry::Resume(std::list<Waiter> waiters) {
  for (Waiter& w : waiters) {
    loop_->Post(
        [next = std::move(w.next)]() mutable { std::move(next)(Verdict{}); });
  }
}

void InjectionRegistry::Shutdown() {
  if (shut_down_.exchange(true)) return;
  for (Point& point : points_) {
    std::list<Waiter> parked;
    {
      absl::MutexLock lock(&point.mu);
      point.armed.store(false, std::memory_order_relaxed);
      parked = TakeWaiters(point, "released");
    }
    Resume(std::move(parked));
  }
  events_.Close();
  loop_->Stop();
}

}  // namespace kvstore::store
