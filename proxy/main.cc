// kvstore_test_proxy: the TestProxy gRPC server over kvstore::Client. Flags
// are parsed here and nowhere else.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/flags_help.h"
#include "common/port_file.h"
#include "proxy/proxy_server.h"
#include "proxy/proxy_service.h"

ABSL_FLAG(int, port, 9999,
          "TCP port to listen on; 0 picks a free one (printed)");
ABSL_FLAG(std::string, host, "127.0.0.1", "IP address to listen on");
ABSL_FLAG(std::string, port_file, "",
          "If set, write the bound port to this file once listening (for "
          "scripts and tests)");
ABSL_FLAG(bool, log_requests, false,
          "Log one line per RPC and its outcome to stderr");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(5),
          "On SIGINT/SIGTERM, how long RPCs in flight may take to finish");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "The kvstore test proxy (gRPC service kvstore.testproxy.v1.TestProxy). "
      "See README.md.\nUsage: kvstore_test_proxy [--port=N] [--port_file=F] "
      "...");
  kvstore::HelpListsFlagsOf("proxy/main.cc");
  absl::ParseCommandLine(argc, argv);
  // Debian's abseil is built with its debug checks on: every Mutex lock (gRPC
  // takes many) would consult a global lock graph.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const int port = absl::GetFlag(FLAGS_port);
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "kvstore_test_proxy: --port must be 0..65535\n");
    return 2;
  }

  // Signals are taken synchronously by sigwait below, so block them before
  // gRPC starts its threads (which inherit the mask).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  kvstore::proxy::ProxyOptions options;
  options.log_requests = absl::GetFlag(FLAGS_log_requests);
  kvstore::proxy::ProxyService service(options);

  kvstore::proxy::ProxyServerOptions server_options;
  server_options.host = absl::GetFlag(FLAGS_host);
  server_options.port = port;
  absl::StatusOr<std::unique_ptr<kvstore::proxy::ProxyServer>> started =
      kvstore::proxy::ProxyServer::Start(server_options, &service);
  if (!started.ok()) {
    std::fprintf(stderr, "kvstore_test_proxy: %s\n",
                 std::string(started.status().message()).c_str());
    return 1;
  }
  const int bound_port = (*started)->port();
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty()) {
    absl::Status written = kvstore::WritePortFile(port_file, bound_port);
    if (!written.ok()) {
      std::fprintf(stderr, "kvstore_test_proxy: --port_file: %s\n",
                   std::string(written.message()).c_str());
      return 1;
    }
  }
  std::printf("kvstore_test_proxy listening on %s:%d\n",
              absl::GetFlag(FLAGS_host).c_str(), bound_port);
  std::printf("  try: grpcurl -plaintext %s:%d list\n",
              absl::GetFlag(FLAGS_host).c_str(), bound_port);
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::fprintf(stderr, "kvstore_test_proxy: signal %d, shutting down\n",
               signal_number);
  (*started)->Shutdown(absl::Now() + absl::GetFlag(FLAGS_shutdown_grace));
  return 0;
}
