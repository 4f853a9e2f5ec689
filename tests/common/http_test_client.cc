#include "tests/common/http_test_client.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http.hpp"

namespace kvstore::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct HttpTestClient::Impl {
  net::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
};

HttpTestClient::HttpTestClient(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
HttpTestClient::~HttpTestClient() = default;

absl::StatusOr<std::unique_ptr<HttpTestClient>> HttpTestClient::Connect(
    uint16_t port, absl::Duration timeout) {
  auto impl = std::make_unique<Impl>();
  beast::error_code ec;
  impl->socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                       ec);
  if (ec)
    return absl::UnavailableError(absl::StrCat("connect: ", ec.message()));
  timeval tv = absl::ToTimeval(timeout);
  setsockopt(impl->socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv,
             sizeof(tv));
  setsockopt(impl->socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv,
             sizeof(tv));
  impl->socket.set_option(tcp::no_delay(true), ec);
  return std::unique_ptr<HttpTestClient>(new HttpTestClient(std::move(impl)));
}

absl::StatusOr<HttpResult> HttpTestClient::Request(
    absl::string_view method, absl::string_view target, absl::string_view body,
    const std::map<std::string, std::string>& headers) {
  http::request<http::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::string(body);
  req.prepare_payload();
  beast::error_code ec;
  http::write(impl_->socket, req, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("write: ", ec.message()));
  return ReadResponse();
}

absl::Status HttpTestClient::SendRaw(absl::string_view bytes) {
  beast::error_code ec;
  net::write(impl_->socket, net::buffer(bytes.data(), bytes.size()), ec);
  if (ec) return absl::UnavailableError(absl::StrCat("write: ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<HttpResult> HttpTestClient::ReadResponse() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ull << 30);
  beast::error_code ec;
  http::read(impl_->socket, impl_->buffer, parser, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("read: ", ec.message()));
  const auto& res = parser.get();
  HttpResult result;
  result.status = res.result_int();
  result.body = res.body();
  result.keep_alive = res.keep_alive();
  for (const auto& field : res) {
    result.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
        std::string(field.value());
  }
  return result;
}

bool HttpTestClient::WaitForClose(absl::Duration timeout) {
  timeval tv = absl::ToTimeval(timeout);
  setsockopt(impl_->socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv,
             sizeof(tv));
  char byte;
  while (true) {
    beast::error_code ec;
    impl_->socket.read_some(net::buffer(&byte, 1), ec);
    if (ec == net::error::eof || ec == net::error::connection_reset)
      return true;
    if (ec) return false;  // timeout or other error: not closed
  }
}

std::string UrlEncode(absl::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

absl::StatusOr<HttpResult> RequestOnce(uint16_t port, absl::string_view method,
                                       absl::string_view target,
                                       absl::string_view body) {
  absl::StatusOr<std::unique_ptr<HttpTestClient>> client =
      HttpTestClient::Connect(port);
  if (!client.ok()) return client.status();
  return (*client)->Request(method, target, body,
                            {{"Content-Type", "application/json"}});
}

}  // namespace kvstore::testing
