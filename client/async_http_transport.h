// AsyncTransport over HTTP/1.1 keep-alive connections (Boost.Beast), pooled,
// all driven by one I/O thread that the transport starts on its first call.
//
// At most `pool_size` connections are open at once; an exchange that finds
// them all busy waits for one, in order, until its deadline. Idle connections
// older than `max_idle` are not reused (see HttpTransportOptions).
//
// Thread-safe. Owns its thread and connections; destroying it ends pending
// exchanges with CANCELLED and joins the thread (see AsyncTransport).
#ifndef KVSTORE_CLIENT_ASYNC_HTTP_TRANSPORT_H_
#define KVSTORE_CLIENT_ASYNC_HTTP_TRANSPORT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "client/async_transport.h"
#include "client/http_transport.h"

namespace kvstore {

// InvalidArgument for a bad host or pool size.
absl::StatusOr<std::unique_ptr<AsyncTransport>> NewAsyncHttpTransport(
    const HttpTransportOptions& options);

}  // namespace kvstore

#endif  // KVSTORE_CLIENT_ASYNC_HTTP_TRANSPORT_H_
