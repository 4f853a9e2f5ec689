#include "store/http_server.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "boost/asio/bind_executor.hpp"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/error.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/write.hpp"

namespace kvstore::store {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr absl::Duration kRejectTimeout = absl::Seconds(1);

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

HttpResponse PlainResponse(http::status status, std::string body) {
  HttpResponse res{status, 11};
  res.set(http::field::content_type, "text/plain");
  res.body() = std::move(body);
  return res;
}

class ServerImpl;

// One client connection. Lives as long as a pending operation holds a
// shared_ptr to it.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerImpl* server, bool reject);
  ~Session();

  void Start();
  // Asks the session to finish: closes it now if idle, else after the current
  // response.
  void RequestStop();

 private:
  void ReadRequest();
  void OnRead(beast::error_code ec);
  void Dispatch();
  void Send(HttpResponse res, Route route_for_errors);
  void OnWrite(bool keep_alive, beast::error_code ec);
  void CloseNow();

  beast::tcp_stream stream_;
  ServerImpl* const server_;
  const bool reject_;  // over the connection limit: answer 503 once, then close
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<HttpResponse> response_;
  absl::Time request_start_;
  // The fields below are touched only on the session's strand.
  bool reading_ = false;
  bool stopping_ = false;
  bool closed_ = false;
};

class ServerImpl final : public HttpServer {
 public:
  ServerImpl(const HttpServerOptions& options, HttpHandler* handler,
             Metrics* metrics)
      : options_(options),
        handler_(handler),
        metrics_(metrics),
        work_(net::make_work_guard(ioc_)),
        acceptor_(net::make_strand(ioc_)) {}

  ~ServerImpl() override { Shutdown(absl::ZeroDuration()); }

  absl::Status Listen() {
    beast::error_code ec;
    net::ip::address address = net::ip::make_address(options_.host, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat(
          "host '", options_.host, "' is not an IP address: ", ec.message()));
    }
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options_.host, ":", options_.port,
                       ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    int threads = options_.threads < 1 ? 1 : options_.threads;
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
    return absl::OkStatus();
  }

  uint16_t port() const override { return port_; }

  void Shutdown(absl::Duration grace) override {
    if (shut_down_.exchange(true)) return;
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    std::vector<std::shared_ptr<Session>> live;
    {
      absl::MutexLock lock(&sessions_mu_);
      for (Session* s : sessions_) {
        if (auto sp = s->weak_from_this().lock()) live.push_back(std::move(sp));
      }
    }
    for (auto& s : live) s->RequestStop();
    live.clear();
    {
      absl::MutexLock lock(&sessions_mu_);
      sessions_mu_.AwaitWithTimeout(
          absl::Condition(
              +[](absl::flat_hash_set<Session*>* s) { return s->empty(); },
              &sessions_),
          grace);
    }
    work_.reset();
    ioc_.stop();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  const HttpLimits& limits() const { return options_.limits; }
  HttpHandler* handler() const { return handler_; }
  Metrics* metrics() const { return metrics_; }

  void Register(Session* s) {
    absl::MutexLock lock(&sessions_mu_);
    sessions_.insert(s);
  }
  void Unregister(Session* s) {
    absl::MutexLock lock(&sessions_mu_);
    sessions_.erase(s);
  }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec,
                                                          tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        bool reject =
            metrics_->open_connections() >= options_.limits.max_connections;
        if (reject) metrics_->ConnectionRejected();
        std::make_shared<Session>(std::move(socket), this, reject)->Start();
      }
      // Accept errors such as EMFILE are transient: keep accepting.
      Accept();
    });
  }

  const HttpServerOptions options_;
  HttpHandler* const handler_;
  Metrics* const metrics_;
  // Declared before ioc_: sessions still queued in ioc_ unregister themselves
  // when it is destroyed.
  absl::Mutex sessions_mu_;
  absl::flat_hash_set<Session*> sessions_ ABSL_GUARDED_BY(sessions_mu_);
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> shut_down_{false};
};

Session::Session(tcp::socket socket, ServerImpl* server, bool reject)
    : stream_(std::move(socket)), server_(server), reject_(reject) {
  server_->metrics()->ConnectionOpened();
  server_->Register(this);
}

Session::~Session() {
  server_->metrics()->ConnectionClosed();
  server_->Unregister(this);
}

void Session::Start() {
  net::dispatch(stream_.get_executor(),
                [self = shared_from_this()] { self->ReadRequest(); });
}

void Session::RequestStop() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    if (self->reading_) self->CloseNow();
  });
}

void Session::ReadRequest() {
  if (stopping_) {
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
  stream_.expires_after(
      ToChrono(reject_ ? kRejectTimeout : limits.idle_timeout));
  reading_ = true;
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     self->OnRead(ec);
                   });
}

void Session::OnRead(beast::error_code ec) {
  reading_ = false;
  request_start_ = absl::Now();
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
           Route::kInvalid);
    } else {
      Send(PlainResponse(http::status::request_header_fields_too_large,
                         absl::StrCat("header fields exceed ",
                                      limits.max_header_bytes, " bytes")),
           Route::kInvalid);
    }
    return;
  }
  if (ec == http::error::body_limit) {
    Send(PlainResponse(
             http::status::payload_too_large,
             absl::StrCat("body exceeds ", limits.max_body_bytes, " bytes")),
         Route::kInvalid);
    return;
  }
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == net::error::operation_aborted ||
      ec == net::error::connection_reset || ec == net::error::eof) {
    CloseNow();
    return;
  }
  if (ec) {
    if (ec.category() ==
        http::make_error_code(http::error::bad_target).category()) {
      Send(
          PlainResponse(http::status::bad_request,
                        absl::StrCat("malformed HTTP request: ", ec.message())),
          Route::kInvalid);
    } else {
      CloseNow();  // a socket error: nobody to answer
    }
    return;
  }
  if (reject_) {
    Send(PlainResponse(http::status::service_unavailable,
                       absl::StrCat("too many connections (limit ",
                                    limits.max_connections, "); retry later")),
         Route::kInvalid);
    return;
  }
  const HttpRequest& req = parser_->get();
  if (req.target().size() > limits.max_url_bytes) {
    Send(PlainResponse(http::status::uri_too_long,
                       absl::StrCat("request target exceeds ",
                                    limits.max_url_bytes, " bytes")),
         Route::kInvalid);
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
         Route::kInvalid);
    return;
  }
  Dispatch();
}

void Session::Dispatch() {
  HttpRequest req = parser_->release();
  bool keep_alive = req.keep_alive();
  server_->handler()->Handle(std::move(req), [self = shared_from_this(),
                                              keep_alive](HttpResponse res) {
    // Runs inline when answered on the session's own strand, else is posted to
    // it.
    net::dispatch(self->stream_.get_executor(),
                  [self, keep_alive, res = std::move(res)]() mutable {
                    res.keep_alive(keep_alive);
                    self->Send(std::move(res), Route::kCount);
                  });
  });
}

// `route_for_errors` != kCount means the server made this response itself (a
// limit or parse error): count it, and close the connection afterwards.
void Session::Send(HttpResponse res, Route route_for_errors) {
  bool server_error = route_for_errors != Route::kCount;
  if (server_error) {
    server_->metrics()->RecordRequest(route_for_errors, res.result_int(),
                                      absl::Now() - request_start_);
  }
  bool keep_alive = !server_error && res.keep_alive() && !stopping_;
  res.keep_alive(keep_alive);
  res.set(http::field::server, "kvstore");
  res.prepare_payload();
  response_.emplace(std::move(res));
  stream_.expires_after(ToChrono(server_->limits().idle_timeout));
  http::async_write(
      stream_, *response_,
      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
        self->OnWrite(keep_alive, ec);
      });
}

void Session::OnWrite(bool keep_alive, beast::error_code ec) {
  response_.reset();
  if (ec || !keep_alive) {
    CloseNow();
    return;
  }
  ReadRequest();
}

void Session::CloseNow() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.close();
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, HttpHandler* handler, Metrics* metrics) {
  if (handler == nullptr || metrics == nullptr) {
    return absl::InvalidArgumentError("handler and metrics are required");
  }
  if (options.limits.max_connections < 1) {
    return absl::InvalidArgumentError("max_connections must be >= 1");
  }
  auto server = std::make_unique<ServerImpl>(options, handler, metrics);
  absl::Status listening = server->Listen();
  if (!listening.ok()) return listening;
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace kvstore::store
