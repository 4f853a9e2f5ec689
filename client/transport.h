// The HTTP layer under kvstore::Client, as an interface so the client's logic
// can be unit-tested against a fake (see tests/client/fake_transport.h).
//
// Thread-safety: Exchange may be called from many threads at once.
#ifndef KVSTORE_CLIENT_TRANSPORT_H_
#define KVSTORE_CLIENT_TRANSPORT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kvstore {

struct HttpRequestSpec {
  std::string method;  // "GET", "POST" or "DELETE"
  std::string target;  // e.g. "/v1/tables/t:mutateRow"
  std::string body;    // empty for none
  std::string content_type = "application/x-protobuf";  // of a body
  std::string accept = "application/x-protobuf";
  std::vector<std::pair<std::string, std::string>> headers;  // any others
};

// The status line and the headers a client acts on.
struct ResponseHead {
  int http_status = 0;
  absl::string_view content_type;
  std::optional<absl::Duration> retry_after;  // a Retry-After in seconds
};

// Receives one response as it arrives, on the thread that called Exchange.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // Before any body bytes. (`head.content_type` lives during the call.)
  virtual void OnHead(const ResponseHead& head) = 0;
  // The next body bytes, in order. A non-OK result stops the exchange (the
  // connection is dropped, so the server stops sending) and Exchange returns
  // it.
  virtual absl::Status OnBody(absl::string_view bytes) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Sends `request` and feeds the response to `sink` until the body ends.
  // Errors: DeadlineExceeded once `deadline` passes; Unavailable if the store
  // cannot be reached or the connection breaks before the response is whole;
  // the sink's own error.
  virtual absl::Status Exchange(const HttpRequestSpec& request,
                                absl::Time deadline, ResponseSink& sink) = 0;
};

}  // namespace kvstore

#endif  // KVSTORE_CLIENT_TRANSPORT_H_
