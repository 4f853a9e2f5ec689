#include "store/http/http_server.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/chunk_encode.hpp"
#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/error.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/write.hpp"
#include "common/end_of_turn.h"
#include "store/http/answer_wire.h"
#include "store/http/descriptor_reserve.h"

namespace kvstore::store {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr absl::Duration kRejectTimeout = absl::Seconds(1);

using Clock = std::chrono::steady_clock;
// A socket bound to one io_context's executor (no type erasure on the hot
// path).
using Socket = net::basic_stream_socket<tcp, net::io_context::executor_type>;

HttpResponse PlainResponse(http::status status, std::string body) {
  HttpResponse res{status, 11};
  res.set(http::field::content_type, "text/plain");
  res.body() = std::move(body);
  return res;
}

class ServerImpl;
class Session;

// One I/O thread with its own io_context and the sessions it owns. Everything
// in a Worker but the io_context is touched only by that thread, so sessions
// need no strands or locks.
struct Worker {
  absl::flat_hash_set<Session*> sessions;  // this thread only
  bool stopping = false;                   // this thread only
  std::thread thread;
  // Last, so it is destroyed first: handlers it still holds may destroy
  // sessions, which unregister from `sessions` above.
  net::io_context ioc{1};
  std::optional<net::steady_timer> sweeper;
};

// A stream whose first pieces were already pulled: yields them, then the rest.
class PrefetchedSource final : public ChunkSource {
 public:
  using Piece = absl::StatusOr<std::optional<std::string>>;
  PrefetchedSource(std::vector<Piece> ahead, std::unique_ptr<ChunkSource> rest)
      : ahead_(std::move(ahead)), rest_(std::move(rest)) {}
  Piece Next() override {
    if (next_ < ahead_.size()) return std::move(ahead_[next_++]);
    return rest_->Next();
  }

 private:
  std::vector<Piece> ahead_;
  size_t next_ = 0;
  std::unique_ptr<ChunkSource> rest_;
};

// One client connection. Lives as long as a pending operation holds a
// shared_ptr to it; runs only on its worker's thread.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Socket socket, ServerImpl* server, Worker* worker, bool reject);
  ~Session();

  void Start();
  // Finishes the session: closes it now if it is waiting for a request, else
  // after the current response. Worker thread only.
  void RequestStop();
  // Closes the session if its current deadline has passed. Worker thread only.
  void CloseIfExpired(Clock::time_point now) {
    if (now >= deadline_) CloseNow();
  }
  void CloseNow();

 private:
  void ReadRequest();
  void OnRead(beast::error_code ec);
  void Dispatch();
  // `refused`: the server made this response itself (a limit or parse
  // error): report it, and close the connection afterwards.
  void Send(HttpResponse res, bool refused);
  // Streams a reply's body (HttpReply::stream) with chunked encoding.
  void SendStream(HttpReply reply);
  // Sends the reply as its AnswerFault says.
  void SendFaulty(HttpReply reply, bool keep_alive);
  // Writes bytes_[from, to), then calls `then` with the outcome.
  void WriteRange(size_t from, size_t to,
                  absl::AnyInvocable<void(beast::error_code) &&> then);
  // kSlow: writes the next `slice` bytes from `from`, then the rest later.
  void WriteSlowly(size_t from, size_t slice, bool keep_alive);
  // Runs `then` on this session's thread after `delay`, unless closed first.
  void After(absl::Duration delay, absl::AnyInvocable<void() &&> then);
  // Closes with a reset (RST) instead of a FIN.
  void ResetNow();
  void WriteNextChunk(bool keep_alive);
  void WritePiece(ChunkSource::Piece next, bool keep_alive);
  // Ends an event-driven stream as soon as the client closes its side (or
  // sends anything).
  void WatchForHangUp();
  void EndStream();
  void OnWrite(bool keep_alive, beast::error_code ec);
  // The exchange being answered, for the server's ExchangeSink (if any).
  void BeginExchange(HttpRequest& req);
  void CountOut(size_t bytes) {
    if (exchange_.has_value()) exchange_->bytes_out += bytes;
  }
  void FinishExchange(bool cut);

  Socket socket_;
  ServerImpl* const server_;
  Worker* const worker_;
  const bool reject_;  // over the connection limit: answer 503 once, then close
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<HttpResponse> response_;
  // The reply being streamed, if any.
  std::optional<http::response<http::empty_body>> stream_header_;
  std::optional<http::response_serializer<http::empty_body>> stream_serializer_;
  std::unique_ptr<ChunkSource> stream_;
  uint64_t stream_id_ = 0;  // tells a late NextAsync answer from a live one
  std::string chunk_;       // the piece being written
  std::string bytes_;       // a faulty answer, as it goes on the wire
  std::optional<net::steady_timer> timer_;  // a faulty answer's pauses
  char hang_up_probe_[64];                  // WatchForHangUp's read buffer
  absl::Time request_start_;
  size_t request_bytes_ = 0;  // of the request last read
  const uint64_t connection_id_;
  std::optional<Exchange> exchange_;  // with an ExchangeSink, while answering
  // The current I/O must finish by then (the sweeper enforces it); max() while
  // the handler works on a request.
  Clock::time_point deadline_ = Clock::time_point::max();
  bool reading_ = false;
  bool closed_ = false;
};

class ServerImpl final : public HttpServer {
 public:
  ServerImpl(const HttpServerOptions& options, HttpHandler* handler,
             HttpObserver* observer)
      : options_(options), handler_(handler), observer_(observer) {
    int threads = options.threads < 1 ? 1 : options.threads;
    for (int i = 0; i < threads; ++i)
      workers_.push_back(std::make_unique<Worker>());
    acceptor_.emplace(workers_[0]->ioc);
    accept_pause_.emplace(workers_[0]->ioc);
    absl::Duration sweep = options.limits.idle_timeout / 4;
    sweep_interval_ = absl::ToChronoNanoseconds(
        std::clamp(sweep, absl::Milliseconds(5), absl::Milliseconds(250)));
  }

  ~ServerImpl() override { Shutdown(absl::ZeroDuration()); }

  absl::Status Listen() {
    beast::error_code ec;
    net::ip::address address = net::ip::make_address(options_.host, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat(
          "host '", options_.host, "' is not an IP address: ", ec.message()));
    }
    tcp::endpoint endpoint(address, options_.port);
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options_.host, ":", options_.port,
                       ": ", ec.message()));
    }
    port_ = acceptor_->local_endpoint().port();
    Accept();
    for (auto& w : workers_) {
      w->sweeper.emplace(w->ioc);
      Sweep(w.get());
      w->thread = std::thread([w = w.get()] {
        pthread_setname_np(pthread_self(), "kv-http-io");
        // Work deferred by the handlers (a shared log flush) runs after the
        // other handlers this loop turn has ready.
        EndOfTurnScope turn([w](std::function<void()> fn) {
          net::post(w->ioc, std::move(fn));
        });
        w->ioc.run();
      });
    }
    return absl::OkStatus();
  }

  uint16_t port() const override { return port_; }

  void Shutdown(absl::Duration grace) override {
    if (shut_down_.exchange(true)) return;
    net::post(workers_[0]->ioc, [this] {
      beast::error_code ignored;
      acceptor_->close(ignored);
      accept_pause_->cancel();
    });
    for (auto& w : workers_) {
      net::post(w->ioc, [w = w.get()] {
        w->stopping = true;
        // RequestStop may close and so unregister sessions: iterate over a
        // copy.
        std::vector<Session*> sessions(w->sessions.begin(), w->sessions.end());
        for (Session* s : sessions) s->RequestStop();
      });
    }
    {
      absl::MutexLock lock(&live_mu_);
      live_mu_.AwaitWithTimeout(
          absl::Condition(
              +[](int* live) { return *live == 0; }, &live_sessions_),
          grace);
    }
    for (auto& w : workers_) {
      net::post(w->ioc, [w = w.get()] {
        if (w->sweeper) w->sweeper->cancel();
        std::vector<Session*> sessions(w->sessions.begin(), w->sessions.end());
        for (Session* s : sessions) s->CloseNow();
      });
    }
    // Let the close handlers run, then stop the loops.
    for (auto& w : workers_) {
      net::post(w->ioc, [w = w.get()] { w->ioc.stop(); });
    }
    for (auto& w : workers_) {
      if (w->thread.joinable()) w->thread.join();
    }
  }

  const HttpLimits& limits() const { return options_.limits; }
  HttpHandler* handler() const { return handler_; }
  ExchangeSink* exchange_sink() const { return options_.exchange_sink; }
  uint64_t NextConnectionId() { return next_connection_id_.fetch_add(1); }
  HttpObserver* observer() const { return observer_; }

  void SessionStarted() {
    absl::MutexLock lock(&live_mu_);
    ++live_sessions_;
  }
  void SessionEnded() {
    absl::MutexLock lock(&live_mu_);
    --live_sessions_;
  }
  int live_sessions() {
    absl::MutexLock lock(&live_mu_);
    return live_sessions_;
  }

 private:
  void Accept() {
    Worker* target = workers_[next_worker_++ % workers_.size()].get();
    acceptor_->async_accept(
        target->ioc.get_executor(),
        [this, target](beast::error_code ec, Socket socket) {
          if (ec == net::error::operation_aborted || !acceptor_->is_open())
            return;
          if (IsResourceShortage(ec)) return OnShortage();
          if (!ec) {
            backoff_.Reset();
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            bool reject = live_sessions() >= options_.limits.max_connections;
            if (reject) observer_->ConnectionRejected();
            auto session = std::make_shared<Session>(std::move(socket), this,
                                                     target, reject);
            net::post(target->ioc, [session] { session->Start(); });
          }
          // Other accept errors (ECONNABORTED, ...) concern one connection.
          Accept();
        });
  }

  // Out of descriptors: answer a waiting connection 503 with the spare and go
  // on, or, without a spare, pause accepting (see descriptor_reserve.h).
  void OnShortage() {
    observer_->AcceptShortage();
    if (reserve_.RefuseOne(acceptor_->native_handle(), OutOfDescriptors())) {
      observer_->ConnectionRejected();
      return Accept();
    }
    accept_pause_->expires_after(backoff_.Next());
    accept_pause_->async_wait([this](beast::error_code ec) {
      if (!ec && acceptor_->is_open()) Accept();
    });
  }

  static absl::string_view OutOfDescriptors() {
    static constexpr absl::string_view kBody =
        "too many connections (out of file descriptors); retry later\n";
    static const std::string* response = new std::string(absl::StrCat(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
        "Content-Length: ",
        kBody.size(), "\r\nConnection: close\r\n\r\n", kBody));
    return *response;
  }

  // Closes the worker's sessions whose deadline has passed, then re-arms
  // itself.
  void Sweep(Worker* w) {
    w->sweeper->expires_after(sweep_interval_);
    w->sweeper->async_wait([this, w](beast::error_code ec) {
      if (ec) return;
      Clock::time_point now = Clock::now();
      std::vector<Session*> sessions(w->sessions.begin(), w->sessions.end());
      for (Session* s : sessions) s->CloseIfExpired(now);
      Sweep(w);
    });
  }

  const HttpServerOptions options_;
  HttpHandler* const handler_;
  HttpObserver* const observer_;
  Clock::duration sweep_interval_;
  absl::Mutex live_mu_;
  int live_sessions_ ABSL_GUARDED_BY(live_mu_) = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::optional<tcp::acceptor> acceptor_;  // on workers_[0]
  // The acceptor's, on workers_[0] too.
  std::optional<net::steady_timer> accept_pause_;
  DescriptorReserve reserve_;
  AcceptBackoff backoff_;
  size_t next_worker_ = 0;  // acceptor's thread only
  uint16_t port_ = 0;
  std::atomic<bool> shut_down_{false};
  std::atomic<uint64_t> next_connection_id_{1};
};

Session::Session(Socket socket, ServerImpl* server, Worker* worker, bool reject)
    : socket_(std::move(socket)),
      server_(server),
      worker_(worker),
      reject_(reject),
      connection_id_(server->NextConnectionId()) {
  server_->observer()->ConnectionOpened();
  server_->SessionStarted();
}

Session::~Session() {
  worker_->sessions.erase(this);
  server_->observer()->ConnectionClosed();
  server_->SessionEnded();
}

void Session::Start() {
  worker_->sessions.insert(this);
  ReadRequest();
}

void Session::RequestStop() {
  if (reading_) CloseNow();
}

void Session::ReadRequest() {
  if (worker_->stopping) {
    CloseNow();
    return;
  }
  const HttpLimits& limits = server_->limits();
  parser_.emplace();
  // The request line counts against Beast's header limit, so allow both; the
  // exact split is checked once the header is in (OnRead).
  parser_->header_limit(static_cast<std::uint32_t>(
      limits.max_url_bytes + limits.max_header_bytes + 64));
  parser_->body_limit(limits.max_body_bytes);
  deadline_ =
      Clock::now() +
      absl::ToChronoNanoseconds(reject_ ? kRejectTimeout : limits.idle_timeout);
  reading_ = true;
  http::async_read(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t bytes) {
        self->request_bytes_ = bytes;
        self->OnRead(ec);
      });
}

void Session::OnRead(beast::error_code ec) {
  reading_ = false;
  deadline_ = Clock::time_point::max();
  request_start_ = absl::Now();
  if (closed_) return;
  const HttpLimits& limits = server_->limits();
  if (ec == http::error::header_limit) {
    // Find out whether the request line alone was too long.
    absl::string_view received(static_cast<const char*>(buffer_.data().data()),
                               buffer_.data().size());
    size_t eol = received.find("\r\n");
    bool url_too_long =
        eol == absl::string_view::npos || eol > limits.max_url_bytes;
    if (url_too_long) {
      Send(PlainResponse(http::status::uri_too_long,
                         absl::StrCat("request line exceeds ",
                                      limits.max_url_bytes, " bytes")),
           /*refused=*/true);
    } else {
      Send(PlainResponse(http::status::request_header_fields_too_large,
                         absl::StrCat("header fields exceed ",
                                      limits.max_header_bytes, " bytes")),
           /*refused=*/true);
    }
    return;
  }
  if (ec == http::error::body_limit) {
    Send(PlainResponse(
             http::status::payload_too_large,
             absl::StrCat("body exceeds ", limits.max_body_bytes, " bytes")),
         /*refused=*/true);
    return;
  }
  if (ec) {
    if (ec.category() ==
            http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream &&
        ec != http::error::partial_message) {
      Send(
          PlainResponse(http::status::bad_request,
                        absl::StrCat("malformed HTTP request: ", ec.message())),
          /*refused=*/true);
    } else {
      CloseNow();  // the peer left or a socket error: nobody to answer
    }
    return;
  }
  if (reject_) {
    Send(PlainResponse(http::status::service_unavailable,
                       absl::StrCat("too many connections (limit ",
                                    limits.max_connections, "); retry later")),
         /*refused=*/true);
    return;
  }
  const HttpRequest& req = parser_->get();
  if (req.target().size() > limits.max_url_bytes) {
    Send(PlainResponse(http::status::uri_too_long,
                       absl::StrCat("request target exceeds ",
                                    limits.max_url_bytes, " bytes")),
         /*refused=*/true);
    return;
  }
  size_t header_bytes = 0;
  for (const auto& field : req) {
    header_bytes += field.name_string().size() + field.value().size() + 4;
  }
  if (header_bytes > limits.max_header_bytes) {
    Send(PlainResponse(http::status::request_header_fields_too_large,
                       absl::StrCat("header fields exceed ",
                                    limits.max_header_bytes, " bytes")),
         /*refused=*/true);
    return;
  }
  Dispatch();
}

void Session::BeginExchange(HttpRequest& req) {
  if (server_->exchange_sink() == nullptr) return;
  req.set(
      beast::string_view(kConnectionIdField.data(), kConnectionIdField.size()),
      std::to_string(connection_id_));
  Exchange& e = exchange_.emplace();
  e.connection_id = connection_id_;
  e.method = std::string(req.method_string());
  e.target = std::string(req.target());
  if (auto tag = req.find("X-Test-Tag"); tag != req.end()) {
    e.tag = std::string(tag->value());
  }
  e.bytes_in = request_bytes_;
  e.start = request_start_;
}

void Session::FinishExchange(bool cut) {
  if (!exchange_.has_value()) return;
  exchange_->cut = cut;
  exchange_->end = absl::Now();
  server_->exchange_sink()->ExchangeDone(*std::move(exchange_));
  exchange_.reset();
}

void Session::Dispatch() {
  HttpRequest req = parser_->release();
  bool keep_alive = req.keep_alive();
  BeginExchange(req);
  server_->handler()->Handle(
      std::move(req), [self = shared_from_this(), keep_alive](HttpReply reply) {
        // Runs inline when answered on the session's own thread, else is posted
        // to it.
        net::dispatch(self->worker_->ioc, [self, keep_alive,
                                           reply = std::move(reply)]() mutable {
          reply.response.keep_alive(keep_alive);
          if (self->exchange_.has_value()) {
            self->exchange_->note = std::move(reply.note);
            self->exchange_->http_status =
                reply.drop ? 0 : reply.response.result_int();
          }
          if (reply.drop) {
            self->CloseNow();
          } else if (reply.fault.kind != AnswerFault::kNone) {
            self->SendFaulty(std::move(reply), keep_alive);
          } else if (reply.stream != nullptr) {
            self->SendStream(std::move(reply));
          } else {
            self->Send(std::move(reply.response), /*refused=*/false);
          }
        });
      });
}

void Session::SendStream(HttpReply reply) {
  if (closed_) return;
  const bool event_driven = reply.stream->event_driven();
  // A stream that ends within its first piece (a point read, a short scan)
  // goes out as an ordinary response with Content-Length: one write, not
  // three.
  if (!event_driven) {  // (an event stream has nothing to pull ahead)
    std::vector<PrefetchedSource::Piece> ahead;
    ahead.push_back(reply.stream->Next());
    if (ahead[0].ok() && ahead[0]->has_value()) {
      ahead.push_back(reply.stream->Next());
    }
    const PrefetchedSource::Piece& last = ahead.back();
    if (last.ok() && !last->has_value()) {
      if (ahead.size() == 2) reply.response.body() = std::move(**ahead[0]);
      Send(std::move(reply.response), /*refused=*/false);
      return;
    }
    reply.stream = std::make_unique<PrefetchedSource>(std::move(ahead),
                                                      std::move(reply.stream));
  }
  // An event stream ends only when the server ends it; the connection closes
  // then (its hang-up watch is a read that must not outlive it).
  bool keep_alive =
      reply.response.keep_alive() && !worker_->stopping && !event_driven;
  stream_header_.emplace(reply.response.result(), 11);
  for (const auto& field : reply.response) {
    stream_header_->set(field.name_string(), field.value());
  }
  stream_header_->set(http::field::server, "kvstore");
  stream_header_->keep_alive(keep_alive);
  stream_header_->chunked(true);
  stream_serializer_.emplace(*stream_header_);
  stream_ = std::move(reply.stream);
  ++stream_id_;
  if (event_driven) WatchForHangUp();
  deadline_ =
      Clock::now() + absl::ToChronoNanoseconds(server_->limits().idle_timeout);
  http::async_write_header(socket_, *stream_serializer_,
                           [self = shared_from_this(), keep_alive](
                               beast::error_code ec, size_t bytes) {
                             self->CountOut(bytes);
                             if (ec) {
                               self->EndStream();
                               self->CloseNow();
                               return;
                             }
                             self->WriteNextChunk(keep_alive);
                           });
}

void Session::WriteNextChunk(bool keep_alive) {
  if (closed_ || stream_ == nullptr) return EndStream();
  if (!stream_->event_driven()) return WritePiece(stream_->Next(), keep_alive);
  // Wait for the source without a deadline (the client may wait for events
  // as long as it likes; a hang-up is seen by WatchForHangUp).
  deadline_ = Clock::time_point::max();
  stream_->NextAsync([self = shared_from_this(), id = stream_id_,
                      keep_alive](ChunkSource::Piece piece) mutable {
    // Never inline: the source may be in the middle of a call.
    net::post(self->worker_->ioc, [self, id, keep_alive,
                                   piece = std::move(piece)]() mutable {
      if (self->closed_ || self->stream_ == nullptr || self->stream_id_ != id) {
        return;
      }
      self->WritePiece(std::move(piece), keep_alive);
    });
  });
}

void Session::WatchForHangUp() {
  socket_.async_read_some(
      net::buffer(hang_up_probe_),
      [self = shared_from_this(), id = stream_id_](beast::error_code, size_t) {
        if (self->closed_ || self->stream_ == nullptr ||
            self->stream_id_ != id) {
          return;
        }
        self->CloseNow();  // gone, or talking out of turn
      });
}

void Session::WritePiece(ChunkSource::Piece next, bool keep_alive) {
  if (!next.ok()) {
    EndStream();
    CloseNow();  // the client sees a body cut short
    return;
  }
  deadline_ =
      Clock::now() + absl::ToChronoNanoseconds(server_->limits().idle_timeout);
  auto self = shared_from_this();
  if (!next->has_value()) {
    net::async_write(socket_, http::make_chunk_last(),
                     [self, keep_alive](beast::error_code ec, size_t bytes) {
                       self->CountOut(bytes);
                       self->EndStream();
                       self->OnWrite(keep_alive, ec);
                     });
    return;
  }
  chunk_ = std::move(**next);
  net::async_write(socket_, http::make_chunk(net::buffer(chunk_)),
                   [self, keep_alive](beast::error_code ec, size_t bytes) {
                     self->CountOut(bytes);
                     if (ec) {
                       self->EndStream();
                       self->CloseNow();
                       return;
                     }
                     self->WriteNextChunk(keep_alive);
                   });
}

void Session::EndStream() {
  stream_.reset();
  stream_serializer_.reset();
  stream_header_.reset();
  chunk_.clear();
}

void Session::Send(HttpResponse res, bool refused) {
  if (closed_) return;
  if (refused) {
    server_->observer()->RequestRefused(res.result_int(),
                                        absl::Now() - request_start_);
  }
  bool keep_alive = !refused && res.keep_alive() && !worker_->stopping;
  res.keep_alive(keep_alive);
  res.set(http::field::server, "kvstore");
  res.prepare_payload();
  response_.emplace(std::move(res));
  deadline_ =
      Clock::now() + absl::ToChronoNanoseconds(server_->limits().idle_timeout);
  http::async_write(socket_, *response_,
                    [self = shared_from_this(), keep_alive](
                        beast::error_code ec, size_t bytes) {
                      self->CountOut(bytes);
                      self->OnWrite(keep_alive, ec);
                    });
}

void Session::OnWrite(bool keep_alive, beast::error_code ec) {
  response_.reset();
  FinishExchange(/*cut=*/static_cast<bool>(ec));
  deadline_ = Clock::time_point::max();
  if (ec || !keep_alive) {
    CloseNow();
    return;
  }
  ReadRequest();
}

void Session::SendFaulty(HttpReply reply, bool keep_alive) {
  if (closed_) return;
  const AnswerFault fault = reply.fault;
  bytes_ = AnswerWireBytes(reply, fault.kind == AnswerFault::kCorruptChunk);
  keep_alive = keep_alive && !worker_->stopping;
  auto self = shared_from_this();
  switch (fault.kind) {
    case AnswerFault::kReset:
      WriteRange(0, CutPoint(bytes_, fault.after_bytes),
                 [self](beast::error_code) { self->ResetNow(); });
      return;
    case AnswerFault::kStall:
      WriteRange(0, CutPoint(bytes_, fault.after_bytes),
                 [self, fault](beast::error_code ec) {
                   if (ec) return self->CloseNow();
                   // Nothing more until the timeout (whose timer holds the
                   // session); the sweeper must not close it first.
                   self->deadline_ = Clock::time_point::max();
                   self->After(fault.timeout, [self] { self->CloseNow(); });
                 });
      return;
    case AnswerFault::kCorruptChunk:
      WriteRange(0, bytes_.size(),
                 [self](beast::error_code) { self->CloseNow(); });
      return;
    case AnswerFault::kDelayHeaders:
      deadline_ =
          Clock::now() + absl::ToChronoNanoseconds(
                             fault.delay + server_->limits().idle_timeout);
      After(fault.delay, [self, keep_alive] {
        self->WriteRange(0, self->bytes_.size(),
                         [self, keep_alive](beast::error_code ec) {
                           self->OnWrite(keep_alive, ec);
                         });
      });
      return;
    case AnswerFault::kSlow:
      WriteSlowly(
          0, static_cast<size_t>(std::max<int64_t>(1, fault.bytes_per_s / 10)),
          keep_alive);
      return;
    case AnswerFault::kNone:
      break;
  }
}

void Session::WriteRange(size_t from, size_t to,
                         absl::AnyInvocable<void(beast::error_code) &&> then) {
  if (closed_) return;
  // A peer that stops reading holds the session no longer than idle_timeout.
  deadline_ =
      Clock::now() + absl::ToChronoNanoseconds(server_->limits().idle_timeout);
  net::async_write(socket_, net::buffer(bytes_.data() + from, to - from),
                   [self = shared_from_this(), then = std::move(then)](
                       beast::error_code ec, size_t written) mutable {
                     self->CountOut(written);
                     if (self->closed_) return;
                     std::move(then)(ec);
                   });
}

void Session::WriteSlowly(size_t from, size_t slice, bool keep_alive) {
  const size_t to = std::min(bytes_.size(), from + slice);
  WriteRange(
      from, to,
      [self = shared_from_this(), to, slice, keep_alive](beast::error_code ec) {
        if (ec || to == self->bytes_.size()) {
          return self->OnWrite(keep_alive, ec);
        }
        self->After(absl::Milliseconds(100), [self, to, slice, keep_alive] {
          self->WriteSlowly(to, slice, keep_alive);
        });
      });
}

void Session::After(absl::Duration delay, absl::AnyInvocable<void() &&> then) {
  if (!timer_.has_value()) timer_.emplace(worker_->ioc);
  timer_->expires_after(absl::ToChronoNanoseconds(delay));
  timer_->async_wait([self = shared_from_this(),
                      then = std::move(then)](beast::error_code ec) mutable {
    if (ec || self->closed_) return;
    std::move(then)();
  });
}

void Session::ResetNow() {
  if (closed_) return;
  beast::error_code ignored;
  // Linger 0: close() sends RST instead of FIN (and before CloseNow, whose
  // shutdown would send a FIN).
  socket_.set_option(net::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
  CloseNow();
}

void Session::CloseNow() {
  if (closed_) return;
  closed_ = true;
  FinishExchange(/*cut=*/true);  // an answer still going out is cut short
  if (timer_.has_value()) timer_->cancel();  // a faulty answer's pause
  // The source goes now (an event stream's subscription holds this session
  // until then); what Beast's pending writes use stays until they complete.
  stream_.reset();
  deadline_ = Clock::time_point::max();
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  socket_.close(ignored);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, HttpHandler* handler,
    HttpObserver* observer) {
  if (handler == nullptr || observer == nullptr) {
    return absl::InvalidArgumentError("handler and observer are required");
  }
  if (options.limits.max_connections < 1) {
    return absl::InvalidArgumentError("max_connections must be >= 1");
  }
  auto server = std::make_unique<ServerImpl>(options, handler, observer);
  absl::Status listening = server->Listen();
  if (!listening.ok()) return listening;
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace kvstore::store
