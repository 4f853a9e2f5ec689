// An asynchronous HTTP/1.1 server on Boost.Beast/Asio with keep-alive and
// explicit limits.
//
// A connection costs a socket and a buffer, not a thread, so thousands of idle
// keep-alive connections and long-lived event streams do not starve other
// requests. Requests on one connection are handled one at a time, in
// order.
//
// Limits and their answers (the connection is closed after each, since the
// request stream can no longer be trusted): a request line longer than
// max_url_bytes -> 414; header fields beyond max_header_bytes -> 431; a body
// beyond max_body_bytes -> 413; an unparsable request -> 400; more than
// max_connections open -> 503 on the extra connection; no complete request
// within idle_timeout -> the connection is closed. Out of file descriptors,
// the server still answers 503 to waiting connections where it can and pauses
// accepting instead of spinning (descriptor_reserve.h).
//
// Thread-safety: Start/port/Shutdown may be called from any thread. The handler
// is called on I/O threads, concurrently for different connections.
#ifndef KVSTORE_STORE_HTTP_HTTP_SERVER_H_
#define KVSTORE_STORE_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/string_body.hpp"

namespace kvstore::store {

using HttpRequest =
    boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse =
    boost::beast::http::response<boost::beast::http::string_body>;

// The body of a streamed response, produced piece by piece and sent with
// chunked transfer encoding. The server pulls the next piece only once the
// previous one is written, so a slow reader holds back the producer and memory
// stays bounded; a client that goes away ends the stream (the source is
// destroyed without being drained). Used on the connection's I/O thread only.
//
// An event-driven source (event_driven() true, e.g. a Server-Sent-Events
// stream) is asked with NextAsync instead, and the server watches its
// connection meanwhile, so a client that goes away ends the stream (and
// destroys the source) at once, not at the next write.
class ChunkSource {
 public:
  using Piece = absl::StatusOr<std::optional<std::string>>;
  virtual ~ChunkSource() = default;
  // The next non-empty piece, or nullopt at the end. An error closes the
  // connection without finishing the body, which the client sees as a cut-off
  // stream.
  virtual Piece Next() = 0;

  virtual bool event_driven() const { return false; }
  // Calls `deliver` exactly once with the next piece (as Next()), from any
  // thread, possibly inline, unless the source is destroyed first; never
  // during or after the source's destruction. One call outstanding at a time.
  virtual void NextAsync(absl::AnyInvocable<void(Piece) &&> deliver) {
    std::move(deliver)(Next());
  }
};

// What the application tells an ExchangeSink about a request beyond what the
// server sees: the table and row keys it concerned.
struct ExchangeNote {
  std::string table;
  std::vector<std::string> row_keys;
};

// How to send an answer wrong, for error injection's transport faults. The
// answer is put on the wire as it would be (a stream's pieces all pulled
// first, chunked), then:
//   kReset: the first after_bytes go out, then a reset (RST);
//   kStall: the first after_bytes go out, then nothing: the connection stays
//     open until `timeout`, then closes;
//   kSlow: all of it, at bytes_per_s (a tenth of that every 100 ms);
//   kCorruptChunk: the head (chunked), a chunk with the first half of the
//     body (a stream's first piece), then a malformed chunk-size line, and
//     the connection closes;
//   kDelayHeaders: nothing for `delay`, then all of it.
// after_bytes -1 means the whole head and half the body (half the head when
// there is no body). Slow and delayed answers keep the connection alive.
struct AnswerFault {
  enum Kind { kNone, kReset, kStall, kSlow, kCorruptChunk, kDelayHeaders };
  Kind kind = kNone;
  int64_t after_bytes = -1;
  int64_t bytes_per_s = 1;
  absl::Duration timeout;
  absl::Duration delay;
};

// A response: whole, or (with `stream`) status and headers now, body streamed,
// or (Drop()) none at all: the connection is closed without an answer.
struct HttpReply {
  HttpReply(HttpResponse r)
      : response(std::move(r)) {}  // NOLINT: implicit on purpose
  HttpReply(HttpResponse r, std::unique_ptr<ChunkSource> s)
      : response(std::move(r)), stream(std::move(s)) {}
  // Closes the connection unanswered (counted in metrics as status 444, the
  // code nginx logs for the same).
  static HttpReply Drop() {
    HttpReply reply(
        HttpResponse{static_cast<boost::beast::http::status>(444), 11});
    reply.drop = true;
    return reply;
  }

  HttpResponse response;
  std::unique_ptr<ChunkSource> stream;
  bool drop = false;
  // Send the answer wrong (error injection's transport faults); not for an
  // event-driven stream.
  AnswerFault fault;
  ExchangeNote note;  // for the ExchangeSink, if any
};

// One request and its answer as the server saw them.
struct Exchange {
  uint64_t connection_id = 0;  // the server's own numbering, from 1
  std::string method;
  std::string target;      // as received, query included
  std::string tag;         // the X-Test-Tag header
  int http_status = 0;     // 0: closed without an answer (a drop)
  bool cut = false;        // the answer was not sent whole
  uint64_t bytes_in = 0;   // the request as read: head and body
  uint64_t bytes_out = 0;  // what was written of the answer
  absl::Time start;        // the request read whole
  absl::Time end;          // the answer written (or given up)
  ExchangeNote note;
};

// Told of every request a handler answered (a request the server refused
// itself is not an exchange), once its answer has been written or the
// connection has gone. Called on I/O threads, concurrently: thread-safe.
class ExchangeSink {
 public:
  virtual ~ExchangeSink() = default;
  virtual void ExchangeDone(Exchange exchange) = 0;
};

// With an ExchangeSink, the server stamps each request it hands to the
// handler with its connection id in this field (replacing one a client sent),
// so the handler can say which connection a request came on.
inline constexpr absl::string_view kConnectionIdField = "X-Kvstore-Connection";

// Application logic behind the server.
class HttpHandler {
 public:
  // Sends the reply; call exactly once, from any thread, during or after
  // Handle().
  using Respond = absl::AnyInvocable<void(HttpReply) &&>;

  virtual ~HttpHandler() = default;

  // Called on an I/O thread for each complete request. Must not block for long:
  // slow work goes elsewhere and answers through `respond` later. The server
  // sets keep-alive and Content-Length on the response.
  virtual void Handle(HttpRequest request, Respond respond) = 0;
};

// What the server reports of its connections and of the requests it answers
// itself; the store's metrics implement it. Called on I/O threads,
// concurrently, so implementations must be thread-safe and cheap.
class HttpObserver {
 public:
  virtual ~HttpObserver() = default;
  virtual void ConnectionOpened() = 0;
  virtual void ConnectionClosed() = 0;
  // A connection over max_connections (answered 503, then closed).
  virtual void ConnectionRejected() = 0;
  // accept() failed for want of descriptors or memory (EMFILE, ENFILE,
  // ENOBUFS, ENOMEM); see descriptor_reserve.h.
  virtual void AcceptShortage() = 0;
  // A request the server answered itself, before any handler saw it: an
  // unparsable request or one over a limit.
  virtual void RequestRefused(int http_status, absl::Duration latency) = 0;
};

struct HttpLimits {
  size_t max_url_bytes =
      128 * 1024;  // the request line (seed values travel in it)
  size_t max_header_bytes =
      16 * 1024;  // header fields, without the request line
  size_t max_body_bytes = 8 * 1024 * 1024;
  int max_connections = 4096;
  // Longest wait for a complete request (so also the longest idle keep-alive)
  // and for a response to be written.
  absl::Duration idle_timeout = absl::Seconds(60);
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4000;  // 0 picks a free port; see HttpServer::port()
  int threads = 1;       // I/O threads
  HttpLimits limits;
  ExchangeSink* exchange_sink = nullptr;  // not owned; outlives the server
};

class HttpServer {
 public:
  // Binds, listens and starts the I/O threads. `handler` and `observer` are
  // not owned and must outlive the server. Errors: InvalidArgument for a bad
  // host or option (or a null handler or observer), Unavailable if the address
  // cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, HttpHandler* handler,
      HttpObserver* observer);
  virtual ~HttpServer() = default;

  // The port actually bound.
  virtual uint16_t port() const = 0;

  // Stops accepting, closes idle connections, lets requests already being
  // handled finish and answer (with Connection: close) for up to `grace`, then
  // closes everything and joins the I/O threads. Idempotent; the destructor
  // calls it with no grace.
  virtual void Shutdown(absl::Duration grace) = 0;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_HTTP_HTTP_SERVER_H_
