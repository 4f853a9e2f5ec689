// Runs the real kvstore_server binary as a child process for integration tests:
// on port 0, with
// --port_file, so tests never race for ports.
//
// Not thread-safe; one object per child. The destructor kills a child still
// running (SIGKILL), and the child is killed too if the test process dies
// (PR_SET_PDEATHSIG, which follows the thread that called Start: call it
// from a thread that outlives the child, such as the test's own).
#ifndef KVSTORE_TESTS_COMMON_SERVER_PROCESS_H_
#define KVSTORE_TESTS_COMMON_SERVER_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kvstore::testing {

class ServerProcess {
 public:
  // Starts `binary` with `args` plus --port=0 and --port_file, and waits (up to
  // `timeout`) for it to listen. Errors: Internal if it cannot be started,
  // DeadlineExceeded if it never listens, Unavailable if it exits first (its
  // exit status in the message).
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      absl::Duration timeout = absl::Seconds(30));

  struct Options {
    absl::Duration timeout = absl::Seconds(30);
    // If > 0, the child's file-descriptor limit (RLIMIT_NOFILE, soft and
    // hard), set before it starts.
    int file_limit = 0;
  };
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      const Options& options);
  ~ServerProcess();

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Sends `signal` and waits for the child to exit; returns its wait() status.
  absl::StatusOr<int> Signal(int signal,
                             absl::Duration timeout = absl::Seconds(30));
  // SIGTERM, then checks that the child exited 0.
  absl::Status Stop();
  // SIGKILL and reap.
  void Kill();

 private:
  ServerProcess(pid_t pid, uint16_t port) : pid_(pid), port_(port) {}

  pid_t pid_;
  uint16_t port_;
  bool exited_ = false;
};

}  // namespace kvstore::testing

#endif  // KVSTORE_TESTS_COMMON_SERVER_PROCESS_H_
