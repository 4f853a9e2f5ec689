#include "store/storage/rocks_engine.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/quote.h"
#include "common/status_macros.h"
#include "store/storage/rocks_engine_impl.h"
#include "store/storage/rocks_row_scanner.h"
#include "store/storage/row_set.h"

namespace kvstore::store {
namespace rocks {

RocksEngine::RocksEngine(const EngineOptions& options,
                         std::unique_ptr<rocksdb::Env> env,
                         std::unique_ptr<rocksdb::DB> db, Ceilings persisted,
                         LoadedTables loaded)
    : options_(options),
      env_(std::move(env)),
      db_(std::move(db)),
      ceilings_(static_cast<size_t>(options.write_shards),
                ShardCeilings{persisted.server, persisted.explicit_max}),
      last_server_micros_(persisted.server),
      explicit_max_(persisted.explicit_max) {
  {
    absl::MutexLock lock(&tables_mu_);
    if (options.builtin_table.has_value()) {
      tables_.emplace(options.builtin_table->name(),
                      MakeTableInfo(kBuiltinTableId, *options.builtin_table));
    }
    for (auto& info : loaded.tables) {
      tables_.emplace(info->schema.name(), std::move(info));
    }
    next_table_id_ = loaded.next_id;
  }
  CommitQueue::Options queue_options;
  // Nothing to make durable in memory (and the in-memory WAL cannot be
  // synced).
  queue_options.sync = options.in_memory ? SyncMode::kNever : options.sync;
  queue_options.shards = options.write_shards;
  // With no fsync per write there is nothing for a group to share: write on
  // the caller's thread and save the hand-offs. The log is then flushed by
  // hand, once per I/O-loop turn, before that turn's writes are acknowledged.
  queue_options.inline_writes = FlushesLogByHand(options);
  queue_options.defer_acks = queue_options.inline_writes;
  commits_ = CommitQueue::Create(
      queue_options,
      [this](rocksdb::WriteBatchWithIndex& batch) {
        rocksdb::WriteOptions write_options;
        write_options.sync = false;  // the commit queue syncs once per group
        absl::Status written = FromRocks(
            db_->Write(write_options, batch.GetWriteBatch()), "write");
        // (FromRocks keeps a full disk apart: ResourceExhausted.)
        // Before the write is acknowledged, and whatever its outcome.
        InvalidateCachedRows(*batch.GetWriteBatch());
        return written;
      },
      // FlushWAL(true) also writes out what a manual flush left buffered.
      [this] {
        return FromRocks(db_->FlushWAL(/*sync=*/true), "sync write-ahead log");
      },
      [this] {
        return FromRocks(db_->FlushWAL(/*sync=*/false),
                         "flush write-ahead log");
      },
      [this] { return RecoverWrites(); });
}

absl::Status RocksEngine::RecoverWrites() {
  // Clears RocksDB's background error (its own recovery may have already).
  KV_RETURN_IF_ERROR(FromRocks(db_->Resume(), "resume writes"));
  // The log a write failed on may end in a torn record, and records after it
  // would be lost at the next open: write a marker (so the memtable is not
  // empty) and flush, which moves on to a new log and retires the old one.
  KV_RETURN_IF_ERROR(
      FromRocks(db_->Put(rocksdb::WriteOptions(), kRecoveryMarkerKey,
                         EncodeInt64(absl::ToUnixMicros(absl::Now()))),
                "write recovery marker"));
  rocksdb::FlushOptions flush;
  flush.allow_write_stall = true;
  return FromRocks(db_->Flush(flush), "flush after a failed write");
}

absl::StatusOr<std::vector<Engine::RowKeySample>> RocksEngine::SampleRowKeys(
    absl::string_view table) {
  KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info, FindTable(table));
  // Counts the table's own stored bytes (keys and values) in one scan: exact
  // for this table alone, and unchanged by flushes and compactions, which
  // RocksDB's size estimates are not (they average over the memtable, and
  // are block-granular within shared files). A split point is the first row
  // after each further sample_split_bytes; its offset counts the rows before
  // it.
  const int64_t every = static_cast<int64_t>(options_.sample_split_bytes);
  std::vector<RowKeySample> samples;
  int64_t bytes = 0;
  int64_t next_split = every;
  std::string row;  // the current row's prefix
  KV_RETURN_IF_ERROR(ForEachWithPrefix(
      db_.get(), TablePrefix(info->id),
      [&](absl::string_view key, absl::string_view value) -> absl::Status {
        const size_t length =
            RowPrefixLength(rocksdb::Slice(key.data(), key.size()));
        absl::string_view prefix = key.substr(0, length);
        if (length != 0 && prefix != row) {
          row.assign(prefix.data(), prefix.size());
          if (bytes >= next_split) {
            KV_ASSIGN_OR_RETURN(CellKey cell, DecodeCellKey(key));
            samples.push_back(RowKeySample{std::move(cell.row), bytes});
            next_split = bytes + every;
          }
        }
        bytes += static_cast<int64_t>(key.size() + value.size());
        return absl::OkStatus();
      }));
  samples.push_back(RowKeySample{"", bytes});
  return samples;
}

absl::StatusOr<std::optional<Cell>> RocksEngine::ReadNewestCell(
    absl::string_view table, absl::string_view row, absl::string_view family,
    absl::string_view qualifier) {
  KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info, FindTable(table));
  KV_RETURN_IF_ERROR(ValidateRowKey(row));
  if (IsSingleVersion(*info, family)) {
    std::string stored;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(),
                 SingleVersionKey(info->id, row, family, qualifier), &stored);
    if (s.IsNotFound()) return std::nullopt;
    KV_RETURN_IF_ERROR(FromRocks(s, "read"));
    CellKey key{info->id,
                "",
                std::string(family),
                std::string(qualifier),
                -1,
                /*single_version=*/true};
    return ToCell(std::move(key), stored);
  }
  // The column's newest possible cell key: in the prefix extractor's domain,
  // so the seek can use the per-row bloom filters.
  std::string newest = ColumnPrefix(info->id, row, family, qualifier);
  const size_t prefix_size = newest.size();
  AppendTimestamp(&newest, INT64_MAX);
  std::unique_ptr<rocksdb::Iterator> it = iterators_.Take();
  it->Seek(newest);
  std::optional<Cell> result;
  if (it->Valid()) {
    absl::string_view key = ToView(it->key());
    if (key.size() == prefix_size + 8 &&
        key.substr(0, prefix_size) ==
            absl::string_view(newest).substr(0, prefix_size)) {
      result = Cell{std::string(family), std::string(qualifier),
                    CellKeyTimestamp(key), it->value().ToString()};
    }
  } else if (!it->status().ok()) {
    return FromRocks(it->status(), "read");
  }
  iterators_.Return(std::move(it));
  return result;
}

absl::StatusOr<std::vector<Cell>> RocksEngine::ReadStoredRow(
    absl::string_view table, absl::string_view row) {
  KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info, FindTable(table));
  KV_RETURN_IF_ERROR(ValidateRowKey(row));
  std::vector<Cell> cells;
  KV_RETURN_IF_ERROR(ForEachWithPrefix(
      db_.get(), RowPrefix(info->id, row),
      [&cells](absl::string_view key, absl::string_view value) {
        KV_ASSIGN_OR_RETURN(CellKey decoded, DecodeCellKey(key));
        KV_ASSIGN_OR_RETURN(Cell cell, ToCell(std::move(decoded), value));
        cells.push_back(std::move(cell));
        return absl::OkStatus();
      }));
  return cells;
}

absl::StatusOr<std::unique_ptr<RowScanner>> RocksEngine::ScanRows(
    absl::string_view table, const v1::RowSet& rows, bool reversed) {
  KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info, FindTable(table));
  KV_ASSIGN_OR_RETURN(std::vector<KeyInterval> intervals,
                      NormalizeRowSet(rows));
  return std::unique_ptr<RowScanner>(
      NewRocksRowScanner(db_.get(), &iterators_, row_cache_.get(),
                         std::move(info), std::move(intervals), reversed));
}

absl::Status RocksEngine::CreateTable(const TableSchema& schema) {
  KV_RETURN_IF_ERROR(ValidateTableSchema(schema));
  absl::MutexLock admin(&admin_mu_);
  uint32_t id;
  {
    absl::MutexLock lock(&tables_mu_);
    if (tables_.contains(schema.name())) {
      return absl::AlreadyExistsError(
          absl::StrCat("table '", schema.name(), "' already exists"));
    }
    id = next_table_id_;
  }
  rocksdb::WriteBatch batch;
  std::string value = EncodeUint32(id) + schema.SerializeAsString();
  KV_RETURN_IF_ERROR(
      FromRocks(batch.Put(TableKey(schema.name()), value), "put"));
  KV_RETURN_IF_ERROR(
      FromRocks(batch.Put(kNextTableIdKey, EncodeUint32(id + 1)), "put"));
  KV_RETURN_IF_ERROR(WriteAdmin(batch));
  absl::MutexLock lock(&tables_mu_);
  next_table_id_ = id + 1;
  tables_.emplace(schema.name(), MakeTableInfo(id, schema));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TableSchema>> RocksEngine::ListTables() {
  std::vector<TableSchema> out;
  {
    absl::MutexLock lock(&tables_mu_);
    for (const auto& [name, info] : tables_) out.push_back(info->schema);
  }
  std::sort(out.begin(), out.end(),
            [](const TableSchema& a, const TableSchema& b) {
              return a.name() < b.name();
            });
  return out;
}

absl::Status RocksEngine::DeleteTable(absl::string_view name) {
  if (options_.builtin_table.has_value() &&
      name == options_.builtin_table->name()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the built-in table '", name, "' cannot be deleted"));
  }
  absl::MutexLock admin(&admin_mu_);
  KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info, FindTable(name));
  // Writes already admitted for this table may still land after the range
  // delete; they stay invisible, since table ids are never reused.
  rocksdb::WriteBatch batch;
  std::string begin = TablePrefix(info->id);
  std::string end = PrefixSuccessor(begin);
  KV_RETURN_IF_ERROR(FromRocks(batch.Delete(TableKey(name)), "delete"));
  KV_RETURN_IF_ERROR(
      FromRocks(batch.DeleteRange(db_->DefaultColumnFamily(), begin, end),
                "delete range"));
  KV_RETURN_IF_ERROR(WriteAdmin(batch));
  absl::MutexLock lock(&tables_mu_);
  tables_.erase(name);
  return absl::OkStatus();
}

absl::Status RocksEngine::ClearTable(absl::string_view name) {
  absl::MutexLock admin(&admin_mu_);
  KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info, FindTable(name));
  rocksdb::WriteBatch batch;
  std::string begin = TablePrefix(info->id);
  KV_RETURN_IF_ERROR(FromRocks(batch.DeleteRange(db_->DefaultColumnFamily(),
                                                 begin, PrefixSuccessor(begin)),
                               "delete range"));
  KV_RETURN_IF_ERROR(WriteAdmin(batch));
  // The table keeps its id, so its cached rows must go (a range: all of them).
  InvalidateCachedRows(batch);
  return absl::OkStatus();
}

EngineStats RocksEngine::GetStats() {
  EngineStats stats;
  db_->GetIntProperty("rocksdb.estimate-num-keys", &stats.estimated_keys);
  db_->GetIntProperty("rocksdb.live-sst-files-size", &stats.live_sst_bytes);
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &stats.memtable_bytes);
  uint64_t flushes = 0, compactions = 0, pending = 0;
  db_->GetIntProperty("rocksdb.num-running-flushes", &flushes);
  db_->GetIntProperty("rocksdb.num-running-compactions", &compactions);
  db_->GetIntProperty("rocksdb.compaction-pending", &pending);
  stats.background_jobs = flushes + compactions + pending;
  stats.writes_committed = writes_committed_.load(std::memory_order_relaxed);
  stats.wal_syncs = commits_->syncs();
  stats.wal_flushes = commits_->flushes();
  stats.writes_refused = !commits_->Writable().ok();
  stats.refused_writes = commits_->refused();
  stats.write_recoveries = commits_->recoveries();
  if (row_cache_ != nullptr) {
    RowCache::Stats cache = row_cache_->GetStats();
    stats.row_cache_hits = cache.hits;
    stats.row_cache_misses = cache.misses;
    stats.row_cache_bytes = cache.bytes;
  }
  return stats;
}

absl::Status RocksEngine::Close() {
  if (closed_.exchange(true)) return absl::OkStatus();
  iterators_.Close();
  commits_->Close();
  absl::Status status = FromRocks(db_->FlushWAL(!options_.in_memory),
                                  "final write-ahead log flush");
  absl::Status closed = FromRocks(db_->Close(), "close database");
  return status.ok() ? closed : status;
}

absl::Status RocksEngine::WriteAdmin(rocksdb::WriteBatch& batch) {
  if (closed_.load()) {
    return absl::FailedPreconditionError("the store is shutting down");
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = !options_.in_memory;
  return FromRocks(db_->Write(write_options, &batch), "write table metadata");
}

absl::Status RocksEngine::ValidateRowKey(absl::string_view row) {
  if (row.empty())
    return absl::InvalidArgumentError("row key must not be empty");
  if (row.size() > kMaxRowKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "row key is ", row.size(), " bytes; the limit is ", kMaxRowKeyBytes));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const TableInfo>> RocksEngine::FindTable(
    absl::string_view table) {
  absl::MutexLock lock(&tables_mu_);
  auto it = tables_.find(table);
  if (it == tables_.end()) {
    return absl::NotFoundError(
        absl::StrCat("table ", Quote(table), " not found"));
  }
  return it->second;
}

void RocksEngine::InvalidateCachedRows(rocksdb::WriteBatch& batch) {
  if (row_cache_ == nullptr) return;
  RowInvalidator invalidator(row_cache_.get());
  batch.Iterate(&invalidator).PermitUncheckedError();
}

}  // namespace rocks

absl::StatusOr<std::vector<Cell>> TEST_ReadStoredRow(Engine& engine,
                                                     absl::string_view table,
                                                     absl::string_view row) {
  return static_cast<rocks::RocksEngine&>(engine).ReadStoredRow(table, row);
}

}  // namespace kvstore::store
