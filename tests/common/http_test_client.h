// A small blocking HTTP/1.1 client for tests: one keep-alive connection, sync
// Beast I/O with a receive timeout, and a raw mode for sending malformed bytes.
// Not thread-safe: one per thread.
#ifndef KVSTORE_TESTS_COMMON_HTTP_TEST_CLIENT_H_
#define KVSTORE_TESTS_COMMON_HTTP_TEST_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kvstore::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  bool keep_alive = true;
};

class HttpTestClient {
 public:
  // Connects to 127.0.0.1:port. Unavailable if the connection is refused.
  static absl::StatusOr<std::unique_ptr<HttpTestClient>> Connect(
      uint16_t port, absl::Duration timeout = absl::Seconds(30));
  ~HttpTestClient();

  // Sends one request and reads its response on the same connection.
  // Unavailable on a socket error or a closed connection (e.g. after the server
  // restarted).
  absl::StatusOr<HttpResult> Request(
      absl::string_view method, absl::string_view target,
      absl::string_view body = "",
      const std::map<std::string, std::string>& headers = {});
  absl::StatusOr<HttpResult> Get(absl::string_view target) {
    return Request("GET", target);
  }

  // Writes raw bytes; then ReadResponse() parses what comes back.
  absl::Status SendRaw(absl::string_view bytes);
  absl::StatusOr<HttpResult> ReadResponse();
  // True once the server has closed the connection (reads EOF within
  // `timeout`).
  bool WaitForClose(absl::Duration timeout);

 private:
  struct Impl;
  explicit HttpTestClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One request on a connection of its own, with Content-Type
// application/json; the errors of Connect and Request.
absl::StatusOr<HttpResult> RequestOnce(uint16_t port, absl::string_view method,
                                       absl::string_view target,
                                       absl::string_view body = "");

// Percent-encodes every byte outside [A-Za-z0-9-_.~].
std::string UrlEncode(absl::string_view bytes);

}  // namespace kvstore::testing

#endif  // KVSTORE_TESTS_COMMON_HTTP_TEST_CLIENT_H_
