#include "store/storage/file_faults.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace kvstore::store {
namespace {

// The directory part of a path, without a trailing slash.
absl::string_view DirectoryOf(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? absl::string_view(".")
                                          : path.substr(0, slash);
}

absl::string_view WithoutTrailingSlashes(absl::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  return dir;
}

}  // namespace

void FileFaults::FailNextLogSync(absl::Status status) {
  absl::MutexLock lock(&mu_);
  log_sync_failure_ = std::move(status);
}

absl::Status FileFaults::BeforeSync(const std::string& file) const {
  return before_sync_ ? before_sync_(file) : absl::OkStatus();
}

std::optional<absl::Status> FileFaults::TakeLogSyncFailure(
    const std::string& file) {
  absl::MutexLock lock(&mu_);
  if (!log_sync_failure_.has_value() || !absl::EndsWith(file, ".log")) {
    return std::nullopt;
  }
  std::optional<absl::Status> taken = std::move(log_sync_failure_);
  log_sync_failure_.reset();
  return taken;
}

void FileFaults::Created(const std::string& file, bool entry_durable) {
  absl::MutexLock lock(&mu_);
  files_[file] = FileState{0, 0, entry_durable};
}

void FileFaults::Reopened(const std::string& file, uint64_t size) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = files_.try_emplace(file);
  if (inserted) it->second = FileState{size, size, /*entry_durable=*/true};
}

void FileFaults::Written(const std::string& file, uint64_t size) {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(file);
  if (it != files_.end()) it->second.size = size;
}

void FileFaults::Synced(const std::string& file, uint64_t size) {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(file);
  if (it != files_.end() && size > it->second.synced) {
    it->second.synced = size;
  }
}

void FileFaults::DirectorySynced(const std::string& dir) {
  const absl::string_view synced = WithoutTrailingSlashes(dir);
  absl::MutexLock lock(&mu_);
  for (auto& [path, state] : files_) {
    if (DirectoryOf(path) == synced) state.entry_durable = true;
  }
}

void FileFaults::Renamed(const std::string& from, const std::string& to) {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(from);
  if (it == files_.end()) {
    files_.erase(to);  // replaced by a file from before: durable as it is
    return;
  }
  FileState state = it->second;
  state.entry_durable = true;
  files_.erase(it);
  files_[to] = state;
}

void FileFaults::Deleted(const std::string& file) {
  absl::MutexLock lock(&mu_);
  files_.erase(file);
}

void FileFaults::CutPower() {
  io_.Lock();  // no file operation is half done, and none starts; never freed
  absl::MutexLock lock(&mu_);
  for (const auto& [path, state] : files_) {
    if (!state.entry_durable) {
      ::unlink(path.c_str());
    } else if (state.size > state.synced) {
      if (::truncate(path.c_str(), static_cast<off_t>(state.synced)) != 0) {
        std::perror(path.c_str());
      }
    }
  }
  std::fprintf(stderr, "kvstore_server: power cut (error injection)\n");
  std::raise(SIGKILL);
  _exit(137);  // not reached
}

}  // namespace kvstore::store
