// Private to the storage library: a RocksDB FileSystem that passes every call
// to another one, except that
//   - with a FileWriteFault, each write and sync of a file first asks it, and
//     it may fail the call as the disk would (EngineOptions::file_write_fault);
//   - with FileFaults, it fails the syncs FileFaults asks it to and reports
//     every
//     file's writes, syncs, renames and deletions, and every directory's
//     fsyncs, so that FileFaults can cut the power (file_faults.h).
// The engine installs it only when one of them is set, so a store without
// them pays nothing.
//
// Thread-safe if the hook is: RocksDB calls it from its writer, flush and
// compaction threads at once.
#ifndef KVSTORE_STORE_STORAGE_WRITE_FAULT_FS_H_
#define KVSTORE_STORE_STORAGE_WRITE_FAULT_FS_H_

#include <memory>

#include "rocksdb/file_system.h"
#include "store/storage/file_faults.h"
#include "store/storage/rocks_engine.h"

namespace kvstore::store::rocks {

// Wraps `target`; `fault` may be empty and `faults` null, but not both.
std::shared_ptr<rocksdb::FileSystem> NewWriteFaultFileSystem(
    std::shared_ptr<rocksdb::FileSystem> target, FileWriteFault fault,
    std::shared_ptr<FileFaults> faults);

}  // namespace kvstore::store::rocks

#endif  // KVSTORE_STORE_STORAGE_WRITE_FAULT_FS_H_
