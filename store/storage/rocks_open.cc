// Opening the RocksDB engine (OpenRocksEngine, rocks_engine.h): the database's
// options, then what earlier runs persisted (timestamp ceilings and tables).
#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/status_macros.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "store/storage/rocks_engine.h"
#include "store/storage/rocks_engine_impl.h"
#include "store/storage/rocks_support.h"
#include "store/storage/write_fault_fs.h"

namespace kvstore::store {
namespace rocks {
namespace {

absl::Status CheckOptions(const EngineOptions& options) {
  if (!options.in_memory && options.data_dir.empty()) {
    return absl::InvalidArgumentError(
        "data_dir must not be empty (or use in_memory)");
  }
  if (options.write_shards < 1) {
    return absl::InvalidArgumentError("write_shards must be >= 1");
  }
  if (options.block_bytes < 1024 || options.block_bytes > (1 << 20)) {
    return absl::InvalidArgumentError("block_bytes must be 1 KiB to 1 MiB");
  }
  if (options.sample_split_bytes < 1) {
    return absl::InvalidArgumentError("sample_split_bytes must be >= 1");
  }
  return absl::OkStatus();
}

rocksdb::Options DatabaseOptions(const EngineOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.IncreaseParallelism(2);
  db_options.keep_log_file_num = 3;
  db_options.write_buffer_size = options.memtable_bytes;
  // One write() of the log per I/O-loop turn instead of one per write.
  db_options.manual_wal_flush = FlushesLogByHand(options);
  db_options.prefix_extractor = std::make_shared<RowPrefixTransform>();
  db_options.memtable_prefix_bloom_size_ratio = 0.05;
  // Caches whole point-read results from SST files, so a hot single-version
  // cell that was flushed costs one hash lookup instead of a block search.
  db_options.row_cache = rocksdb::NewLRUCache(32 << 20);
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // See EngineOptions::block_bytes and bench/README.md; point reads stay cheap
  // with the hash index below.
  table_options.block_size = options.block_bytes;
  table_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // The bloom filters are per row (RowPrefixTransform): reads seek by row or
  // column, never look up a whole key.
  table_options.whole_key_filtering = false;
  // Point reads (the seed's /get, single-version cells) binary-search less
  // inside a data block with its hash index.
  table_options.data_block_index_type =
      rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  db_options.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(table_options));
  return db_options;
}

// The largest ceilings any shard persisted (see PersistCeilings).
absl::StatusOr<Ceilings> LoadCeilings(rocksdb::DB* db) {
  Ceilings ceilings;
  const std::string server_prefix =
      absl::StrCat(kCeilingKeyPrefix, kServerCeiling);
  KV_RETURN_IF_ERROR(ForEachWithPrefix(
      db, kCeilingKeyPrefix,
      [&](absl::string_view key, absl::string_view value) {
        uint64_t v = 0;
        if (value.size() != 8 || !ReadBigEndian64(value, &v)) {
          return absl::DataLossError("corrupt timestamp ceiling");
        }
        int64_t& target = absl::StartsWith(key, server_prefix)
                              ? ceilings.server
                              : ceilings.explicit_max;
        target = std::max(target, static_cast<int64_t>(v));
        return absl::OkStatus();
      }));
  return ceilings;
}

absl::StatusOr<LoadedTables> LoadTables(rocksdb::DB* db) {
  LoadedTables loaded;
  KV_RETURN_IF_ERROR(ForEachWithPrefix(
      db, kTableKeyPrefix, [&](absl::string_view key, absl::string_view value) {
        TableSchema schema;
        if (value.size() < 4 ||
            !schema.ParseFromArray(value.data() + 4,
                                   static_cast<int>(value.size() - 4))) {
          return absl::DataLossError(
              absl::StrCat("corrupt table metadata under ", key));
        }
        uint32_t id = DecodeUint32(value);
        loaded.next_id = std::max(loaded.next_id, id + 1);
        loaded.tables.push_back(MakeTableInfo(id, std::move(schema)));
        return absl::OkStatus();
      }));
  std::string next;
  rocksdb::Status got = db->Get(rocksdb::ReadOptions(), kNextTableIdKey, &next);
  if (got.ok() && next.size() == 4) {
    loaded.next_id = std::max(loaded.next_id, DecodeUint32(next));
  } else if (!got.ok() && !got.IsNotFound()) {
    return FromRocks(got, "read next table id");
  }
  return loaded;
}

}  // namespace
}  // namespace rocks

absl::StatusOr<std::unique_ptr<Engine>> OpenRocksEngine(
    const EngineOptions& options) {
  KV_RETURN_IF_ERROR(rocks::CheckOptions(options));
  rocksdb::Options db_options = rocks::DatabaseOptions(options);
  std::unique_ptr<rocksdb::Env> env;
  std::string path = options.data_dir;
  if (options.in_memory) {
    env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    path = "/kvstore-in-memory";
  }
  if (options.file_write_fault || options.file_faults != nullptr) {
    // The memory environment's file system outlives it: the wrapper holds it.
    std::shared_ptr<rocksdb::FileSystem> files =
        env != nullptr ? env->GetFileSystem() : rocksdb::FileSystem::Default();
    env = rocksdb::NewCompositeEnv(rocks::NewWriteFaultFileSystem(
        files, options.file_write_fault, options.file_faults));
  }
  if (env != nullptr) db_options.env = env.get();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, &raw);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot open database at '", path, "': ", s.ToString()));
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  KV_ASSIGN_OR_RETURN(rocks::Ceilings ceilings, rocks::LoadCeilings(db.get()));
  KV_ASSIGN_OR_RETURN(rocks::LoadedTables loaded, rocks::LoadTables(db.get()));
  return std::unique_ptr<Engine>(new rocks::RocksEngine(
      options, std::move(env), std::move(db), ceilings, std::move(loaded)));
}

}  // namespace kvstore::store
