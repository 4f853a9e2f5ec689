// The asynchronous HTTP layer under kvstore::Client's Async* calls, as an
// interface so the client's logic can be unit-tested against a fake (see
// tests/client/fake_async_transport.h).
//
// Thread-safety: Exchange and RunAfter may be called from many threads at
// once. Callbacks run on the transport's own thread (its I/O thread), never
// inside the call that passed them, and must not block.
#ifndef KVSTORE_CLIENT_ASYNC_TRANSPORT_H_
#define KVSTORE_CLIENT_ASYNC_TRANSPORT_H_

#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/transport.h"

namespace kvstore {

// A whole response (the asynchronous path serves unary calls only).
struct HttpResponse {
  int http_status = 0;
  std::string content_type;
  std::optional<absl::Duration> retry_after;  // a Retry-After in seconds
  std::string body;
};

class AsyncTransport {
 public:
  using ExchangeDone = absl::AnyInvocable<void(absl::StatusOr<HttpResponse>)>;

  // Destroying a transport ends whatever is still pending (see CancelAll),
  // and returns once every callback has run. It must not be destroyed from
  // one of its own callbacks.
  virtual ~AsyncTransport() = default;

  // Sends `request` and calls `done` once with the whole response, or with
  // DEADLINE_EXCEEDED once `deadline` passes, UNAVAILABLE if the store cannot
  // be reached or the connection breaks, CANCELLED if the transport is being
  // destroyed.
  virtual void Exchange(HttpRequestSpec request, absl::Time deadline,
                        ExchangeDone done) = 0;

  // Calls `fn` once, after `delay` (at once once CancelAll was called).
  virtual void RunAfter(absl::Duration delay,
                        absl::AnyInvocable<void()> fn) = 0;

  // Ends every exchange in flight or queued with CANCELLED (or with its
  // answer, if that had already arrived), runs pending
  // RunAfter functions at once, and answers later exchanges CANCELLED. The
  // callbacks run on the transport's thread, possibly after this returns.
  // Idempotent; the destructor calls it.
  virtual void CancelAll() = 0;
};

}  // namespace kvstore

#endif  // KVSTORE_CLIENT_ASYNC_TRANSPORT_H_
