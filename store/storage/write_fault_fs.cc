#include "store/storage/write_fault_fs.h"

#include <string>
#include <utility>

#include "absl/status/status.h"

namespace kvstore::store::rocks {
namespace {

// The hook's verdict as RocksDB's: ResourceExhausted is a full disk (ENOSPC),
// any other error an I/O error.
rocksdb::IOStatus Ask(const FileWriteFault& fault, const std::string& file) {
  absl::Status status = fault(file);
  if (status.ok()) return rocksdb::IOStatus::OK();
  const std::string message(status.message());
  if (absl::IsResourceExhausted(status)) {
    return rocksdb::IOStatus::NoSpace(file, message);
  }
  return rocksdb::IOStatus::IOError(file, message);
}

class FaultyFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string name,
             const FileWriteFault* fault)
      : FSWritableFileOwnerWrapper(std::move(file)),
        name_(std::move(name)),
        fault_(fault) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Ask(*fault_, name_);
    return s.ok() ? target()->Append(data, options, dbg) : s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Ask(*fault_, name_);
    return s.ok() ? target()->Append(data, options, info, dbg) : s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Ask(*fault_, name_);
    return s.ok() ? target()->PositionedAppend(data, offset, options, dbg) : s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Ask(*fault_, name_);
    return s.ok() ? target()->PositionedAppend(data, offset, options, info, dbg)
                  : s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Ask(*fault_, name_);
    return s.ok() ? target()->Sync(options, dbg) : s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Ask(*fault_, name_);
    return s.ok() ? target()->Fsync(options, dbg) : s;
  }

 private:
  const std::string name_;
  const FileWriteFault* const fault_;  // owned by the file system
};

class WriteFaultFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  WriteFaultFileSystem(std::shared_ptr<rocksdb::FileSystem> target,
                       FileWriteFault fault)
      : FileSystemWrapper(std::move(target)), fault_(std::move(fault)) {}

  const char* Name() const override { return "kvstore.WriteFault"; }

  rocksdb::IOStatus NewWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    return Wrap(name, target()->NewWritableFile(name, options, result, dbg),
                result);
  }
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    return Wrap(name, target()->ReopenWritableFile(name, options, result, dbg),
                result);
  }
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& name, const std::string& old_name,
      const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    return Wrap(
        name, target()->ReuseWritableFile(name, old_name, options, result, dbg),
        result);
  }

 private:
  rocksdb::IOStatus Wrap(const std::string& name, rocksdb::IOStatus opened,
                         std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (opened.ok()) {
      *result = std::make_unique<FaultyFile>(std::move(*result), name, &fault_);
    }
    return opened;
  }

  const FileWriteFault fault_;
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> NewWriteFaultFileSystem(
    std::shared_ptr<rocksdb::FileSystem> target, FileWriteFault fault) {
  return std::make_shared<WriteFaultFileSystem>(std::move(target),
                                                std::move(fault));
}

}  // namespace kvstore::store::rocks
