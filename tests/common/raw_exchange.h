// Raw HTTP over a loopback socket, for tests that must see exactly what the
// server put on the wire and how it ended the connection (a reset or a clean
// close), or read the head of an answer that never ends (an event stream).
// Blocking; each call uses a connection of its own. Thread-safe.
#ifndef KVSTORE_TESTS_COMMON_RAW_EXCHANGE_H_
#define KVSTORE_TESTS_COMMON_RAW_EXCHANGE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kvstore::testing {

// A new connection to 127.0.0.1:`port` with `request` written on it; -1 if
// either fails. The caller closes it.
int ConnectAndSend(uint16_t port, absl::string_view request);

// What a client read of one answer, and how the connection ended.
struct RawAnswer {
  std::string bytes;
  bool reset = false;   // ECONNRESET
  bool closed = false;  // an orderly close (FIN)
};

// Sends `request` and reads until the server closes or resets the
// connection, or nothing arrives for 60 s (neither flag set).
RawAnswer ExchangeUntilClosed(uint16_t port, absl::string_view request);

// Sends `request` and reads until `want` shows up, the server closes the
// connection, or `timeout` passes; returns what arrived.
std::string ReadUntil(uint16_t port, absl::string_view request,
                      absl::string_view want, absl::Duration timeout);

}  // namespace kvstore::testing

#endif  // KVSTORE_TESTS_COMMON_RAW_EXCHANGE_H_
