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
#include "store/injection/arming.h"

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
    case InjectAction::kOff:
      return "off";
    case InjectAction::kSlow:
      return "slow";
    case InjectAction::kStall:
      return "stall";
    case InjectAction::kCorruptChunk:
      return "corrupt_chunk";
    case InjectAction::kDelayHeaders:
      return "delay_headers";
    case InjectAction::kPowerCut:
      return "power_cut";
    case InjectAction::kIoError:
      return "io_error";
    case InjectAction::kDiskFull:
      return "disk_full";
  }
  return "?";
}

const std::vector<PointInfo>& InjectionRegistry::Catalog() {
  using A = InjectAction;
  static const auto* catalog = new std::vector<PointInfo>{
      {PointId::kRequestParsed,
       "request.parsed",
       "Every data-API request (/v1/...) once its body is parsed, before it "
       "runs. Matches table, row_key (single-row calls), path and tag. The "
       "transport faults run the request, then send its answer wrong: reset "
       "sends after_bytes (default: half) and resets the connection (a write "
       "is applied, its answer lost), slow sends it at bytes_per_s, stall "
       "sends after_bytes and then nothing until timeout_ms, corrupt_chunk "
       "sends the head, half the first chunk and a malformed chunk header, "
       "delay_headers sends "
       "nothing for delay_ms.",
       {A::kError, A::kDelay, A::kPause, A::kDrop, A::kReset, A::kSlow,
        A::kStall, A::kCorruptChunk, A::kDelayHeaders, A::kCrash, A::kPowerCut,
        A::kOff}},
      {PointId::kBeforeCommit,
       "mutation.before_commit",
       "A single-row write (mutateRow, checkAndMutateRow, readModifyWriteRow) "
       "about to be committed: an error here leaves the row untouched.",
       {A::kError, A::kDelay, A::kPause, A::kDrop, A::kCrash, A::kPowerCut,
        A::kOff}},
      {PointId::kAfterCommit,
       "mutation.after_commit",
       "A single-row write that has been committed (and synced), before the "
       "answer: an error here is 'failed, but applied'.",
       {A::kError, A::kDelay, A::kPause, A::kDrop, A::kCrash, A::kPowerCut,
        A::kOff}},
      {PointId::kBulkEntry,
       "mutate_rows.entry",
       "Each entry of a mutateRows request before it is committed: an error "
       "becomes that entry's status; the other entries go on.",
       {A::kError, A::kDelay, A::kPause, A::kCrash, A::kPowerCut, A::kOff}},
      {PointId::kReadRowsRow,
       "read_rows.row",
       "A readRows stream once it has sent after_rows rows (default 1): error "
       "ends the stream with that status in-band, truncate cuts the "
       "connection.",
       {A::kError, A::kTruncate, A::kCrash, A::kPowerCut, A::kOff}},
      {PointId::kStorageWrite,
       "storage.write",
       "A write about to be applied to storage (every data and seed write): "
       "error fails it with nothing written, delay stalls the writer like a "
       "slow disk, io_error and disk_full make the write-ahead log's next "
       "sync fail as the disk would (EIO, ENOSPC; with --fsync=always this "
       "write's own sync), power_cut loses what "
       "was not synced and kills the store. Matches table and row_key.",
       {A::kError, A::kDelay, A::kIoError, A::kDiskFull, A::kCrash,
        A::kPowerCut, A::kOff}},
      {PointId::kSeedRequest,
       "seed.request",
       "Every seed API request (/get, /set). Matches row_key (the key), path "
       "and tag. The transport faults act as at request.parsed.",
       {A::kError, A::kDelay, A::kPause, A::kDrop, A::kReset, A::kSlow,
        A::kStall, A::kCorruptChunk, A::kDelayHeaders, A::kCrash, A::kPowerCut,
        A::kOff}},
      {PointId::kStorageSync,
       "storage.sync",
       "Each sync (fsync) of a database file: the write-ahead log, SST "
       "files, the manifest. io_error and disk_full "
       "fail the sync as the disk would (EIO, ENOSPC), delay makes it slow, "
       "power_cut loses what was not synced and kills the store. Matches "
       "path (the file's).",
       {A::kIoError, A::kDiskFull, A::kDelay, A::kCrash, A::kPowerCut,
        A::kOff}},
  };
  return *catalog;
}

std::optional<PointId> InjectionRegistry::Find(absl::string_view name) {
  for (const PointInfo& info : Catalog()) {
    if (info.name == name) return info.id;
  }
  return std::nullopt;
}

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

InjectionRegistry::InjectionRegistry(const InjectionOptions& options)
    : power_cut_(options.power_cut), events_(options.events) {
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

absl::Status InjectionRegistry::CanRun(const PointInfo& info,
                                       const Arming& arming) const {
  if (power_cut_) return absl::OkStatus();
  for (size_t i = 0; i < arming.steps.size(); ++i) {
    if (arming.steps[i].action == InjectAction::kPowerCut) {
      return absl::FailedPreconditionError(absl::StrCat(
          arming.steps.size() > 1 ? absl::StrCat("step ", i + 1, ": ") : "",
          "power_cut at ", info.name,
          " needs a store on disk (this one runs --in_memory)"));
    }
  }
  return absl::OkStatus();
}

absl::Status InjectionRegistry::Arm(
    absl::string_view name, bool one_shot,
    std::map<std::string, std::string> parameters,
    std::vector<StepParameters> steps) {
  Point* point = PointNamed(name);
  if (point == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no injection point named ", Quote(name),
                     "; GET /v2/error_injection/points lists them"));
  }
  KV_ASSIGN_OR_RETURN(std::shared_ptr<Arming> arming,
                      BuildArming(*point->info, one_shot, std::move(parameters),
                                  std::move(steps)));
  KV_RETURN_IF_ERROR(CanRun(*point->info, *arming));
  std::list<Waiter> parked;
  {
    absl::MutexLock lock(&point->mu);
    if (point->arming != nullptr) point->arming->disarmed = true;
    parked = TakeWaiters(*point, "released");  // parked by the old arming
    point->arming = arming;
    point->armed.store(!shut_down_.load(), std::memory_order_relaxed);
    Publish(*point, *arming, "armed", nullptr, arming->step);
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
    Publish(*point, *point->arming, "disarmed", nullptr, point->arming->step);
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
    Publish(*point, *arming, "message", nullptr, arming->step);
    // Delays stay parked; pauses go on.
    for (auto it = point->waiters.begin(); it != point->waiters.end();) {
      if (it->pause) {
        --it->arming->waiting;
        Publish(*point, *it->arming, "released", &it->request, it->step);
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
  state.exhausted = a.exhausted();
  state.parameters = a.parameters;
  state.step = static_cast<int64_t>(a.step);
  for (const ArmingStep& s : a.steps) {
    state.steps.push_back(StepState{std::string(InjectActionName(s.action)),
                                    s.parameters, s.count, s.reached, s.fires});
  }
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

int64_t InjectionRegistry::AfterRows(PointId id) {
  Point& point = points_[static_cast<int>(id)];
  absl::MutexLock lock(&point.mu);
  const Arming* arming = point.arming.get();
  if (arming == nullptr || arming->disarmed || arming->exhausted()) return 1;
  return arming->steps[arming->step].after_rows;
}

void InjectionRegistry::Publish(const Point& point, const Arming& arming,
                                absl::string_view phase,
                                const RequestInfo* request, size_t step) {
  const InjectAction action = step < arming.steps.size()
                                  ? arming.steps[step].action
                                  : InjectAction::kOff;
  std::string fields = absl::StrCat(
      ",\"type\":\"", InjectActionName(action), "\",\"step\":", step,
      ",\"steps\":", arming.steps.size(), ",\"shard\":0,\"hits\":", arming.hits,
      ",\"fires\":", arming.fires, ",\"waiting\":", arming.waiting,
      ",\"parameters\":", arming.parameters_json);
  if (request != nullptr) {
    absl::StrAppend(
        &fields, ",\"request\":{\"method\":\"", JsonEscape(request->method),
        "\",\"path\":\"", JsonEscape(request->path), "\",\"table\":\"",
        JsonEscape(request->table), "\",\"row_key\":\"",
        JsonEscape(request->row_key), "\",\"tag\":\"", JsonEscape(request->tag),
        "\",\"connection\":", request->connection_id, "}");
  }
  events_.Publish(point.info->name, phase, fields,
                  request != nullptr ? absl::string_view(request->tag)
                                     : absl::string_view(),
                  request != nullptr ? absl::string_view(request->table)
                                     : absl::string_view());
}

InjectionRegistry::Fire InjectionRegistry::Decide(Point& point,
                                                  const RequestInfo& request) {
  std::shared_ptr<Arming> arming = point.arming;
  if (arming == nullptr || arming->disarmed || shut_down_.load() ||
      !arming->Matches(request)) {
    return Fire{};
  }
  ++arming->hits;
  Publish(point, *arming, "hit", &request, arming->step);
  if (arming->hits <= arming->skip) return Fire{};
  const int step = arming->Pick();
  if (step < 0) return Fire{};
  const ArmingStep& chosen = arming->steps[step];
  if (chosen.action == InjectAction::kOff) return Fire{};
  ++arming->fires;
  Publish(point, *arming, "fired", &request, step);
  journal_.NoteFired(request.connection_id, point.info->name);
  if (chosen.action == InjectAction::kCrash) {
    std::raise(SIGKILL);  // like kill -9: nothing is flushed or closed
  }
  if (chosen.action == InjectAction::kPowerCut) {
    power_cut_();  // checked at arming; never returns
  }
  return Fire{std::move(arming), static_cast<size_t>(step)};
}

Verdict InjectionRegistry::VerdictOf(const ArmingStep& step) {
  Verdict v;
  switch (step.action) {
    case InjectAction::kError:
      v.kind = Verdict::kError;
      v.error = step.Error();
      v.retry_after_s = step.retry_after_s;
      v.text_body = step.text_body;
      break;
    case InjectAction::kDrop:
      v.kind = Verdict::kDrop;
      break;
    case InjectAction::kReset:
    case InjectAction::kSlow:
    case InjectAction::kStall:
    case InjectAction::kCorruptChunk:
    case InjectAction::kDelayHeaders:
      v.kind = Verdict::kTransport;
      v.transport = TransportFault{step.action, step.after_bytes,
                                   step.bytes_per_s, step.delay, step.timeout};
      break;
    case InjectAction::kIoError:
      v.kind = Verdict::kFileFault;
      v.error = absl::InternalError("injected I/O error");
      break;
    case InjectAction::kDiskFull:
      v.kind = Verdict::kFileFault;
      v.error = absl::ResourceExhaustedError("injected: no space left");
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
    Fire fire = Decide(point, request);
    if (fire.arming != nullptr) {
      Arming& arming = *fire.arming;
      const ArmingStep& step = arming.steps[fire.step];
      const bool pause = step.action == InjectAction::kPause;
      if (pause && arming.latched > 0) {
        --arming.latched;
        Publish(point, arming, "released", &request, fire.step);
      } else if ((pause || step.action == InjectAction::kDelay) &&
                 !shut_down_.load()) {  // after Shutdown(): go on at once
        Park(point, std::move(fire), pause, request, std::move(next));
        return;
      } else if (!pause && step.action != InjectAction::kDelay) {
        verdict = VerdictOf(step);
      }
    }
  }
  std::move(next)(std::move(verdict));
}

void InjectionRegistry::Park(Point& point, Fire fire, bool pause,
                             const RequestInfo& request, Continue next) {
  const uint64_t waiter = next_waiter_.fetch_add(1);
  const ArmingStep& step = fire.arming->steps[fire.step];
  const absl::Duration wait = pause ? step.timeout : step.delay;
  ++fire.arming->waiting;
  if (pause) Publish(point, *fire.arming, "paused", &request, fire.step);
  point.waiters.push_back(Waiter{waiter, pause, std::move(next), request,
                                 std::move(fire.arming), fire.step});
  loop_->After(wait, [this, &point, waiter, pause] {
    Release(point, waiter, pause ? "timeout" : "");
  });
}

Verdict InjectionRegistry::CheckNow(PointId id, const RequestInfo& request) {
  Point& point = points_[static_cast<int>(id)];
  absl::Duration delay;
  Verdict verdict;
  {
    absl::MutexLock lock(&point.mu);
    Fire fire = Decide(point, request);
    if (fire.arming == nullptr) return verdict;
    const ArmingStep& step = fire.arming->steps[fire.step];
    if (step.action == InjectAction::kDelay) {
      delay = step.delay;
    } else {
      verdict = VerdictOf(step);
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
    if (!phase.empty()) {
      Publish(point, *it->arming, phase, &it->request, it->step);
    }
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
    if (w.pause) Publish(point, *w.arming, phase, &w.request, w.step);
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
