// Private to the storage library: the pieces the RocksDB engine's files share
// (rocks_engine.cc, rocks_engine_write.cc, rocks_open.cc,
// rocks_row_scanner.cc): metadata keys, table info, conversions, the prefix
// extractor, the iterator pool and the row-cache invalidator.
//
// Free functions are pure and thread-safe; classes say their own.
#ifndef KVSTORE_STORE_STORAGE_ROCKS_SUPPORT_H_
#define KVSTORE_STORE_STORAGE_ROCKS_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/db.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/write_batch.h"
#include "store/filter/row_filter.h"
#include "store/storage/engine.h"
#include "store/storage/key_codec.h"
#include "store/storage/rocks_engine.h"
#include "store/storage/row_cache.h"

namespace kvstore::store::rocks {
inline constexpr uint32_t kBuiltinTableId = 1;  // EngineOptions::builtin_table
// Metadata keys sort before cell keys ('c') and outside the prefix extractor's
// domain.
inline constexpr absl::string_view kCeilingKeyPrefix = "M/ts-ceiling/";
inline constexpr int64_t kCeilingStepMicros = 1000000;
inline constexpr absl::string_view kServerCeiling = "server/";
inline constexpr absl::string_view kExplicitMax = "explicit/";

std::string CeilingKey(absl::string_view kind, int shard);

std::string EncodeInt64(int64_t v);

std::string EncodeUint32(uint32_t v);

// Callers check that `in` holds 4 bytes.
uint32_t DecodeUint32(absl::string_view in);

// Timestamp bounds persisted by earlier runs (see PersistCeilings).
struct Ceilings {
  int64_t server = 0;
  int64_t explicit_max = -1;
};
// The length of the row part of a cell key ('c', table id, Seg(row)), or 0 if
// `key` has none.
size_t RowPrefixLength(const rocksdb::Slice& key);

// RocksDB prefix extractor: a cell key's prefix is its row. With it, SST files
// carry per-row bloom filters, so reading one row (a point :readRows, a
// newest-cell read, the seed's /get) skips every file that lacks the row.
// Iterators that cross rows must set total_order_seek.
class RowPrefixTransform final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "kvstore.RowPrefix.v1"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), RowPrefixLength(key));
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return RowPrefixLength(key) != 0;
  }
};

// ReadOptions for scans that may cross rows (see RowPrefixTransform).
rocksdb::ReadOptions TotalOrder(const rocksdb::Slice* upper_bound);

// ResourceExhausted for a full disk (NoSpace), else Internal; `what` leads
// the message.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what);

struct TableInfo {
  uint32_t id = 0;
  TableSchema schema;
  absl::flat_hash_map<std::string, int> max_versions;  // by family name
  absl::flat_hash_map<std::string, int64_t>
      max_age_micros;        // by family; 0 = none
  bool has_max_age = false;  // some family has a max age
};

std::shared_ptr<const TableInfo> MakeTableInfo(uint32_t id, TableSchema schema);

inline constexpr absl::string_view kTableKeyPrefix = "M/table/";
inline constexpr char kNextTableIdKey[] = "M/next-table-id";
// When writes last recovered from a storage failure (RecoverWrites).
inline constexpr char kRecoveryMarkerKey[] = "M/recovered-at";

std::string TableKey(absl::string_view name);

// Tables persisted by earlier runs, and the next table id to hand out.
struct LoadedTables {
  std::vector<std::shared_ptr<const TableInfo>> tables;
  uint32_t next_id = kBuiltinTableId + 1;
};

// The cell stored under `key` with value `stored`, in either layout.
absl::StatusOr<Cell> ToCell(CellKey key, absl::string_view stored);

// True if `cell` is older than its family's max_age at `now_micros`.
bool Expired(const TableInfo& table, absl::string_view family,
             int64_t timestamp_micros, int64_t now_micros);
bool Expired(const TableInfo& table, const Cell& cell, int64_t now_micros);

inline absl::string_view ToView(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

FilterCell ToFilterCell(Cell cell);

// Reusable iterators in prefix mode (reads within one row): Refresh() on an
// iterator whose files have not changed only moves its read sequence forward,
// which costs far less than building a new one. Holds at most
// kMaxIdle iterators (about one per concurrent reader). Thread-safe.
class IteratorPool {
 public:
  explicit IteratorPool(rocksdb::DB* db) : db_(db) {}

  // A refreshed idle iterator, or a new one.
  std::unique_ptr<rocksdb::Iterator> Take() {
    std::unique_ptr<rocksdb::Iterator> it;
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        it = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (it != nullptr && it->Refresh().ok()) return it;
    rocksdb::ReadOptions options;
    options.prefix_same_as_start = true;
    return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(options));
  }

  // Keeps `it` for reuse unless the pool is full or closed.
  void Return(std::unique_ptr<rocksdb::Iterator> it) {
    absl::MutexLock lock(&mu_);
    if (!closed_ && idle_.size() < kMaxIdle && it->status().ok()) {
      idle_.push_back(std::move(it));
    }
  }

  // Drops the idle iterators (they pin the database's files) and stops
  // keeping returned ones.
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    idle_.clear();
  }

 private:
  static constexpr size_t kMaxIdle = 64;
  rocksdb::DB* const db_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<rocksdb::Iterator>> idle_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// Invalidates, in a row cache, every row a write batch touches (see RowCache).
class RowInvalidator final : public rocksdb::WriteBatch::Handler {
 public:
  explicit RowInvalidator(RowCache* cache) : cache_(cache) {}

  rocksdb::Status PutCF(uint32_t, const rocksdb::Slice& key,
                        const rocksdb::Slice&) override {
    Touch(key);
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice& key) override {
    Touch(key);
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice& key) override {
    Touch(key);
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice& key,
                          const rocksdb::Slice&) override {
    Touch(key);
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice& begin,
                                const rocksdb::Slice& end) override {
    const size_t row = RowPrefixLength(begin);
    const std::string row_end =
        row == 0 ? "" : PrefixSuccessor(std::string(begin.data(), row));
    if (row != 0 && ToView(end) <= row_end) {
      Touch(begin);
    } else {
      cache_->InvalidateAll();  // a range of rows
    }
    return rocksdb::Status::OK();
  }
  void LogData(const rocksdb::Slice&) override {}

 private:
  void Touch(const rocksdb::Slice& key) {
    const size_t length = RowPrefixLength(key);
    if (length == 0) return;  // metadata
    absl::string_view row(key.data(), length);
    if (row == last_) return;  // the batch's cells come row by row
    last_.assign(row.data(), row.size());
    cache_->Invalidate(row);
  }

  RowCache* const cache_;
  std::string last_;
};

// Calls `visit` with every key under `prefix` and its value, in key order
// (a total-order scan, so any prefix works), until it returns an
// error, which is returned. Internal on a storage error.
absl::Status ForEachWithPrefix(
    rocksdb::DB* db, absl::string_view prefix,
    absl::FunctionRef<absl::Status(absl::string_view key,
                                   absl::string_view value)>
        visit);

// Whether writes are acknowledged without an fsync each: then they run inline
// on the I/O thread, and the log's buffer is flushed by hand once per I/O-loop
// turn (RocksDB's manual_wal_flush; defer_acks in commit_queue.h).
bool FlushesLogByHand(const EngineOptions& options);

}  // namespace kvstore::store::rocks

#endif  // KVSTORE_STORE_STORAGE_ROCKS_SUPPORT_H_
