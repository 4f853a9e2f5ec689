// The Engine on RocksDB: one RocksDB database holds every table, with cells
// laid out as key_codec.h describes. Writes go through a CommitQueue (group
// commit); reads see every write applied so far: one-row reads through the row
// cache (row_cache.h) when it holds the row, everything else from RocksDB's
// memtables, block cache and SST files.
//
// Note on visibility: with SyncMode::kAlways a write is visible to readers once
// applied, a moment before it is synced and acknowledged (as in Redis with
// appendfsync always). A write that was acknowledged is always durable.
#ifndef KVSTORE_STORE_STORAGE_ROCKS_ENGINE_H_
#define KVSTORE_STORE_STORAGE_ROCKS_ENGINE_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "store/storage/engine.h"
#include "store/storage/file_faults.h"
#include "store/storage/sync_mode.h"

namespace kvstore::store {

// See EngineOptions::file_write_fault.
using FileWriteFault = std::function<absl::Status(const std::string& file)>;

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
  // How far apart :sampleRowKeys puts split points, in bytes of the table's
  // stored keys and values.
  size_t sample_split_bytes = 1024 * 1024;
  // The row cache for one-row reads (store/row_cache.h); 0 turns it off.
  size_t row_cache_bytes = 32 * 1024 * 1024;
  // A table that always exists: created at open (with table id 1) and never
  // deleted. The server passes the seed API's table here. nullopt: none.
  std::optional<TableSchema> builtin_table;
  // Called on the row's writer thread just before a write to (table, row) is
  // applied; an error fails that write with nothing written, and a call that
  // blocks stalls the writer. The server wires the storage.write
  // error-injection point here. Empty: nothing is called.
  std::function<absl::Status(absl::string_view table, absl::string_view row)>
      before_write;
  // Called before every write and sync of a database file (the log, SST
  // files, the manifest), from RocksDB's threads: an error fails that
  // operation as the disk would, ResourceExhausted as a full disk (ENOSPC),
  // any other as an I/O error. For tests and fault injection. Empty: files
  // are written directly, at no cost.
  FileWriteFault file_write_fault;
  // Disk faults for error injection (file_faults.h): failed log writes and
  // syncs, and power cuts. Null: none, at no cost.
  std::shared_ptr<FileFaults> file_faults;
};

// Opens (creating if needed) the database. Errors: InvalidArgument for bad
// options, Internal if RocksDB cannot open the directory (the message is
// RocksDB's, e.g. a held lock).
absl::StatusOr<std::unique_ptr<Engine>> OpenRocksEngine(
    const EngineOptions& options);

// For tests only (leveldb's TEST_ convention): every cell stored for one row,
// cells past their family's max age included, in model order; empty if the
// row does not exist. `engine` must come from OpenRocksEngine. NotFound for an
// unknown table, InvalidArgument for a bad row key.
absl::StatusOr<std::vector<Cell>> TEST_ReadStoredRow(Engine& engine,
                                                     absl::string_view table,
                                                     absl::string_view row);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_STORAGE_ROCKS_ENGINE_H_
