// The Engine on RocksDB: one RocksDB database holds every table, with cells
// laid out as key_codec.h describes. Writes go through a CommitQueue (group
// commit); reads go straight to RocksDB and see every write applied so far.
//
// Note on visibility: with SyncMode::kAlways a write is visible to readers once
// applied, a moment before it is synced and acknowledged (as in Redis with
// appendfsync always). A write that was acknowledged is always durable.
#ifndef KVSTORE_STORE_ROCKS_ENGINE_H_
#define KVSTORE_STORE_ROCKS_ENGINE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "store/commit_queue.h"
#include "store/engine.h"
#include "store/injection_registry.h"

namespace kvstore::store {

struct EngineOptions {
  // Directory of the database; created if missing. Ignored when in_memory.
  std::string data_dir = "./kvstore-data";
  // Keep everything in RocksDB's in-memory environment: nothing touches the
  // disk.
  bool in_memory = false;
  // When the write-ahead log is fsynced; ignored (nothing to sync) when
  // in_memory.
  SyncMode sync = SyncMode::kAlways;
  // Writer threads of the commit queue; writes to one row always use the same
  // one.
  int write_shards = 1;
  // Largest cell value accepted, in bytes.
  size_t max_value_bytes = 4 * 1024 * 1024;
  // Size of a RocksDB memtable before it is flushed to an SST file. Small, so
  // that often-overwritten single-version keys do not pile up versions that
  // slow every point read (see bench/README.md).
  size_t memtable_bytes = 8 * 1024 * 1024;
  // RocksDB's cache of uncompressed data blocks: scans of data that fits run
  // from memory without decompressing.
  size_t block_cache_bytes = 256 * 1024 * 1024;
  // Target size of an SST data block, 1 KiB to 1 MiB. 64 KiB, as Bigtable's
  // SSTables use: a scan pays a block-cache lookup per block, so bigger blocks
  // scan faster, while a point read that misses the cache reads a whole block
  // from disk. Applies to files written from then on.
  size_t block_bytes = 64 * 1024;
  // The row cache for one-row reads (store/row_cache.h); 0 turns it off.
  size_t row_cache_bytes = 32 * 1024 * 1024;
  // The storage.write error-injection point's registry (not owned; must
  // outlive the engine), or null.
  InjectionRegistry* injection = nullptr;
};

// Opens (creating if needed) the database. Errors: InvalidArgument for bad
// options, Internal if RocksDB cannot open the directory (the message is
// RocksDB's, e.g. a held lock).
absl::StatusOr<std::unique_ptr<Engine>> OpenRocksEngine(
    const EngineOptions& options);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_ROCKS_ENGINE_H_
