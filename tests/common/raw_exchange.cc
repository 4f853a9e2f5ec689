#include "tests/common/raw_exchange.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/match.h"
#include "absl/time/clock.h"

namespace kvstore::testing {
namespace {

void SetReceiveTimeout(int fd, absl::Duration timeout) {
  timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

}  // namespace

int ConnectAndSend(uint16_t port, absl::string_view request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      send(fd, request.data(), request.size(), 0) ==
          static_cast<ssize_t>(request.size())) {
    return fd;
  }
  close(fd);
  return -1;
}

RawAnswer ExchangeUntilClosed(uint16_t port, absl::string_view request) {
  RawAnswer answer;
  const int fd = ConnectAndSend(port, request);
  if (fd < 0) return answer;
  SetReceiveTimeout(fd, absl::Seconds(60));
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      answer.bytes.append(buf, static_cast<size_t>(n));
      continue;
    }
    answer.closed = n == 0;
    answer.reset = n < 0 && errno == ECONNRESET;
    break;
  }
  close(fd);
  return answer;
}

std::string ReadUntil(uint16_t port, absl::string_view request,
                      absl::string_view want, absl::Duration timeout) {
  std::string got;
  const int fd = ConnectAndSend(port, request);
  if (fd < 0) return got;
  SetReceiveTimeout(fd, absl::Milliseconds(100));
  const absl::Time end = absl::Now() + timeout;
  char buf[4096];
  while (absl::Now() < end && !absl::StrContains(got, want)) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return got;
}

}  // namespace kvstore::testing
