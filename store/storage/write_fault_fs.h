// Private to the storage library: a RocksDB FileSystem that passes every call
// to another one, except that each write and sync of a file first asks a
// hook, which may fail it as the disk would (EngineOptions::file_write_fault).
// The engine installs it only when the hook is set, so a store without one
// pays nothing.
//
// Thread-safe if the hook is: RocksDB calls it from its writer, flush and
// compaction threads at once.
#ifndef KVSTORE_STORE_STORAGE_WRITE_FAULT_FS_H_
#define KVSTORE_STORE_STORAGE_WRITE_FAULT_FS_H_

#include <memory>

#include "rocksdb/file_system.h"
#include "store/storage/rocks_engine.h"

namespace kvstore::store::rocks {

// Wraps `target`; `fault` must be set.
std::shared_ptr<rocksdb::FileSystem> NewWriteFaultFileSystem(
    std::shared_ptr<rocksdb::FileSystem> target, FileWriteFault fault);

}  // namespace kvstore::store::rocks

#endif  // KVSTORE_STORE_STORAGE_WRITE_FAULT_FS_H_
