// Private to the storage library: the Engine on RocksDB (see rocks_engine.h).
// Its methods live in rocks_engine.cc (reads, tables, stats, closing) and
// rocks_engine_write.cc (the write path); rocks_open.cc opens the database.
//
// Thread-safe, as every Engine.
#ifndef KVSTORE_STORE_STORAGE_ROCKS_ENGINE_IMPL_H_
#define KVSTORE_STORE_STORAGE_ROCKS_ENGINE_IMPL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "store/storage/commit_queue.h"
#include "store/storage/engine.h"
#include "store/storage/key_codec.h"
#include "store/storage/rocks_engine.h"
#include "store/storage/rocks_support.h"
#include "store/storage/row_cache.h"

namespace kvstore::store::rocks {

class RocksEngine final : public Engine {
 public:
  // `persisted` are the largest ceilings earlier runs persisted (see
  // PersistCeilings).
  RocksEngine(const EngineOptions& options, std::unique_ptr<rocksdb::Env> env,
              std::unique_ptr<rocksdb::DB> db, Ceilings persisted,
              LoadedTables loaded);

  ~RocksEngine() override { Close().IgnoreError(); }

  void MutateRow(absl::string_view table, std::string row,
                 std::vector<Mutation> mutations, WriteCallback done) override;

  void CheckAndMutateRow(absl::string_view table, std::string row,
                         std::shared_ptr<const CompiledFilter> predicate,
                         std::vector<Mutation> if_true,
                         std::vector<Mutation> if_false,
                         CheckCallback done) override;

  void ReadModifyWriteRow(absl::string_view table, std::string row,
                          std::vector<v1::ReadModifyWriteRule> rules,
                          RowCallback done) override;

  absl::StatusOr<std::vector<RowKeySample>> SampleRowKeys(
      absl::string_view table) override;

  absl::StatusOr<std::optional<Cell>> ReadNewestCell(
      absl::string_view table, absl::string_view row, absl::string_view family,
      absl::string_view qualifier) override;

  // TEST_ReadStoredRow (rocks_engine.h).
  absl::StatusOr<std::vector<Cell>> ReadStoredRow(absl::string_view table,
                                                  absl::string_view row);

  absl::StatusOr<std::unique_ptr<RowScanner>> ScanRows(absl::string_view table,
                                                       const v1::RowSet& rows,
                                                       bool reversed) override;

  absl::Status CreateTable(const TableSchema& schema) override;

  absl::StatusOr<std::vector<TableSchema>> ListTables() override;

  absl::StatusOr<TableSchema> GetTable(absl::string_view name) override {
    KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info, FindTable(name));
    return info->schema;
  }

  absl::Status DeleteTable(absl::string_view name) override;
  absl::Status ClearTable(absl::string_view name) override;

  EngineStats GetStats() override;
  absl::Status Writable() override { return commits_->Writable(); }

  absl::Status Close() override;

 private:
  // The commit queue's RecoverFn: clears RocksDB's background error and moves
  // to a new log (see CommitQueue).
  absl::Status RecoverWrites();
  // Writes an admin change, synced unless in memory.
  absl::Status WriteAdmin(rocksdb::WriteBatch& batch);

  static bool IsSingleVersion(const TableInfo& info, absl::string_view family) {
    auto it = info.max_versions.find(family);
    return it != info.max_versions.end() && it->second == 1;
  }

  static absl::Status ValidateRowKey(absl::string_view row);

  absl::StatusOr<std::shared_ptr<const TableInfo>> FindTable(
      absl::string_view table);

  absl::StatusOr<std::shared_ptr<const TableInfo>> Validate(
      absl::string_view table, absl::string_view row,
      const std::vector<Mutation>& mutations);

  // A server timestamp: the clock in microseconds, strictly increasing across
  // calls so that a later write never sorts older than an earlier one.
  int64_t ServerNow();

  void RaiseExplicitMax(int64_t timestamp);

  // A single-version write at server time may skip reading the column when its
  // timestamp is newer than every stored one. Stored cells have server
  // timestamps (below every later ServerNow(), also across runs: each run
  // starts its clock at the persisted server ceiling) or explicit ones (below
  // explicit_max_, also persisted). Each shard persists both in the same batch
  // as the writes they cover: the server ceiling a second ahead, so it is
  // rewritten about once a second; the explicit maximum exactly, when it grows.
  // Must be the last step of a successful Apply on `shard`'s thread.
  absl::Status PersistCeilings(int shard, int64_t newest_server,
                               int64_t newest_explicit,
                               rocksdb::WriteBatchWithIndex& batch);

  // Keys under `prefix` as the batch plus the database see them; `keep` filters
  // them. Stops after visiting `max_visits` keys if that is > 0. `column` says
  // the prefix is a whole column's (ColumnPrefix): the scan then seeks in the
  // prefix extractor's domain and skips files by their bloom filters.
  absl::StatusOr<std::vector<std::string>> KeysWithPrefix(
      rocksdb::WriteBatchWithIndex& batch, const std::string& prefix,
      const std::function<bool(const CellKey&)>& keep, int max_visits = 0,
      bool column = false);

  absl::StatusOr<std::shared_ptr<const TableInfo>> ValidateRules(
      absl::string_view table, absl::string_view row,
      const std::vector<v1::ReadModifyWriteRule>& rules);

  // Every live cell of `row` as the batch plus the database see it, in row
  // order, with cells past their family's max_age left out.
  absl::StatusOr<std::vector<FilterCell>> RowInBatch(
      rocksdb::WriteBatchWithIndex& batch, const TableInfo& info,
      const std::string& row);

  // The newest cell of one column as the batch plus the database see it.
  absl::StatusOr<std::optional<Cell>> NewestInBatch(
      rocksdb::WriteBatchWithIndex& batch, const TableInfo& info,
      const std::string& row, const std::string& family,
      const std::string& qualifier);

  // The timestamp of a single-version column's cell as the batch plus the
  // database see it, or nullopt if there is none.
  absl::StatusOr<std::optional<int64_t>> SingleVersionTimestamp(
      rocksdb::WriteBatchWithIndex& batch, const std::string& key);

  // EngineOptions::before_write: runs on the writer (an error fails this
  // write with nothing written; a call that blocks stalls the writer).
  absl::Status BeforeWrite(const TableInfo& info, const std::string& row) {
    if (!options_.before_write) return absl::OkStatus();
    return options_.before_write(info.schema.name(), row);
  }

  // What one Apply has written so far, for its last steps.
  struct ApplyState {
    // The largest server and explicit timestamps written to single-version
    // families.
    int64_t newest_server = -1;
    int64_t newest_explicit = -1;
    // (family, qualifier) -> cells set in it, in multi-version families.
    absl::flat_hash_map<std::pair<std::string, std::string>, int>
        touched_columns;
  };
  absl::Status ApplySetCell(const TableInfo& info, const std::string& row,
                            const Mutation& m,
                            rocksdb::WriteBatchWithIndex& batch,
                            ApplyState& state);
  // The keys a delete mutation removes.
  absl::StatusOr<std::vector<std::string>> DeletedBy(
      const TableInfo& info, const std::string& row, const Mutation& m,
      rocksdb::WriteBatchWithIndex& batch);
  // Deletes the versions beyond each touched column's max_versions.
  absl::Status DropExcessVersions(const TableInfo& info, const std::string& row,
                                  const ApplyState& state,
                                  rocksdb::WriteBatchWithIndex& batch);
  // Runs on the row's writer thread: no other write to this row runs
  // concurrently. Adds the mutations to `batch` (the writer group's shared
  // batch, which already holds the group's earlier writes and is read through).
  absl::Status Apply(const TableInfo& info, const std::string& row,
                     const std::vector<Mutation>& mutations, int shard,
                     rocksdb::WriteBatchWithIndex& batch);

  // Forgets every row `batch` touched in the row cache, if any.
  void InvalidateCachedRows(rocksdb::WriteBatch& batch);

  const EngineOptions options_;
  std::unique_ptr<rocksdb::Env>
      env_;  // the in-memory environment, if any; outlives db_
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<CommitQueue> commits_;
  absl::Mutex admin_mu_;  // serializes table creation and deletion
  absl::Mutex tables_mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const TableInfo>> tables_
      ABSL_GUARDED_BY(tables_mu_);
  uint32_t next_table_id_ ABSL_GUARDED_BY(tables_mu_) = kBuiltinTableId + 1;
  struct ShardCeilings {
    int64_t server = 0;
    int64_t explicit_max = -1;
  };
  // Per writer shard; each touched only by its shard's thread.
  std::vector<ShardCeilings> ceilings_;
  std::atomic<int64_t> last_server_micros_;
  std::atomic<int64_t> explicit_max_;
  std::atomic<uint64_t> writes_committed_{0};
  std::atomic<bool> closed_{false};

  IteratorPool iterators_{db_.get()};  // after db_, which it reads
  // Null when disabled. Before the commit queue (created in the constructor's
  // body), whose writes invalidate it.
  std::unique_ptr<RowCache> row_cache_ =
      options_.row_cache_bytes == 0
          ? nullptr
          : std::make_unique<RowCache>(
                RowCache::Options{options_.row_cache_bytes, 64 << 10, 16});
};

}  // namespace kvstore::store::rocks

#endif  // KVSTORE_STORE_STORAGE_ROCKS_ENGINE_IMPL_H_
