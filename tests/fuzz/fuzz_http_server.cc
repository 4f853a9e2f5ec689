// libFuzzer target: the HTTP server end to end, in process. Each input is
// written as raw bytes to a fresh loopback connection of a real HttpServer
// (Beast parser, the session's limits, keep-alive and pipelining) in front of
// the real router and an in-memory store; then the write side is shut and
// the answer read to the end. The server must answer or close, never hang
// (10 s) or crash. Error injection is off here (its `crash` action would end
// the run): fuzz_injection_params covers its parameters.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using kvstore::fuzz::Check;

struct Harness {
  kvstore::fuzz::InProcessStore store;
  kvstore::store::Metrics metrics;
  std::unique_ptr<kvstore::store::HttpServer> server;

  void Restart() {
    server.reset();  // joins its threads: nothing uses the old store after
    store.Rebuild();
    kvstore::store::HttpServerOptions options;
    options.port = 0;
    options.limits.max_url_bytes = 8 * 1024;
    options.limits.max_header_bytes = 8 * 1024;
    options.limits.max_body_bytes = 64 * 1024;
    options.limits.max_connections = 64;
    options.limits.idle_timeout = absl::Seconds(5);
    auto started =
        kvstore::store::HttpServer::Start(options, &store.router(), &metrics);
    Check(started.ok(), "start the server");
    server = std::move(*started);
  }
};

int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  Check(fd >= 0, "socket");
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  // close() resets instead of leaving TIME_WAIT behind: hundreds of
  // thousands of connections would use up the ephemeral ports.
  linger reset{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Check(
      connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0,
      "connect");
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* harness = new Harness();
  if (harness->store.NextInputRebuilds()) harness->Restart();
  int fd = Connect(harness->server->port());
  // The server may answer and close before reading everything: a failed
  // send is fine.
  for (size_t sent = 0; sent < size;) {
    ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  char buffer[64 * 1024];
  while (true) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n > 0) continue;
    Check(!(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)),
          "the server neither answered nor closed within 10 s");
    break;  // EOF or a reset
  }
  close(fd);
  return 0;
}
