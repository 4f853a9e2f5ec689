// kvstore_server: the HTTP key-value store. Flags are parsed here and nowhere
// else.
#include <signal.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "boost/asio/ip/address.hpp"
#include "common/flags_help.h"
#include "common/port_file.h"
#include "store/server/file_limit.h"
#include "store/server/server.h"

ABSL_FLAG(uint16_t, port, 4000,
          "TCP port to listen on; 0 picks a free one (printed)");
ABSL_FLAG(std::string, port_file, "",
          "If set, write the bound port to this file once listening (for "
          "scripts and tests)");
ABSL_FLAG(std::string, host, "127.0.0.1", "IP address to listen on");
ABSL_FLAG(std::string, data_dir, "./kvstore-data",
          "Directory of the RocksDB database");
ABSL_FLAG(bool, in_memory, false,
          "Keep all data in memory: nothing is written to disk");
ABSL_FLAG(std::string, fsync, "always",
          "always: acknowledge a write once durable (concurrent writers share "
          "an fsync); "
          "everysec: fsync once a second; never: leave it to the OS");
ABSL_FLAG(int, threads, 1, "HTTP I/O threads");
ABSL_FLAG(int, write_shards, 1, "Writer threads of the group-commit queue");
ABSL_FLAG(uint64_t, block_cache_mb, 256,
          "RocksDB block cache for uncompressed data blocks, in MiB");
ABSL_FLAG(uint64_t, block_kb, 64,
          "Size of an SST data block, in KiB (1-1024): bigger scans faster, "
          "smaller costs less disk per cold point read");
ABSL_FLAG(uint64_t, sample_split_kb, 1024,
          "Distance between the split points :sampleRowKeys reports, in KiB "
          "of the table's stored keys and values (>= 1)");
ABSL_FLAG(uint64_t, row_cache_mb, 32,
          "Cache of whole rows for one-row reads, in MiB (0: off); writes "
          "invalidate their rows before they are acknowledged");
ABSL_FLAG(uint64_t, memtable_mb, 8,
          "RocksDB memtable size before a flush, in MiB (small keeps point "
          "reads of often-overwritten keys fast)");
ABSL_FLAG(int, max_connections, 4096,
          "Open connections allowed; extra ones get a 503");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(60),
          "Longest wait for a complete request on a connection (idle "
          "keep-alive included)");
ABSL_FLAG(uint32_t, max_url_bytes, 128 * 1024,
          "Longest request line (414 beyond)");
ABSL_FLAG(uint32_t, max_header_bytes, 16 * 1024,
          "Largest header fields (431 beyond)");
ABSL_FLAG(uint64_t, max_body_bytes, 8 * 1024 * 1024,
          "Largest request body (413 beyond)");
ABSL_FLAG(uint64_t, max_value_bytes, 4 * 1024 * 1024, "Largest cell value");
ABSL_FLAG(bool, error_injection, false,
          "Serve /v2/error_injection (arm injection points, their event "
          "stream); for tests, never in production");
ABSL_FLAG(bool, allow_remote_error_injection, false,
          "Allow --error_injection with a --host other than loopback (anyone "
          "who reaches the port can then arm faults, crash included)");
ABSL_FLAG(uint64_t, injection_history, 10000,
          "Error-injection events kept for replay (Last-Event-ID, ?since=)");
ABSL_FLAG(bool, request_journal, true,
          "With --error_injection: record every request in the journal "
          "(/v2/journal; it shares --injection_history with the events)");
ABSL_FLAG(std::string, cors_origin, "",
          "Send Access-Control-Allow-Origin: this on every answer (and answer "
          "CORS preflights), so pages of that origin may use the store's "
          "JSON and event routes; empty: no CORS header (the console, served "
          "by the store itself, needs none)");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGINT/SIGTERM, how long requests in flight may take to finish");

namespace {

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopback(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  boost::asio::ip::address address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

// The server's configuration from the flags; InvalidArgument for a bad one.
absl::StatusOr<kvstore::store::ServerConfig> ConfigFromFlags() {
  kvstore::store::ServerConfig config;
  auto sync = kvstore::store::ParseSyncMode(absl::GetFlag(FLAGS_fsync));
  if (!sync.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--fsync: ", sync.status().message()));
  }
  config.engine.sync = *sync;
  config.engine.data_dir = absl::GetFlag(FLAGS_data_dir);
  config.engine.in_memory = absl::GetFlag(FLAGS_in_memory);
  config.engine.write_shards = absl::GetFlag(FLAGS_write_shards);
  config.engine.max_value_bytes = absl::GetFlag(FLAGS_max_value_bytes);
  config.engine.block_cache_bytes = absl::GetFlag(FLAGS_block_cache_mb) << 20;
  config.engine.block_bytes = absl::GetFlag(FLAGS_block_kb) << 10;
  config.engine.memtable_bytes = absl::GetFlag(FLAGS_memtable_mb) << 20;
  config.engine.row_cache_bytes = absl::GetFlag(FLAGS_row_cache_mb) << 20;
  config.engine.sample_split_bytes = absl::GetFlag(FLAGS_sample_split_kb) << 10;
  config.error_injection = absl::GetFlag(FLAGS_error_injection);
  config.injection.events.history = absl::GetFlag(FLAGS_injection_history);
  config.request_journal = absl::GetFlag(FLAGS_request_journal);
  config.cors_origin = absl::GetFlag(FLAGS_cors_origin);
  config.http.host = absl::GetFlag(FLAGS_host);
  config.http.port = absl::GetFlag(FLAGS_port);
  config.http.threads = absl::GetFlag(FLAGS_threads);
  config.http.limits.max_connections = absl::GetFlag(FLAGS_max_connections);
  config.http.limits.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  config.http.limits.max_url_bytes = absl::GetFlag(FLAGS_max_url_bytes);
  config.http.limits.max_header_bytes = absl::GetFlag(FLAGS_max_header_bytes);
  config.http.limits.max_body_bytes = absl::GetFlag(FLAGS_max_body_bytes);
  if (config.error_injection && !IsLoopback(config.http.host) &&
      !absl::GetFlag(FLAGS_allow_remote_error_injection)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--error_injection on --host=", config.http.host,
        " would let anyone who reaches it arm faults (crash included); "
        "listen on loopback, or add --allow_remote_error_injection"));
  }
  return config;
}

// Raises the descriptor limit and lowers max_connections to what fits in it,
// with a warning (see store/server/file_limit.h). False, with the reason
// printed, when too few connections would fit.
bool FitConnectionsToFileLimit(kvstore::store::ServerConfig* config) {
  int& wanted = config->http.limits.max_connections;
  absl::StatusOr<kvstore::store::ConnectionBudget> budget =
      kvstore::store::RaiseFileLimitFor(wanted);
  if (!budget.ok()) {
    std::fprintf(stderr, "kvstore_server: %s\n",
                 std::string(budget.status().message()).c_str());
    return false;
  }
  if (budget->connections < wanted) {
    std::fprintf(
        stderr,
        "kvstore_server: warning: --max_connections=%d does not fit the "
        "file-descriptor limit %llu (the store keeps %llu for itself): "
        "serving at most %d connections; raise the limit (ulimit -n, "
        "ulimit -Hn) to %llu for all of them\n",
        wanted, static_cast<unsigned long long>(budget->limit),
        static_cast<unsigned long long>(budget->reserved), budget->connections,
        static_cast<unsigned long long>(kvstore::store::LimitFor(wanted)));
    wanted = budget->connections;
  }
  return true;
}

// Prints where the server listens and how to try it.
void PrintBanner(const kvstore::store::ServerConfig& config, uint16_t port) {
  std::string where = absl::StrCat(config.http.host, ":", port);
  std::printf(
      "kvstore_server listening on http://%s (storage: %s, fsync=%s)\n"
      "  try: curl 'http://%s/set?hello=world' && curl "
      "'http://%s/get?key=hello'\n",
      where.c_str(),
      config.engine.in_memory ? "in memory" : config.engine.data_dir.c_str(),
      config.engine.in_memory
          ? "n/a"
          : std::string(kvstore::store::SyncModeName(config.engine.sync))
                .c_str(),
      where.c_str(), where.c_str());
  if (config.error_injection) {
    std::printf(
        "  error injection on: curl http://%s/v2/error_injection/points\n",
        where.c_str());
    if (!IsLoopback(config.http.host)) {
      std::printf(
          "  WARNING: error injection is reachable from the network "
          "(--allow_remote_error_injection)\n");
    }
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "The kvstore HTTP key-value store. See README.md.\n"
      "Usage: kvstore_server [--port=N] [--data_dir=DIR | --in_memory] ...");
  kvstore::HelpListsFlagsOf("store/server/main.cc");
  absl::ParseCommandLine(argc, argv);
  // Debian's abseil is built with its debug checks on, which makes every
  // Mutex lock consult a global lock graph. The tests keep the checks; the
  // server does not pay for them.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  absl::StatusOr<kvstore::store::ServerConfig> parsed = ConfigFromFlags();
  if (!parsed.ok()) {
    std::fprintf(stderr, "kvstore_server: %s\n",
                 std::string(parsed.status().message()).c_str());
    return 2;
  }
  kvstore::store::ServerConfig& config = *parsed;

  // Block the stop signals in every thread; main() waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  if (!FitConnectionsToFileLimit(&config)) return 2;

  auto server = kvstore::store::KvServer::Start(config);
  if (!server.ok()) {
    std::fprintf(stderr, "kvstore_server: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  uint16_t port = (*server)->port();
  PrintBanner(config, port);
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty()) {
    absl::Status written = kvstore::WritePortFile(port_file, port);
    if (!written.ok()) {
      std::fprintf(stderr, "kvstore_server: --port_file: %s\n",
                   std::string(written.message()).c_str());
      return 1;
    }
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::printf("kvstore_server: signal %d, shutting down\n", signal_number);
  std::fflush(stdout);
  absl::Status closed =
      (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  if (!closed.ok()) {
    std::fprintf(stderr, "kvstore_server: %s\n", closed.ToString().c_str());
    return 1;
  }
  std::printf("kvstore_server: stopped cleanly\n");
  return 0;
}
