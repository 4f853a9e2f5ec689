// What the two HTTP transports (http_transport.cc, async_http_transport.cc)
// share: checking their options, the Beast request for an HttpRequestSpec and
// the reading of a Retry-After header. Not a public API. Thread-safe (no
// state).
#ifndef KVSTORE_CLIENT_BEAST_MESSAGES_H_
#define KVSTORE_CLIENT_BEAST_MESSAGES_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/string_body.hpp"
#include "client/http_transport.h"
#include "client/transport.h"

namespace kvstore::internal {

// The store's address from `options`; InvalidArgument for a host that is not
// an IP address or a pool size below 1.
inline absl::StatusOr<boost::asio::ip::tcp::endpoint> StoreEndpoint(
    const HttpTransportOptions& options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError("pool_size must be >= 1");
  }
  boost::system::error_code ec;
  boost::asio::ip::address address =
      boost::asio::ip::make_address(options.host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("host '", options.host, "' is not an IP address"));
  }
  return boost::asio::ip::tcp::endpoint(address, options.port);
}

// A keep-alive HTTP/1.1 request for `spec`, sent to `host`.
inline boost::beast::http::request<boost::beast::http::string_body>
BeastRequest(const HttpRequestSpec& spec, const std::string& host) {
  namespace http = boost::beast::http;
  http::request<http::string_body> req;
  req.method_string(spec.method);
  req.target(spec.target);
  req.version(11);
  req.set(http::field::host, host);
  req.set(http::field::accept, spec.accept);
  if (!spec.body.empty()) req.set(http::field::content_type, spec.content_type);
  for (const auto& [name, value] : spec.headers) req.set(name, value);
  req.keep_alive(true);
  req.body() = spec.body;
  req.prepare_payload();
  return req;
}

// A Retry-After in seconds; nullopt if absent or not a count of seconds.
inline std::optional<absl::Duration> ParseRetryAfter(absl::string_view value) {
  int64_t seconds;
  if (value.empty() || !absl::SimpleAtoi(value, &seconds) || seconds < 0) {
    return std::nullopt;
  }
  return absl::Seconds(seconds);
}

}  // namespace kvstore::internal

#endif  // KVSTORE_CLIENT_BEAST_MESSAGES_H_
