// Transport over HTTP/1.1 keep-alive connections (Boost.Beast), pooled.
//
// At most `pool_size` connections are open at once; a call that finds them all
// busy waits for one (until its deadline). Idle connections are reused, except
// those idle longer than `max_idle` (kept below the store's idle timeout, so a
// reused connection is not one the store is closing). Each exchange runs on
// the calling thread with its own deadline on every socket operation.
//
// Thread-safe. Owns its connections; destroying it closes them (no exchange may
// be running then).
#ifndef KVSTORE_CLIENT_HTTP_TRANSPORT_H_
#define KVSTORE_CLIENT_HTTP_TRANSPORT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/request_slots.h"
#include "client/transport.h"

namespace kvstore {

struct HttpTransportOptions {
  std::string host = "127.0.0.1";  // an IP address
  uint16_t port = 4000;
  absl::Duration connect_timeout = absl::Seconds(5);
  int pool_size = 16;  // >= 1
  absl::Duration max_idle = absl::Seconds(30);
  // Shared with the client's other transport, so that pool_size bounds the
  // client's requests in flight whatever path they take. Null: the
  // transport's own, of pool_size.
  std::shared_ptr<RequestSlots> slots;
};

// Parses an endpoint "ip:port" into `host` and `port`. InvalidArgument if
// malformed (what every client of this directory takes as its target).
absl::Status ParseEndpoint(absl::string_view endpoint, std::string* host,
                           uint16_t* port);

// InvalidArgument for a bad host or pool size.
absl::StatusOr<std::unique_ptr<Transport>> NewHttpTransport(
    const HttpTransportOptions& options);

}  // namespace kvstore

#endif  // KVSTORE_CLIENT_HTTP_TRANSPORT_H_
