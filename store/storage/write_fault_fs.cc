#include "store/storage/write_fault_fs.h"

#include <atomic>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace kvstore::store::rocks {
namespace {

// A fault as RocksDB's status: ResourceExhausted is a full disk (ENOSPC), any
// other error an I/O error.
rocksdb::IOStatus ToIoStatus(const absl::Status& status,
                             const std::string& file) {
  if (status.ok()) return rocksdb::IOStatus::OK();
  const std::string message(status.message());
  if (absl::IsResourceExhausted(status)) {
    return rocksdb::IOStatus::NoSpace(file, message);
  }
  return rocksdb::IOStatus::IOError(file, message);
}

// What the file system's hooks say of a write (`sync` false) or sync of
// `file`; OK to go on.
class Hooks {
 public:
  Hooks(FileWriteFault fault, std::shared_ptr<FileFaults> faults)
      : fault_(std::move(fault)), faults_(std::move(faults)) {}

  rocksdb::IOStatus Ask(const std::string& file, bool sync) const {
    if (fault_) {
      rocksdb::IOStatus s = ToIoStatus(fault_(file), file);
      if (!s.ok()) return s;
    }
    if (faults_ == nullptr || !sync) return rocksdb::IOStatus::OK();
    rocksdb::IOStatus s = ToIoStatus(faults_->BeforeSync(file), file);
    if (!s.ok()) return s;
    std::optional<absl::Status> failure = faults_->TakeLogSyncFailure(file);
    return failure.has_value() ? ToIoStatus(*failure, file)
                               : rocksdb::IOStatus::OK();
  }
  FileFaults* faults() const { return faults_.get(); }

 private:
  const FileWriteFault fault_;
  const std::shared_ptr<FileFaults> faults_;
};

// Holds FileFaults::io() shared for one file operation, if there are
// FileFaults.
class IoScope {
 public:
  // (A conditional lock, which the analysis cannot follow.)
  explicit IoScope(FileFaults* faults) ABSL_NO_THREAD_SAFETY_ANALYSIS
      : mu_(faults != nullptr ? &faults->io() : nullptr) {
    if (mu_ != nullptr) mu_->ReaderLock();
  }
  ~IoScope() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (mu_ != nullptr) mu_->ReaderUnlock();
  }
  IoScope(const IoScope&) = delete;
  IoScope& operator=(const IoScope&) = delete;

 private:
  absl::Mutex* const mu_;
};

class FaultyFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string name,
             const Hooks* hooks, uint64_t size)
      : FSWritableFileOwnerWrapper(std::move(file)),
        name_(std::move(name)),
        hooks_(hooks),
        size_(size) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    return Write(data.size(), -1,
                 [&] { return target()->Append(data, options, dbg); });
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    return Write(data.size(), -1,
                 [&] { return target()->Append(data, options, info, dbg); });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    return Write(data.size(), static_cast<int64_t>(offset), [&] {
      return target()->PositionedAppend(data, offset, options, dbg);
    });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    return Write(data.size(), static_cast<int64_t>(offset), [&] {
      return target()->PositionedAppend(data, offset, options, info, dbg);
    });
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    IoScope io(hooks_->faults());
    rocksdb::IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) Resized(size);
    return s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override {
    return SyncWith([&] { return target()->Sync(options, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return SyncWith([&] { return target()->Fsync(options, dbg); });
  }

 private:
  // A write of `bytes` at `offset` (-1: at the end) done by `write`.
  template <typename F>
  rocksdb::IOStatus Write(size_t bytes, int64_t offset, F write) {
    rocksdb::IOStatus s = hooks_->Ask(name_, /*sync=*/false);
    if (!s.ok()) return s;
    IoScope io(hooks_->faults());
    s = write();
    if (s.ok()) {
      const uint64_t start =
          offset < 0 ? size_.load() : static_cast<uint64_t>(offset);
      if (start + bytes > size_.load()) Resized(start + bytes);
    }
    return s;
  }
  template <typename F>
  rocksdb::IOStatus SyncWith(F sync) {
    rocksdb::IOStatus s = hooks_->Ask(name_, /*sync=*/true);
    if (!s.ok()) return s;
    IoScope io(hooks_->faults());
    const uint64_t size = size_.load();
    s = sync();
    if (s.ok() && hooks_->faults() != nullptr) {
      hooks_->faults()->Synced(name_, size);
    }
    return s;
  }
  void Resized(uint64_t size) {
    size_.store(size);
    if (hooks_->faults() != nullptr) hooks_->faults()->Written(name_, size);
  }

  const std::string name_;
  const Hooks* const hooks_;  // owned by the file system
  std::atomic<uint64_t> size_;
};

// Reports its fsyncs to FileFaults.
class FaultyDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  FaultyDirectory(std::unique_ptr<rocksdb::FSDirectory> dir, std::string name,
                  FileFaults* faults)
      : FSDirectoryWrapper(std::move(dir)),
        name_(std::move(name)),
        faults_(faults) {}

  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    IoScope io(faults_);
    rocksdb::IOStatus s = FSDirectoryWrapper::Fsync(options, dbg);
    if (s.ok()) faults_->DirectorySynced(name_);
    return s;
  }
  rocksdb::IOStatus FsyncWithDirOptions(
      const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg,
      const rocksdb::DirFsyncOptions& dir_options) override {
    IoScope io(faults_);
    rocksdb::IOStatus s =
        FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options);
    if (s.ok()) faults_->DirectorySynced(name_);
    return s;
  }

 private:
  const std::string name_;
  FileFaults* const faults_;
};

class WriteFaultFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  WriteFaultFileSystem(std::shared_ptr<rocksdb::FileSystem> target,
                       FileWriteFault fault, std::shared_ptr<FileFaults> faults)
      : FileSystemWrapper(std::move(target)),
        hooks_(std::move(fault), std::move(faults)) {}

  const char* Name() const override { return "kvstore.WriteFault"; }

  rocksdb::IOStatus NewWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    IoScope io(hooks_.faults());
    const bool existed =
        hooks_.faults() != nullptr &&
        target()->FileExists(name, rocksdb::IOOptions(), dbg).ok();
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok() && hooks_.faults() != nullptr) {
      hooks_.faults()->Created(name, /*entry_durable=*/existed);
    }
    return Wrap(name, std::move(s), result, 0);
  }
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    IoScope io(hooks_.faults());
    rocksdb::IOStatus s =
        target()->ReopenWritableFile(name, options, result, dbg);
    const uint64_t size = s.ok() ? (*result)->GetFileSize({}, dbg) : 0;
    if (s.ok() && hooks_.faults() != nullptr) {
      hooks_.faults()->Reopened(name, size);
    }
    return Wrap(name, std::move(s), result, size);
  }
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& name, const std::string& old_name,
      const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    IoScope io(hooks_.faults());
    rocksdb::IOStatus s =
        target()->ReuseWritableFile(name, old_name, options, result, dbg);
    if (s.ok() && hooks_.faults() != nullptr) {
      hooks_.faults()->Renamed(old_name, name);
    }
    return Wrap(name, std::move(s), result, 0);
  }
  rocksdb::IOStatus NewDirectory(const std::string& name,
                                 const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewDirectory(name, options, result, dbg);
    if (s.ok() && hooks_.faults() != nullptr) {
      *result = std::make_unique<FaultyDirectory>(std::move(*result), name,
                                                  hooks_.faults());
    }
    return s;
  }
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    IoScope io(hooks_.faults());
    rocksdb::IOStatus s = target()->RenameFile(from, to, options, dbg);
    if (s.ok() && hooks_.faults() != nullptr) {
      hooks_.faults()->Renamed(from, to);
    }
    return s;
  }
  rocksdb::IOStatus DeleteFile(const std::string& name,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    IoScope io(hooks_.faults());
    rocksdb::IOStatus s = target()->DeleteFile(name, options, dbg);
    if (s.ok() && hooks_.faults() != nullptr) hooks_.faults()->Deleted(name);
    return s;
  }

 private:
  rocksdb::IOStatus Wrap(const std::string& name, rocksdb::IOStatus opened,
                         std::unique_ptr<rocksdb::FSWritableFile>* result,
                         uint64_t size) {
    if (opened.ok()) {
      *result =
          std::make_unique<FaultyFile>(std::move(*result), name, &hooks_, size);
    }
    return opened;
  }

  const Hooks hooks_;
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> NewWriteFaultFileSystem(
    std::shared_ptr<rocksdb::FileSystem> target, FileWriteFault fault,
    std::shared_ptr<FileFaults> faults) {
  return std::make_shared<WriteFaultFileSystem>(
      std::move(target), std::move(fault), std::move(faults));
}

}  // namespace kvstore::store::rocks
