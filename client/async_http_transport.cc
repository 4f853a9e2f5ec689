#include "client/async_http_transport.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <list>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "boost/asio/error.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/error.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/serializer.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"
#include "client/beast_messages.h"

namespace kvstore {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::chrono::nanoseconds Until(absl::Time deadline) {
  return absl::ToChronoNanoseconds(
      std::max(absl::ZeroDuration(), deadline - absl::Now()));
}

struct Connection {
  explicit Connection(net::io_context& ioc) : stream(ioc) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  absl::Time idle_since;
  // A calling thread is writing to the socket (guarded by the transport's
  // mutex): CancelAll leaves it to that thread.
  bool writing = false;
};

// One exchange, from Exchange() until its `done` has run.
struct Op {
  HttpRequestSpec spec;
  absl::Time deadline;
  AsyncTransport::ExchangeDone done;
  http::request<http::string_body> request;
  std::optional<http::request_serializer<http::string_body>> serializer;
  std::optional<http::response_parser<http::string_body>> parser;
  std::unique_ptr<Connection> conn;  // while it holds one
  // While queued for a connection: its place and its deadline timer.
  bool waiting = false;
  std::list<std::shared_ptr<Op>>::iterator queued;
  std::unique_ptr<net::steady_timer> wait_timer;
};
using OpPtr = std::shared_ptr<Op>;

absl::Status Cancelled() {
  return absl::CancelledError("the client is shutting down");
}

// An exchange starts on the calling thread: it takes a pooled connection and
// writes the request there, without blocking (what the socket does not take
// at once, the I/O thread writes), so the I/O thread mostly wakes only for
// answers. The pool's state is shared with the I/O thread under a mutex, and
// every socket operation we start begins under it after a check of
// `closing_`; CancelAll shuts the sockets down, which also fails the steps
// Beast starts on its own. A connection belongs to one exchange at a time.
class AsyncHttpTransport final : public AsyncTransport {
 public:
  AsyncHttpTransport(const HttpTransportOptions& options,
                     tcp::endpoint endpoint)
      : options_(options),
        endpoint_(std::move(endpoint)),
        host_(endpoint_.address().to_string()),
        slots_(options.slots != nullptr
                   ? options.slots
                   : std::make_shared<RequestSlots>(options.pool_size)),
        guard_(net::make_work_guard(ioc_)) {
    // A slot the blocking transport gave back may serve a queued exchange.
    slots_->SetListener([this] {
      if (queued_.load() > 0) net::post(ioc_, [this] { ServeFreedSlot(); });
    });
  }

  ~AsyncHttpTransport() override {
    slots_->SetListener(nullptr);
    CancelAll();
    guard_.reset();  // run() returns once everything pending has ended
    if (thread_.joinable()) {
      if (thread_.get_id() == std::this_thread::get_id()) {
        std::fprintf(stderr,
                     "kvstore: a client was destroyed from its own async "
                     "callback\n");
        std::abort();
      }
      thread_.join();
    }
  }

  void Exchange(HttpRequestSpec request, absl::Time deadline,
                ExchangeDone done) override {
    StartThread();
    auto op = std::make_shared<Op>();
    op->spec = std::move(request);
    op->deadline = deadline;
    op->done = std::move(done);
    Start(op);
  }

  void RunAfter(absl::Duration delay, absl::AnyInvocable<void()> fn) override {
    StartThread();
    auto timer = std::make_shared<net::steady_timer>(
        ioc_, absl::ToChronoNanoseconds(std::max(delay, {})));
    auto f = std::make_shared<absl::AnyInvocable<void()>>(std::move(fn));
    net::post(ioc_, [this, timer, f] {
      {
        absl::MutexLock lock(&mu_);
        if (!closing_) {
          timers_.insert(timer.get());
          timer->async_wait([this, timer, f](const beast::error_code&) {
            {
              absl::MutexLock timers_lock(&mu_);
              timers_.erase(timer.get());
            }
            (*f)();
          });
          return;
        }
      }
      (*f)();  // cancelled: at once
    });
  }

  void CancelAll() override {
    {
      absl::MutexLock lock(&mu_);
      if (closing_) return;
      closing_ = true;
    }
    // Without the thread there is nothing to end: an Exchange starts it
    // first, then sees closing_.
    if (thread_started_.load()) net::post(ioc_, [this] { EndPending(); });
  }

 private:
  void StartThread() {
    absl::call_once(started_, [this] {
      thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "kv-client-io");
        ioc_.run();
      });
      thread_started_ = true;
    });
  }

  // Runs op's `done` with `result`: on the I/O thread.
  static void Finish(const OpPtr& op, absl::StatusOr<HttpResponse> result) {
    ExchangeDone done = std::move(op->done);
    done(std::move(result));
  }
  // The same from any thread (never inside Exchange's caller).
  void FinishLater(const OpPtr& op, absl::Status status) {
    net::post(ioc_, [op, status = std::move(status)] { Finish(op, status); });
  }

  absl::Status ErrorStatus(const beast::error_code& ec, absl::string_view what)
      ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (closing_) return Cancelled();
    }
    if (ec == beast::error::timeout) {
      return absl::DeadlineExceededError(
          absl::StrCat(what, ": deadline exceeded"));
    }
    return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
  }

  // Any thread: a request slot and a pooled or new connection, or a place in
  // the queue (behind those already queued).
  void Start(const OpPtr& op) ABSL_LOCKS_EXCLUDED(mu_) {
    std::unique_ptr<Connection> conn;
    std::vector<std::unique_ptr<Connection>> stale;  // closed outside the lock
    bool connect = false;
    {
      absl::MutexLock lock(&mu_);
      if (closing_) return FinishLater(op, Cancelled());
      if (absl::Now() >= op->deadline) {
        return FinishLater(op, absl::DeadlineExceededError(
                                   "deadline exceeded before sending"));
      }
      if (!waiters_.empty() || !slots_->TryAcquire()) return Queue(op);
      conn = TakeConnection(&connect, &stale);
    }
    if (conn != nullptr) {
      op->conn = std::move(conn);
      return Send(op);
    }
    if (connect) net::post(ioc_, [this, op] { Connect(op); });
  }

  // For a request that holds a slot: an idle connection (marked busy), or
  // null with *connect set once a new one is counted in open_. (A slot always
  // leaves room: busy connections never outnumber the slots held.)
  std::unique_ptr<Connection> TakeConnection(
      bool* connect, std::vector<std::unique_ptr<Connection>>* stale)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Time now = absl::Now();
    while (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      if (now - c->idle_since < options_.max_idle) {
        busy_.insert(c.get());
        return c;
      }
      --open_;  // too old: the store may be closing it
      stale->push_back(std::move(c));
    }
    ++open_;
    *connect = true;
    return nullptr;
  }

  // Every slot is taken: wait for one, in order, until the deadline.
  void Queue(const OpPtr& op) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    op->waiting = true;
    op->queued = waiters_.insert(waiters_.end(), op);
    ++queued_;
    op->wait_timer = std::make_unique<net::steady_timer>(ioc_);
    op->wait_timer->expires_after(Until(op->deadline));
    op->wait_timer->async_wait([this, op](const beast::error_code&) {
      {
        absl::MutexLock waiters_lock(&mu_);
        if (!op->waiting) return;  // it got a connection, or was ended
        op->waiting = false;
        waiters_.erase(op->queued);
        --queued_;
      }
      Finish(op, absl::DeadlineExceededError(
                     "deadline exceeded waiting for a pooled connection"));
    });
  }

  // I/O thread: a slot was given back outside this transport; the first
  // waiter takes it if it is still free.
  void ServeFreedSlot() ABSL_LOCKS_EXCLUDED(mu_) {
    OpPtr next;
    std::unique_ptr<Connection> conn;
    std::vector<std::unique_ptr<Connection>> stale;  // closed outside the lock
    bool connect = false;
    {
      absl::MutexLock lock(&mu_);
      if (closing_ || waiters_.empty() || !slots_->TryAcquire()) return;
      next = NextWaiter();
      conn = TakeConnection(&connect, &stale);
    }
    if (conn != nullptr) {
      next->conn = std::move(conn);
      return Send(next);
    }
    Connect(next);
  }

  // The first waiter, taken off the queue; null if none.
  OpPtr NextWaiter() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (waiters_.empty()) return nullptr;
    OpPtr op = waiters_.front();
    waiters_.pop_front();
    --queued_;
    op->waiting = false;
    op->wait_timer->cancel();
    return op;
  }

  // I/O thread; a connection was counted in open_ for op.
  void Connect(const OpPtr& op) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (!closing_) {
        op->conn = std::make_unique<Connection>(ioc_);
        busy_.insert(op->conn.get());
        op->conn->stream.expires_after(Until(
            std::min(op->deadline, absl::Now() + options_.connect_timeout)));
        op->conn->stream.async_connect(
            endpoint_, [this, op](const beast::error_code& ec) {
              if (ec) {
                Drop(op);
                absl::Status failed =
                    ErrorStatus(ec, absl::StrCat("connecting to ", host_, ":",
                                                 endpoint_.port()));
                // A connect timeout before the call's deadline is a
                // transport failure, not the call running out of time.
                if (failed.code() == absl::StatusCode::kDeadlineExceeded &&
                    absl::Now() < op->deadline) {
                  failed = absl::UnavailableError(failed.message());
                }
                return Finish(op, std::move(failed));
              }
              beast::error_code ignored, failed;
              op->conn->stream.socket().set_option(tcp::no_delay(true),
                                                   ignored);
              // (Send must never block the calling thread.)
              op->conn->stream.socket().non_blocking(true, failed);
              if (failed) {
                Drop(op);
                return Finish(op, ErrorStatus(failed, "setting up the socket"));
              }
              Send(op);
            });
        return;
      }
      --open_;
    }
    slots_->Release();
    Finish(op, Cancelled());
  }

  // Any thread; op holds a connection. Writes what the socket takes at once,
  // then leaves the rest (if any) and the answer to the I/O thread.
  void Send(const OpPtr& op) ABSL_LOCKS_EXCLUDED(mu_) {
    Connection& c = *op->conn;
    bool cancelled = false;
    {
      absl::MutexLock lock(&mu_);
      cancelled = closing_;
      c.writing = !cancelled;
    }
    if (cancelled) return DropAndFinish(op, Cancelled());
    if (absl::Now() >= op->deadline) {
      {
        absl::MutexLock lock(&mu_);
        c.writing = false;
      }
      Release(op);
      return FinishLater(
          op, absl::DeadlineExceededError("deadline exceeded before sending"));
    }
    op->request = internal::BeastRequest(op->spec, host_);
    op->serializer.emplace(op->request);
    beast::error_code ec;
    while (!ec && !op->serializer->is_done()) {
      http::write_some(c.stream.socket(), *op->serializer, ec);
    }
    const bool rest_later = ec == net::error::would_block;
    if (rest_later) ec = {};
    absl::Status failed;
    {
      absl::MutexLock lock(&mu_);
      c.writing = false;
      if (closing_) {
        failed = Cancelled();
      } else if (ec) {
        failed = absl::UnavailableError(
            absl::StrCat("sending the request: ", ec.message()));
      } else {
        c.stream.expires_after(Until(op->deadline));
        if (!rest_later) return StartRead(op);
        http::async_write(c.stream, *op->serializer,
                          [this, op](const beast::error_code& e, size_t) {
                            if (e) {
                              Drop(op);
                              return Finish(
                                  op, ErrorStatus(e, "sending the request"));
                            }
                            Receive(op);
                          });
        return;
      }
    }
    DropAndFinish(op, std::move(failed));
  }

  // I/O thread (after an async write).
  void Receive(const OpPtr& op) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (!closing_) return StartRead(op);
    }
    DropAndFinish(op, Cancelled());
  }

  void StartRead(const OpPtr& op) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    op->serializer.reset();
    op->parser.emplace();
    // (Not boost::none: Boost 1.74 compares a Content-Length against an unset
    // limit as if it were exceeded.) Unary answers are bounded by the store.
    op->parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    http::async_read(
        op->conn->stream, op->conn->buffer, *op->parser,
        [this, op](const beast::error_code& ec, size_t) {
          if (ec) {
            Drop(op);
            return Finish(op, ErrorStatus(ec, "reading the response"));
          }
          auto& message = op->parser->get();
          HttpResponse response;
          response.http_status = static_cast<int>(message.result_int());
          auto type = message[http::field::content_type];
          response.content_type.assign(type.data(), type.size());
          auto retry_after = message[http::field::retry_after];
          response.retry_after = internal::ParseRetryAfter(
              absl::string_view(retry_after.data(), retry_after.size()));
          response.body = std::move(message.body());
          const bool keep = message.keep_alive();
          op->parser.reset();
          if (keep) {
            Release(op);
          } else {
            Drop(op);
          }
          Finish(op, std::move(response));
        });
  }

  // Takes op's connection back: to the first waiter (with op's slot), else
  // to the idle list (and the slot back to the client's slots).
  void Release(const OpPtr& op) ABSL_LOCKS_EXCLUDED(mu_) {
    std::unique_ptr<Connection> c = std::move(op->conn);
    OpPtr next;
    {
      absl::MutexLock lock(&mu_);
      busy_.erase(c.get());
      if (closing_) {
        --open_;  // (c closes)
      } else {
        c->stream.expires_never();
        next = NextWaiter();
        if (next == nullptr) {
          c->idle_since = absl::Now();
          idle_.push_back(std::move(c));
        } else {
          busy_.insert(c.get());
        }
      }
    }
    if (next == nullptr) {
      slots_->Release();
      return;
    }
    next->conn = std::move(c);
    Send(next);
  }

  // Closes op's connection (broken, closed by the store, or cancelled); a
  // waiter may open another in its place, with op's slot.
  void Drop(const OpPtr& op) ABSL_LOCKS_EXCLUDED(mu_) {
    OpPtr next;
    {
      absl::MutexLock lock(&mu_);
      busy_.erase(op->conn.get());
      --open_;
      if (!closing_) next = NextWaiter();
      if (next != nullptr) ++open_;
    }
    op->conn.reset();
    if (next == nullptr) {
      slots_->Release();
      return;
    }
    net::post(ioc_, [this, next] { Connect(next); });
  }

  void DropAndFinish(const OpPtr& op, absl::Status status)
      ABSL_LOCKS_EXCLUDED(mu_) {
    Drop(op);
    FinishLater(op, std::move(status));
  }

  // I/O thread, after CancelAll: ends everything pending; run() returns once
  // the cancelled operations' handlers have run.
  void EndPending() ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<std::unique_ptr<Connection>> idle;  // closed outside the lock
    std::vector<OpPtr> waiters;
    {
      absl::MutexLock lock(&mu_);
      open_ -= static_cast<int>(idle_.size());
      idle = std::move(idle_);
      while (OpPtr op = NextWaiter()) waiters.push_back(std::move(op));
      // Handlers run later, on this thread, and see closing_. Shutting the
      // socket down, not just cancelling, also fails the next step of a read
      // or write whose handler is already queued (Beast starts it without
      // asking us). A connection a calling thread is writing to is left to
      // it: it checks closing_ next.
      for (Connection* c : busy_) {
        if (c->writing) continue;
        beast::error_code ignored;
        c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        c->stream.cancel();
      }
      // Their functions run when the aborted waits' handlers do.
      for (net::steady_timer* t : timers_) t->cancel();
    }
    for (const OpPtr& op : waiters) Finish(op, Cancelled());
  }

  const HttpTransportOptions options_;
  const tcp::endpoint endpoint_;
  const std::string host_;
  const std::shared_ptr<RequestSlots> slots_;
  std::atomic<int> queued_{0};  // waiters_.size(), read without the lock
  net::io_context ioc_{1};
  net::executor_work_guard<net::io_context::executor_type> guard_;
  absl::once_flag started_;
  std::thread thread_;
  std::atomic<bool> thread_started_{false};

  absl::Mutex mu_;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + busy
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Connection*> busy_ ABSL_GUARDED_BY(mu_);
  std::list<OpPtr> waiters_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<net::steady_timer*> timers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<AsyncTransport>> NewAsyncHttpTransport(
    const HttpTransportOptions& options) {
  absl::StatusOr<tcp::endpoint> endpoint = internal::StoreEndpoint(options);
  if (!endpoint.ok()) return endpoint.status();
  return std::unique_ptr<AsyncTransport>(
      new AsyncHttpTransport(options, *endpoint));
}

}  // namespace kvstore
