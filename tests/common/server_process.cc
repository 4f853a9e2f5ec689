#include "tests/common/server_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/common/temp_dir.h"

namespace kvstore::testing {
namespace {

// Returns true if the child has exited, storing its status.
bool Reap(pid_t pid, bool block, int* status) {
  while (true) {
    pid_t r = waitpid(pid, status, block ? 0 : WNOHANG);
    if (r == pid) return true;
    if (r == 0) return false;
    if (errno != EINTR) return true;  // not our child any more
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::string& binary, const std::vector<std::string>& args,
    absl::Duration timeout) {
  Options options;
  options.timeout = timeout;
  return Start(binary, args, options);
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::string& binary, const std::vector<std::string>& args,
    const Options& options) {
  const absl::Duration timeout = options.timeout;
  static TempDir* port_dir = new TempDir();  // lives for the whole test binary
  static int counter = 0;
  std::string port_file =
      port_dir->File(absl::StrCat("port-", getpid(), "-", ++counter));

  std::vector<std::string> argv_storage = {
      binary, "--port=0", absl::StrCat("--port_file=", port_file)};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    // Die with the test: a test binary that crashes must not leave servers
    // behind (they would also hold ctest's output pipe open, hanging it).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent is already gone
    if (options.file_limit > 0) {
      rlimit limit{static_cast<rlim_t>(options.file_limit),
                   static_cast<rlim_t>(options.file_limit)};
      if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(126);
    }
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (Reap(pid, false, &status)) {
      return absl::UnavailableError(absl::StrCat(
          binary, " exited before listening, ",
          WIFEXITED(status) ? absl::StrCat("exit code ", WEXITSTATUS(status))
                            : absl::StrCat("wait status ", status)));
    }
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      std::remove(port_file.c_str());
      return std::unique_ptr<ServerProcess>(
          new ServerProcess(pid, static_cast<uint16_t>(port)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  int ignored = 0;
  Reap(pid, true, &ignored);
  return absl::DeadlineExceededError(
      absl::StrCat(binary, " did not start listening"));
}

ServerProcess::~ServerProcess() { Kill(); }

absl::StatusOr<int> ServerProcess::Signal(int signal, absl::Duration timeout) {
  if (exited_)
    return absl::FailedPreconditionError("the server has already exited");
  kill(pid_, signal);
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (!Reap(pid_, false, &status)) {
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      Reap(pid_, true, &status);
      exited_ = true;
      return absl::DeadlineExceededError(
          "the server did not exit in time; killed it");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  exited_ = true;
  return status;
}

absl::Status ServerProcess::Stop() {
  absl::StatusOr<int> status = Signal(SIGTERM);
  if (!status.ok()) return status.status();
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(absl::StrCat("server exit status ", *status));
  }
  return absl::OkStatus();
}

void ServerProcess::Kill() {
  if (exited_) return;
  kill(pid_, SIGKILL);
  int status = 0;
  Reap(pid_, true, &status);
  exited_ = true;
}

}  // namespace kvstore::testing
