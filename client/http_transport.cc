#include "client/http_transport.h"

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/buffer_body.hpp"
#include "boost/beast/http/empty_body.hpp"
#include "boost/beast/http/error.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"
#include "client/beast_messages.h"
#include "common/quote.h"

namespace kvstore {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr size_t kReadChunkBytes = 64 * 1024;

// One keep-alive connection with its own io_context: its operations run on
// whichever thread holds it, one thread at a time.
struct Connection {
  net::io_context ioc{1};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  absl::Time idle_since;
};

// Runs the connection's queued operation until its handler sets `done` (the
// stream's expiry bounds it).
void Run(Connection& c, const bool& done) {
  c.ioc.restart();
  while (!done && c.ioc.run_one() > 0) {
  }
}

absl::Status ErrorStatus(const beast::error_code& ec, absl::string_view what) {
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError(
        absl::StrCat(what, ": deadline exceeded"));
  }
  return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
}

class HttpTransport final : public Transport {
 public:
  HttpTransport(const HttpTransportOptions& options, tcp::endpoint endpoint)
      : options_(options),
        endpoint_(std::move(endpoint)),
        slots_(options.slots != nullptr
                   ? options.slots
                   : std::make_shared<RequestSlots>(options.pool_size)) {}

  absl::Status Exchange(const HttpRequestSpec& request, absl::Time deadline,
                        ResponseSink& sink) override {
    if (!slots_->Acquire(deadline)) {
      return absl::DeadlineExceededError(
          "deadline exceeded waiting for a pooled connection");
    }
    absl::Status status = ExchangeHoldingASlot(request, deadline, sink);
    slots_->Release();
    return status;
  }

 private:
  absl::Status ExchangeHoldingASlot(const HttpRequestSpec& request,
                                    absl::Time deadline, ResponseSink& sink) {
    absl::StatusOr<std::unique_ptr<Connection>> conn = Acquire(deadline);
    if (!conn.ok()) return conn.status();
    bool keep = false;
    absl::Status status = ExchangeOn(**conn, request, deadline, sink, &keep);
    if (status.ok() && keep) {
      Release(std::move(*conn));
    } else {
      Discard();  // broken, abandoned mid-body, or closed by the store
    }
    return status;
  }

  // An idle connection, or a new one once fewer than pool_size are open.
  absl::StatusOr<std::unique_ptr<Connection>> Acquire(absl::Time deadline) {
    {
      absl::MutexLock lock(&mu_);
      auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < options_.pool_size;
      };
      if (!mu_.AwaitWithDeadline(absl::Condition(&available), deadline)) {
        return absl::DeadlineExceededError(
            "deadline exceeded waiting for a pooled connection");
      }
      absl::Time now = absl::Now();
      while (!idle_.empty()) {
        std::unique_ptr<Connection> c = std::move(idle_.back());
        idle_.pop_back();
        if (now - c->idle_since < options_.max_idle) return c;
        --open_;  // too old: the store may be closing it
      }
      ++open_;
    }
    auto c = std::make_unique<Connection>();
    absl::Time connect_deadline =
        std::min(deadline, absl::Now() + options_.connect_timeout);
    c->stream.expires_after(
        absl::ToChronoNanoseconds(connect_deadline - absl::Now()));
    beast::error_code ec;
    bool done = false;
    c->stream.async_connect(endpoint_, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    Run(*c, done);
    if (ec) {
      Discard();
      // (A connect timeout before the call's deadline is a transport
      // failure, not the call running out of time.)
      if (ec == beast::error::timeout && absl::Now() >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("connecting to ", endpoint_.address().to_string(), ":",
                         endpoint_.port(), ": timed out"));
      }
      return absl::UnavailableError(
          absl::StrCat("connecting to ", endpoint_.address().to_string(), ":",
                       endpoint_.port(), ": ", ec.message()));
    }
    c->stream.socket().set_option(tcp::no_delay(true));
    return c;
  }

  void Release(std::unique_ptr<Connection> c) {
    c->idle_since = absl::Now();
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(c));
  }

  // Forgets a connection that was open (the caller destroys it).
  void Discard() {
    absl::MutexLock lock(&mu_);
    --open_;
  }

  absl::Status ExchangeOn(Connection& c, const HttpRequestSpec& spec,
                          absl::Time deadline, ResponseSink& sink, bool* keep) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("deadline exceeded before sending");
    }
    c.stream.expires_after(absl::ToChronoNanoseconds(left));

    http::request<http::string_body> req =
        internal::BeastRequest(spec, endpoint_.address().to_string());

    beast::error_code ec;
    bool done = false;
    http::async_write(c.stream, req, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    Run(c, done);
    if (ec) return ErrorStatus(ec, "sending the request");

    http::response_parser<http::buffer_body> parser;
    // A scan may be any size. (Not boost::none: Boost 1.74 compares a
    // Content-Length against an unset limit as if it were exceeded.)
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    done = false;
    http::async_read_header(c.stream, c.buffer, parser,
                            [&](beast::error_code e, size_t) {
                              ec = e;
                              done = true;
                            });
    Run(c, done);
    if (ec) return ErrorStatus(ec, "reading the response");
    const auto& head = parser.get();
    auto type = head[http::field::content_type];
    ResponseHead response_head;
    response_head.http_status = static_cast<int>(head.result_int());
    response_head.content_type = absl::string_view(type.data(), type.size());
    auto retry_after = head[http::field::retry_after];
    response_head.retry_after = internal::ParseRetryAfter(
        absl::string_view(retry_after.data(), retry_after.size()));
    sink.OnHead(response_head);

    std::vector<char> chunk(kReadChunkBytes);
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      done = false;
      // Whatever has arrived, not a full buffer: a stream of events must be
      // handed on as it comes.
      http::async_read_some(c.stream, c.buffer, parser,
                            [&](beast::error_code e, size_t) {
                              ec = e;
                              done = true;
                            });
      Run(c, done);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return ErrorStatus(ec, "reading the response body");
      size_t got = chunk.size() - parser.get().body().size;
      if (got > 0) {
        absl::Status consumed =
            sink.OnBody(absl::string_view(chunk.data(), got));
        if (!consumed.ok()) return consumed;
      }
    }
    *keep = parser.get().keep_alive();
    c.stream.expires_never();
    return absl::OkStatus();
  }

  const HttpTransportOptions options_;
  const tcp::endpoint endpoint_;
  const std::shared_ptr<RequestSlots> slots_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + in use
};

}  // namespace

absl::Status ParseEndpoint(absl::string_view endpoint, std::string* host,
                           uint16_t* port) {
  size_t colon = endpoint.rfind(':');
  uint32_t p = 0;
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(endpoint.substr(colon + 1), &p) || p == 0 ||
      p > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint ", Quote(endpoint), " is not ip:port"));
  }
  *host = std::string(endpoint.substr(0, colon));
  *port = static_cast<uint16_t>(p);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Transport>> NewHttpTransport(
    const HttpTransportOptions& options) {
  absl::StatusOr<tcp::endpoint> endpoint = internal::StoreEndpoint(options);
  if (!endpoint.ok()) return endpoint.status();
  return std::unique_ptr<Transport>(new HttpTransport(options, *endpoint));
}

}  // namespace kvstore
