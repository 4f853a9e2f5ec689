#include "store/storage/rocks_engine.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/coding.h"
#include "common/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/metadata.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/snapshot.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "store/storage/commit_queue.h"
#include "store/storage/key_codec.h"
#include "store/storage/row_cache.h"
#include "store/storage/row_set.h"

namespace kvstore::store {
namespace {

constexpr uint32_t kBuiltinTableId = 1;  // EngineOptions::builtin_table
// Metadata keys sort before cell keys ('c') and outside the prefix extractor's
// domain.
constexpr absl::string_view kCeilingKeyPrefix = "M/ts-ceiling/";
constexpr int64_t kCeilingStepMicros = 1000000;
constexpr absl::string_view kServerCeiling = "server/";
constexpr absl::string_view kExplicitMax = "explicit/";

std::string CeilingKey(absl::string_view kind, int shard) {
  return absl::StrCat(kCeilingKeyPrefix, kind, shard);
}

std::string EncodeInt64(int64_t v) {
  std::string out;
  AppendBigEndian64(static_cast<uint64_t>(v), &out);
  return out;
}

std::string EncodeUint32(uint32_t v) {
  std::string out;
  AppendBigEndian32(v, &out);
  return out;
}

// Callers check that `in` holds 4 bytes.
uint32_t DecodeUint32(absl::string_view in) {
  uint32_t v = 0;
  ReadBigEndian32(in, &v);
  return v;
}

// Timestamp bounds persisted by earlier runs (see PersistCeilings).
struct Ceilings {
  int64_t server = 0;
  int64_t explicit_max = -1;
};
// The length of the row part of a cell key ('c', table id, Seg(row)), or 0 if
// `key` has none.
size_t RowPrefixLength(const rocksdb::Slice& key) {
  if (key.size() < 5 || key[0] != 'c') return 0;
  for (size_t i = 5; i + 1 < key.size(); ++i) {
    if (key[i] != '\0') continue;
    if (key[i + 1] == '\x01') return i + 2;  // the segment's terminator
    ++i;                                     // an escaped zero byte
  }
  return 0;
}

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

// ReadOptions for scans that may cross columns (see ColumnPrefixTransform).
rocksdb::ReadOptions TotalOrder(const rocksdb::Slice* upper_bound) {
  rocksdb::ReadOptions options;
  options.total_order_seek = true;
  options.iterate_upper_bound = upper_bound;
  return options;
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

struct TableInfo {
  uint32_t id = 0;
  TableSchema schema;
  absl::flat_hash_map<std::string, int> max_versions;  // by family name
  absl::flat_hash_map<std::string, int64_t>
      max_age_micros;        // by family; 0 = none
  bool has_max_age = false;  // some family has a max age
};

std::shared_ptr<const TableInfo> MakeTableInfo(uint32_t id,
                                               TableSchema schema) {
  auto info = std::make_shared<TableInfo>();
  info->id = id;
  for (const auto& family : schema.column_families()) {
    info->max_versions[family.name()] = family.gc_rule().max_versions();
    info->max_age_micros[family.name()] = family.gc_rule().max_age_micros();
    if (family.gc_rule().max_age_micros() > 0) info->has_max_age = true;
  }
  info->schema = std::move(schema);
  return info;
}

constexpr absl::string_view kTableKeyPrefix = "M/table/";
constexpr char kNextTableIdKey[] = "M/next-table-id";

std::string TableKey(absl::string_view name) {
  return absl::StrCat(kTableKeyPrefix, name);
}

// Tables persisted by earlier runs, and the next table id to hand out.
struct LoadedTables {
  std::vector<std::shared_ptr<const TableInfo>> tables;
  uint32_t next_id = kBuiltinTableId + 1;
};

// The cell stored under `key` with value `stored`, in either layout.
absl::StatusOr<Cell> ToCell(CellKey key, absl::string_view stored) {
  if (!key.single_version) {
    return Cell{std::move(key.family), std::move(key.qualifier),
                key.timestamp_micros, std::string(stored)};
  }
  int64_t timestamp = 0;
  absl::string_view value;
  if (!DecodeSingleVersionValue(stored, &timestamp, &value)) {
    return absl::DataLossError("corrupt single-version cell value");
  }
  return Cell{std::move(key.family), std::move(key.qualifier), timestamp,
              std::string(value)};
}

// True if `cell` is older than its family's max_age at `now_micros`.
bool Expired(const TableInfo& table, absl::string_view family,
             int64_t timestamp_micros, int64_t now_micros) {
  if (!table.has_max_age) return false;
  auto max_age = table.max_age_micros.find(family);
  return max_age != table.max_age_micros.end() && max_age->second > 0 &&
         timestamp_micros < now_micros - max_age->second;
}
bool Expired(const TableInfo& table, const Cell& cell, int64_t now_micros) {
  return Expired(table, cell.family, cell.timestamp_micros, now_micros);
}

absl::string_view ToView(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

FilterCell ToFilterCell(Cell cell) {
  return FilterCell{std::move(cell.family),
                    std::move(cell.qualifier),
                    cell.timestamp_micros,
                    std::move(cell.value),
                    {}};
}

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

// True if the interval holds exactly one row key.
bool IsSingleRow(const KeyInterval& interval) {
  return !interval.end_unbounded &&
         interval.end.size() == interval.start.size() + 1 &&
         interval.end.back() == '\0' &&
         absl::StartsWith(interval.end, interval.start);
}

// Scans rows interval by interval on one snapshot. See RowScanner. A read of
// one row needs no snapshot (one iterator is a consistent view): it is served
// by the row cache, or else read with a pooled prefix-mode iterator, which
// bloom filters steer past files that lack the row.
class RocksRowScanner final : public RowScanner {
 public:
  // `pool` and `cache` (null: none) must outlive the scanner.
  RocksRowScanner(rocksdb::DB* db, IteratorPool* pool, RowCache* cache,
                  std::shared_ptr<const TableInfo> table,
                  std::vector<KeyInterval> intervals, bool reversed)
      : db_(db),
        pool_(pool),
        cache_(cache),
        table_(std::move(table)),
        intervals_(std::move(intervals)),
        reversed_(reversed),
        now_micros_(absl::ToUnixMicros(absl::Now())) {
    if (reversed_) std::reverse(intervals_.begin(), intervals_.end());
    if (intervals_.size() != 1 || !IsSingleRow(intervals_[0])) {
      snapshot_.emplace(db_);
    }
  }

  ~RocksRowScanner() override { CloseIterator(); }

  absl::StatusOr<bool> Next(ScannedRow* row) override {
    if (!snapshot_.has_value()) return NextPointRow(row);
    while (true) {
      if (it_ == nullptr) {
        if (next_interval_ >= intervals_.size()) return false;
        Open(intervals_[next_interval_++]);
      }
      if (!it_->Valid()) {
        KV_RETURN_IF_ERROR(FromRocksStatus(it_->status()));
        CloseIterator();
        continue;
      }
      KV_ASSIGN_OR_RETURN(bool found, ReadOneRow(row));
      if (found) return true;
    }
  }

 private:
  static absl::Status FromRocksStatus(const rocksdb::Status& s) {
    return s.ok() ? absl::OkStatus()
                  : absl::InternalError(absl::StrCat("scan: ", s.ToString()));
  }

  // The one row of a one-row read, from the cache or from storage.
  absl::StatusOr<bool> NextPointRow(ScannedRow* row) {
    if (next_interval_ >= intervals_.size()) return false;
    const KeyInterval& interval = intervals_[next_interval_++];
    std::string prefix = RowPrefix(table_->id, interval.start);
    uint64_t ticket = 0;
    std::shared_ptr<const RowCache::Row> cached;
    // The ticket must predate the read (see RowCache).
    if (cache_ != nullptr) cached = cache_->Lookup(prefix, &ticket);
    std::vector<Cell> owned;  // the cells read, when not cached
    if (cached == nullptr) {
      KV_ASSIGN_OR_RETURN(owned, LoadRow(prefix));
      size_t bytes = 0;
      for (const Cell& cell : owned) bytes += RowCache::CellBytes(cell);
      if (cache_ != nullptr && cache_->Admits(bytes)) {
        auto loaded = std::make_shared<RowCache::Row>();
        loaded->cells = std::move(owned);
        owned.clear();
        cache_->Insert(prefix, loaded, ticket);
        cached = std::move(loaded);
      }
    }
    row->key = interval.start;
    row->cells.clear();
    if (cached != nullptr) {
      for (const Cell& cell : cached->cells) {
        if (Expired(*table_, cell, now_micros_)) continue;
        row->cells.push_back(FilterCell{cell.family,
                                        cell.qualifier,
                                        cell.timestamp_micros,
                                        cell.value,
                                        {}});
      }
    } else {
      for (Cell& cell : owned) {
        if (Expired(*table_, cell, now_micros_)) continue;
        row->cells.push_back(ToFilterCell(std::move(cell)));
      }
    }
    return !row->cells.empty();
  }

  // Every stored cell of the row whose key prefix is `prefix`, unfiltered.
  absl::StatusOr<std::vector<Cell>> LoadRow(const std::string& prefix) {
    std::unique_ptr<rocksdb::Iterator> it = pool_->Take();
    std::vector<Cell> cells;
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      absl::string_view key = ToView(it->key());
      if (!absl::StartsWith(key, prefix)) break;
      KV_ASSIGN_OR_RETURN(CellKey decoded, DecodeCellKey(key));
      KV_ASSIGN_OR_RETURN(Cell cell,
                          ToCell(std::move(decoded), ToView(it->value())));
      cells.push_back(std::move(cell));
    }
    KV_RETURN_IF_ERROR(FromRocksStatus(it->status()));
    pool_->Return(std::move(it));
    return cells;
  }

  void Open(const KeyInterval& interval) {
    backward_ = reversed_;
    if (IsSingleRow(interval)) {
      // Prefix mode: the iterator ends with the row, and bloom filters skip
      // files without it. Forward even when reversed: it is one row.
      backward_ = false;
      lower_ = RowPrefix(table_->id, interval.start);
      rocksdb::ReadOptions options;
      options.prefix_same_as_start = true;
      options.snapshot = snapshot_->snapshot();
      it_.reset(db_->NewIterator(options));
      it_->Seek(lower_);
      return;
    }
    lower_ = TablePrefix(table_->id);
    AppendSegment(&lower_, interval.start);
    if (interval.end_unbounded) {
      upper_ = PrefixSuccessor(TablePrefix(table_->id));
    } else {
      upper_ = TablePrefix(table_->id);
      AppendSegment(&upper_, interval.end);
    }
    lower_slice_ = rocksdb::Slice(lower_);
    upper_slice_ = rocksdb::Slice(upper_);
    rocksdb::ReadOptions options;
    options.total_order_seek = true;
    options.snapshot = snapshot_->snapshot();
    options.iterate_lower_bound = &lower_slice_;
    options.iterate_upper_bound = &upper_slice_;
    it_.reset(db_->NewIterator(options));
    if (backward_) {
      it_->SeekToLast();
    } else {
      it_->SeekToFirst();
    }
  }

  void CloseIterator() { it_.reset(); }

  // Reads every cell of the row under the iterator into *row and leaves the
  // iterator on the next row. False if all its cells have expired. Decodes
  // the row key once per row: later cells are matched on its encoded prefix.
  absl::StatusOr<bool> ReadOneRow(ScannedRow* row) {
    row->cells.clear();
    absl::string_view first = ToView(it_->key());
    absl::string_view rest = first;
    if (rest.size() < 5 || !(rest.remove_prefix(5), true) ||
        !ConsumeSegment(&rest, &row->key)) {
      return absl::DataLossError("scan: malformed cell key");
    }
    row_prefix_.assign(first.data(), first.size() - rest.size());
    for (; it_->Valid(); backward_ ? it_->Prev() : it_->Next()) {
      absl::string_view key = ToView(it_->key());
      if (!absl::StartsWith(key, row_prefix_)) break;
      key.remove_prefix(row_prefix_.size());
      FilterCell& cell = row->cells.emplace_back();
      if (!ConsumeSegment(&key, &cell.family) ||
          !ConsumeSegment(&key, &cell.qualifier) || key.size() != 8) {
        return absl::DataLossError("scan: malformed cell key");
      }
      absl::string_view value = ToView(it_->value());
      int64_t timestamp = CellKeyTimestamp(key);
      if (timestamp == kSingleVersionTimestamp) {
        if (!DecodeSingleVersionValue(value, &timestamp, &value)) {
          return absl::DataLossError("corrupt single-version cell value");
        }
      } else if (timestamp < 0) {
        return absl::DataLossError("scan: negative cell timestamp");
      }
      cell.timestamp_micros = timestamp;
      if (Expired(*table_, cell.family, timestamp, now_micros_)) {
        row->cells.pop_back();
        continue;
      }
      cell.value.assign(value.data(), value.size());
    }
    KV_RETURN_IF_ERROR(FromRocksStatus(it_->status()));
    if (backward_) std::reverse(row->cells.begin(), row->cells.end());
    return !row->cells.empty();
  }

  rocksdb::DB* const db_;
  IteratorPool* const pool_;
  RowCache* const cache_;
  // Unset for a one-row read.
  std::optional<rocksdb::ManagedSnapshot> snapshot_;
  const std::shared_ptr<const TableInfo> table_;
  std::vector<KeyInterval> intervals_;
  const bool reversed_;
  const int64_t now_micros_;
  size_t next_interval_ = 0;
  // The current interval's bounds, which its iterator points into.
  std::string lower_, upper_;
  rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
  bool backward_ = false;   // it_ walks the current interval backwards
  std::string row_prefix_;  // the encoded key prefix of the row being read
};

// Whether writes are acknowledged without an fsync each: then they run inline
// on the I/O thread, and the log's buffer is flushed by hand once per I/O-loop
// turn (RocksDB's manual_wal_flush; defer_acks in commit_queue.h).
bool FlushesLogByHand(const EngineOptions& options) {
  return options.in_memory || options.sync != SyncMode::kAlways;
}

class RocksEngine final : public Engine {
 public:
  // `persisted` are the largest ceilings earlier runs persisted (see
  // PersistCeilings).
  RocksEngine(const EngineOptions& options, std::unique_ptr<rocksdb::Env> env,
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
          // Before the write is acknowledged, and whatever its outcome.
          InvalidateCachedRows(*batch.GetWriteBatch());
          return written;
        },
        // FlushWAL(true) also writes out what a manual flush left buffered.
        [this] {
          return FromRocks(db_->FlushWAL(/*sync=*/true),
                           "sync write-ahead log");
        },
        [this] {
          return FromRocks(db_->FlushWAL(/*sync=*/false),
                           "flush write-ahead log");
        });
  }

  ~RocksEngine() override { Close().IgnoreError(); }

  void MutateRow(absl::string_view table, std::string row,
                 std::vector<Mutation> mutations, WriteCallback done) override {
    absl::StatusOr<std::shared_ptr<const TableInfo>> info =
        Validate(table, row, mutations);
    if (!info.ok()) {
      std::move(done)(info.status());
      return;
    }
    uint64_t shard_key = absl::Hash<absl::string_view>()(row);
    int shard = static_cast<int>(shard_key % ceilings_.size());
    commits_->Submit(
        shard_key,
        [this, info = *info, row = std::move(row), shard,
         mutations =
             std::move(mutations)](rocksdb::WriteBatchWithIndex& batch) {
          KV_RETURN_IF_ERROR(BeforeWrite(*info, row));
          return Apply(*info, row, mutations, shard, batch);
        },
        [this, done = std::move(done)](absl::Status status) mutable {
          if (status.ok())
            writes_committed_.fetch_add(1, std::memory_order_relaxed);
          std::move(done)(std::move(status));
        });
  }

  void CheckAndMutateRow(absl::string_view table, std::string row,
                         std::shared_ptr<const CompiledFilter> predicate,
                         std::vector<Mutation> if_true,
                         std::vector<Mutation> if_false,
                         CheckCallback done) override {
    if (if_true.empty() && if_false.empty()) {
      std::move(done)(absl::InvalidArgumentError(
          "trueMutations and falseMutations are both empty"));
      return;
    }
    absl::StatusOr<std::shared_ptr<const TableInfo>> info =
        Validate(table, row, if_true);
    if (info.ok()) info = Validate(table, row, if_false);
    if (!info.ok()) {
      std::move(done)(info.status());
      return;
    }
    uint64_t shard_key = absl::Hash<absl::string_view>()(row);
    int shard = static_cast<int>(shard_key % ceilings_.size());
    auto matched = std::make_shared<bool>(false);
    commits_->Submit(
        shard_key,
        [this, info = *info, row = std::move(row), shard, matched,
         predicate = std::move(predicate), if_true = std::move(if_true),
         if_false = std::move(if_false)](
            rocksdb::WriteBatchWithIndex& batch) -> absl::Status {
          KV_RETURN_IF_ERROR(BeforeWrite(*info, row));
          KV_ASSIGN_OR_RETURN(std::vector<FilterCell> cells,
                              RowInBatch(batch, *info, row));
          *matched = predicate == nullptr
                         ? !cells.empty()
                         : !predicate->Apply(row, cells).empty();
          const std::vector<Mutation>& chosen = *matched ? if_true : if_false;
          if (chosen.empty()) return absl::OkStatus();
          return Apply(*info, row, chosen, shard, batch);
        },
        [matched, done = std::move(done)](absl::Status status) mutable {
          if (!status.ok()) {
            std::move(done)(std::move(status));
          } else {
            std::move(done)(*matched);
          }
        });
  }

  void ReadModifyWriteRow(absl::string_view table, std::string row,
                          std::vector<v1::ReadModifyWriteRule> rules,
                          RowCallback done) override {
    absl::StatusOr<std::shared_ptr<const TableInfo>> info =
        ValidateRules(table, row, rules);
    if (!info.ok()) {
      std::move(done)(info.status());
      return;
    }
    uint64_t shard_key = absl::Hash<absl::string_view>()(row);
    int shard = static_cast<int>(shard_key % ceilings_.size());
    auto result = std::make_shared<v1::Row>();
    commits_->Submit(
        shard_key,
        [this, info = *info, row = std::move(row), shard, result,
         rules = std::move(rules)](
            rocksdb::WriteBatchWithIndex& batch) -> absl::Status {
          KV_RETURN_IF_ERROR(BeforeWrite(*info, row));
          // (family, qualifier) -> the new cell, for the answer.
          std::map<std::pair<std::string, std::string>, FilterCell> touched;
          for (size_t i = 0; i < rules.size(); ++i) {
            const v1::ReadModifyWriteRule& rule = rules[i];
            KV_ASSIGN_OR_RETURN(
                std::optional<Cell> newest,
                NewestInBatch(batch, *info, row, rule.family_name(),
                              rule.column_qualifier()));
            std::string value = newest.has_value() ? newest->value : "";
            if (rule.rule_case() == v1::ReadModifyWriteRule::kAppendValue) {
              value += rule.append_value();
            } else {
              if (newest.has_value() && value.size() != 8) {
                return absl::InvalidArgumentError(absl::StrCat(
                    "rules[", i,
                    "]: incrementAmount needs an 8-byte big-endian "
                    "value; the cell holds ",
                    value.size(), " bytes"));
              }
              uint64_t n = 0;  // an absent cell counts as 0
              ReadBigEndian64(value, &n);
              n += static_cast<uint64_t>(rule.increment_amount());  // wraps
              value = EncodeInt64(static_cast<int64_t>(n));
            }
            int64_t timestamp = ServerNow();
            if (newest.has_value() && newest->timestamp_micros > timestamp) {
              timestamp = newest->timestamp_micros;
            }
            KV_RETURN_IF_ERROR(Apply(
                *info, row,
                {Mutation::SetCell(rule.family_name(), rule.column_qualifier(),
                                   timestamp, value)},
                shard, batch));
            touched[{rule.family_name(), rule.column_qualifier()}] =
                FilterCell{rule.family_name(),
                           rule.column_qualifier(),
                           timestamp,
                           std::move(value),
                           {}};
          }
          std::vector<FilterCell> cells;
          for (auto& [column, cell] : touched) cells.push_back(std::move(cell));
          *result = RowOf(row, std::move(cells));
          return absl::OkStatus();
        },
        [result, done = std::move(done)](absl::Status status) mutable {
          if (!status.ok()) {
            std::move(done)(std::move(status));
          } else {
            std::move(done)(std::move(*result));
          }
        });
  }

  absl::StatusOr<std::vector<RowKeySample>> SampleRowKeys(
      absl::string_view table) override {
    KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info,
                        FindTable(table));
    const std::string begin = TablePrefix(info->id);
    const std::string end = PrefixSuccessor(begin);
    // Candidate split points: the last row of every SST file in the table.
    std::vector<rocksdb::LiveFileMetaData> files;
    db_->GetLiveFilesMetaData(&files);
    std::vector<std::string> keys;
    for (const auto& file : files) {
      if (file.largestkey < begin || file.largestkey >= end) continue;
      absl::StatusOr<CellKey> key = DecodeCellKey(file.largestkey);
      if (key.ok()) keys.push_back(std::move(key->row));
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    // Offsets: everything from the table's start to the end of each key's row
    // (and to the table's end for the total), files and memtables alike.
    std::vector<std::string> limits;
    for (const std::string& key : keys) {
      limits.push_back(PrefixSuccessor(RowPrefix(info->id, key)));
    }
    limits.push_back(end);
    std::vector<rocksdb::Range> ranges;
    for (const std::string& limit : limits) ranges.emplace_back(begin, limit);
    std::vector<uint64_t> sizes(ranges.size());
    rocksdb::SizeApproximationOptions size_options;
    size_options.include_memtables = true;
    size_options.include_files = true;
    KV_RETURN_IF_ERROR(FromRocks(
        db_->GetApproximateSizes(size_options, db_->DefaultColumnFamily(),
                                 ranges.data(), static_cast<int>(ranges.size()),
                                 sizes.data()),
        "estimate sizes"));
    std::vector<RowKeySample> samples;
    int64_t previous = 0;
    for (size_t i = 0; i < limits.size(); ++i) {
      // Estimates of nested ranges can wobble: keep them non-decreasing.
      int64_t offset = std::max(previous, static_cast<int64_t>(sizes[i]));
      samples.push_back(RowKeySample{i < keys.size() ? keys[i] : "", offset});
      previous = offset;
    }
    return samples;
  }

  absl::StatusOr<std::optional<Cell>> ReadNewestCell(
      absl::string_view table, absl::string_view row, absl::string_view family,
      absl::string_view qualifier) override {
    KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info,
                        FindTable(table));
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

  // TEST_ReadStoredRow (rocks_engine.h).
  absl::StatusOr<std::vector<Cell>> ReadStoredRow(absl::string_view table,
                                                  absl::string_view row) {
    KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info,
                        FindTable(table));
    KV_RETURN_IF_ERROR(ValidateRowKey(row));
    std::string prefix = RowPrefix(info->id, row);
    std::string upper = PrefixSuccessor(prefix);
    rocksdb::Slice upper_slice(upper);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(TotalOrder(&upper_slice)));
    std::vector<Cell> cells;
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      KV_ASSIGN_OR_RETURN(CellKey key, DecodeCellKey(ToView(it->key())));
      KV_ASSIGN_OR_RETURN(Cell cell,
                          ToCell(std::move(key), ToView(it->value())));
      cells.push_back(std::move(cell));
    }
    KV_RETURN_IF_ERROR(FromRocks(it->status(), "read"));
    return cells;
  }

  absl::StatusOr<std::unique_ptr<RowScanner>> ScanRows(absl::string_view table,
                                                       const v1::RowSet& rows,
                                                       bool reversed) override {
    KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info,
                        FindTable(table));
    KV_ASSIGN_OR_RETURN(std::vector<KeyInterval> intervals,
                        NormalizeRowSet(rows));
    return std::unique_ptr<RowScanner>(
        new RocksRowScanner(db_.get(), &iterators_, row_cache_.get(),
                            std::move(info), std::move(intervals), reversed));
  }

  absl::Status CreateTable(const TableSchema& schema) override {
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

  absl::StatusOr<std::vector<TableSchema>> ListTables() override {
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

  absl::StatusOr<TableSchema> GetTable(absl::string_view name) override {
    KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info, FindTable(name));
    return info->schema;
  }

  absl::Status DeleteTable(absl::string_view name) override {
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

  EngineStats GetStats() override {
    EngineStats stats;
    db_->GetIntProperty("rocksdb.estimate-num-keys", &stats.estimated_keys);
    db_->GetIntProperty("rocksdb.live-sst-files-size", &stats.live_sst_bytes);
    db_->GetIntProperty("rocksdb.cur-size-all-mem-tables",
                        &stats.memtable_bytes);
    uint64_t flushes = 0, compactions = 0, pending = 0;
    db_->GetIntProperty("rocksdb.num-running-flushes", &flushes);
    db_->GetIntProperty("rocksdb.num-running-compactions", &compactions);
    db_->GetIntProperty("rocksdb.compaction-pending", &pending);
    stats.background_jobs = flushes + compactions + pending;
    stats.writes_committed = writes_committed_.load(std::memory_order_relaxed);
    stats.wal_syncs = commits_->syncs();
    stats.wal_flushes = commits_->flushes();
    if (row_cache_ != nullptr) {
      RowCache::Stats cache = row_cache_->GetStats();
      stats.row_cache_hits = cache.hits;
      stats.row_cache_misses = cache.misses;
      stats.row_cache_bytes = cache.bytes;
    }
    return stats;
  }

  absl::Status Close() override {
    if (closed_.exchange(true)) return absl::OkStatus();
    iterators_.Close();
    commits_->Close();
    absl::Status status = FromRocks(db_->FlushWAL(!options_.in_memory),
                                    "final write-ahead log flush");
    absl::Status closed = FromRocks(db_->Close(), "close database");
    return status.ok() ? closed : status;
  }

 private:
  // Writes an admin change, synced unless in memory.
  absl::Status WriteAdmin(rocksdb::WriteBatch& batch) {
    if (closed_.load()) {
      return absl::FailedPreconditionError("the store is shutting down");
    }
    rocksdb::WriteOptions write_options;
    write_options.sync = !options_.in_memory;
    return FromRocks(db_->Write(write_options, &batch), "write table metadata");
  }

  static bool IsSingleVersion(const TableInfo& info, absl::string_view family) {
    auto it = info.max_versions.find(family);
    return it != info.max_versions.end() && it->second == 1;
  }

  static absl::Status ValidateRowKey(absl::string_view row) {
    if (row.empty())
      return absl::InvalidArgumentError("row key must not be empty");
    if (row.size() > kMaxRowKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "row key is ", row.size(), " bytes; the limit is ", kMaxRowKeyBytes));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::shared_ptr<const TableInfo>> FindTable(
      absl::string_view table) {
    absl::MutexLock lock(&tables_mu_);
    auto it = tables_.find(table);
    if (it == tables_.end()) {
      return absl::NotFoundError(absl::StrCat("table '", table, "' not found"));
    }
    return it->second;
  }

  absl::StatusOr<std::shared_ptr<const TableInfo>> Validate(
      absl::string_view table, absl::string_view row,
      const std::vector<Mutation>& mutations) {
    KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info,
                        FindTable(table));
    KV_RETURN_IF_ERROR(ValidateRowKey(row));
    for (size_t i = 0; i < mutations.size(); ++i) {
      const Mutation& m = mutations[i];
      if (m.kind == Mutation::Kind::kDeleteFromRow) continue;
      if (!info->max_versions.contains(m.family)) {
        return absl::NotFoundError(
            absl::StrCat("mutations[", i, "].family: '", m.family,
                         "' is not a family of table '", table, "'"));
      }
      if (m.kind == Mutation::Kind::kDeleteFromFamily) continue;
      if (m.qualifier.size() > kMaxQualifierBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("mutations[", i, "].qualifier is ", m.qualifier.size(),
                         " bytes; the limit is ", kMaxQualifierBytes));
      }
      if (m.kind == Mutation::Kind::kSetCell) {
        if (m.timestamp_micros < kServerTimestamp) {
          return absl::InvalidArgumentError(absl::StrCat(
              "mutations[", i,
              "].timestamp_micros must be >= 0, or -1 for server time"));
        }
        if (m.value.size() > options_.max_value_bytes) {
          return absl::InvalidArgumentError(
              absl::StrCat("mutations[", i, "].value is ", m.value.size(),
                           " bytes; the limit is ", options_.max_value_bytes));
        }
      } else if (m.start_micros < 0 || m.end_micros < 0 ||
                 (m.end_micros != 0 && m.end_micros < m.start_micros)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "mutations[", i, "]: time range [", m.start_micros, ", ",
            m.end_micros,
            ") is invalid (need 0 <= start <= end, or end 0 for no bound)"));
      }
    }
    return info;
  }

  // A server timestamp: the clock in microseconds, strictly increasing across
  // calls so that a later write never sorts older than an earlier one.
  int64_t ServerNow() {
    int64_t now = absl::ToUnixMicros(absl::Now());
    int64_t last = last_server_micros_.load(std::memory_order_relaxed);
    int64_t next;
    do {
      next = now > last ? now : (last == INT64_MAX ? last : last + 1);
    } while (!last_server_micros_.compare_exchange_weak(
        last, next, std::memory_order_relaxed));
    return next;
  }

  void RaiseExplicitMax(int64_t timestamp) {
    int64_t max = explicit_max_.load(std::memory_order_relaxed);
    while (max < timestamp && !explicit_max_.compare_exchange_weak(
                                  max, timestamp, std::memory_order_relaxed)) {
    }
  }

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
                               rocksdb::WriteBatchWithIndex& batch) {
    ShardCeilings& c = ceilings_[static_cast<size_t>(shard)];
    if (newest_server >= c.server) {
      int64_t base = std::max(newest_server, absl::ToUnixMicros(absl::Now()));
      int64_t next = base > INT64_MAX - kCeilingStepMicros
                         ? INT64_MAX
                         : base + kCeilingStepMicros;
      KV_RETURN_IF_ERROR(FromRocks(
          batch.Put(CeilingKey(kServerCeiling, shard), EncodeInt64(next)),
          "batch put"));
      c.server = next;
    }
    if (newest_explicit > c.explicit_max) {
      KV_RETURN_IF_ERROR(FromRocks(batch.Put(CeilingKey(kExplicitMax, shard),
                                             EncodeInt64(newest_explicit)),
                                   "batch put"));
      c.explicit_max = newest_explicit;
    }
    return absl::OkStatus();
  }

  // Keys under `prefix` as the batch plus the database see them; `keep` filters
  // them. Stops after visiting `max_visits` keys if that is > 0. `column` says
  // the prefix is a whole column's (ColumnPrefix): the scan then seeks in the
  // prefix extractor's domain and skips files by their bloom filters.
  absl::StatusOr<std::vector<std::string>> KeysWithPrefix(
      rocksdb::WriteBatchWithIndex& batch, const std::string& prefix,
      const std::function<bool(const CellKey&)>& keep, int max_visits = 0,
      bool column = false) {
    std::string upper = PrefixSuccessor(prefix);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions read_options = TotalOrder(&upper_slice);
    std::string seek_key = prefix;
    if (column) {
      read_options.total_order_seek = false;
      read_options.prefix_same_as_start = true;
      AppendTimestamp(&seek_key, INT64_MAX);  // the column's first possible key
    }
    std::unique_ptr<rocksdb::Iterator> it(
        batch.NewIteratorWithBase(db_->NewIterator(read_options)));
    std::vector<std::string> keys;
    int visits = 0;
    for (it->Seek(seek_key); it->Valid(); it->Next()) {
      absl::string_view key = ToView(it->key());
      if (key.substr(0, prefix.size()) != prefix) break;
      KV_ASSIGN_OR_RETURN(CellKey cell, DecodeCellKey(key));
      if (keep(cell)) keys.emplace_back(key);
      // Checked before Next(), which could otherwise walk a long run of
      // tombstones.
      if (max_visits > 0 && ++visits == max_visits) break;
    }
    KV_RETURN_IF_ERROR(FromRocks(it->status(), "scan row"));
    return keys;
  }

  absl::StatusOr<std::shared_ptr<const TableInfo>> ValidateRules(
      absl::string_view table, absl::string_view row,
      const std::vector<v1::ReadModifyWriteRule>& rules) {
    KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info,
                        FindTable(table));
    KV_RETURN_IF_ERROR(ValidateRowKey(row));
    if (rules.empty())
      return absl::InvalidArgumentError("rules: no rules provided");
    for (size_t i = 0; i < rules.size(); ++i) {
      const v1::ReadModifyWriteRule& rule = rules[i];
      if (!info->max_versions.contains(rule.family_name())) {
        return absl::NotFoundError(
            absl::StrCat("rules[", i, "].familyName: '", rule.family_name(),
                         "' is not a family of table '", table, "'"));
      }
      if (rule.column_qualifier().size() > kMaxQualifierBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("rules[", i, "].columnQualifier is over ",
                         kMaxQualifierBytes, " bytes"));
      }
      if (rule.rule_case() == v1::ReadModifyWriteRule::RULE_NOT_SET) {
        return absl::InvalidArgumentError(absl::StrCat(
            "rules[", i, "] sets neither appendValue nor incrementAmount"));
      }
    }
    return info;
  }

  // Every live cell of `row` as the batch plus the database see it, in row
  // order, with cells past their family's max_age left out.
  absl::StatusOr<std::vector<FilterCell>> RowInBatch(
      rocksdb::WriteBatchWithIndex& batch, const TableInfo& info,
      const std::string& row) {
    std::string prefix = RowPrefix(info.id, row);
    std::string upper = PrefixSuccessor(prefix);
    rocksdb::Slice upper_slice(upper);
    std::unique_ptr<rocksdb::Iterator> it(
        batch.NewIteratorWithBase(db_->NewIterator(TotalOrder(&upper_slice))));
    int64_t now = absl::ToUnixMicros(absl::Now());
    std::vector<FilterCell> cells;
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      absl::string_view key(it->key().data(), it->key().size());
      if (key.substr(0, prefix.size()) != prefix) break;
      KV_ASSIGN_OR_RETURN(CellKey cell_key, DecodeCellKey(key));
      KV_ASSIGN_OR_RETURN(
          Cell cell,
          ToCell(std::move(cell_key),
                 absl::string_view(it->value().data(), it->value().size())));
      if (Expired(info, cell, now)) continue;
      cells.push_back(ToFilterCell(std::move(cell)));
    }
    KV_RETURN_IF_ERROR(FromRocks(it->status(), "read row"));
    return cells;
  }

  // The newest cell of one column as the batch plus the database see it.
  absl::StatusOr<std::optional<Cell>> NewestInBatch(
      rocksdb::WriteBatchWithIndex& batch, const TableInfo& info,
      const std::string& row, const std::string& family,
      const std::string& qualifier) {
    std::string key = IsSingleVersion(info, family)
                          ? SingleVersionKey(info.id, row, family, qualifier)
                          : ColumnPrefix(info.id, row, family, qualifier);
    std::string upper =
        PrefixSuccessor(ColumnPrefix(info.id, row, family, qualifier));
    rocksdb::Slice upper_slice(upper);
    std::unique_ptr<rocksdb::Iterator> it(
        batch.NewIteratorWithBase(db_->NewIterator(TotalOrder(&upper_slice))));
    it->Seek(key);
    if (!it->Valid()) {
      KV_RETURN_IF_ERROR(FromRocks(it->status(), "read cell"));
      return std::nullopt;
    }
    absl::string_view found(it->key().data(), it->key().size());
    KV_ASSIGN_OR_RETURN(CellKey cell_key, DecodeCellKey(found));
    if (cell_key.family != family || cell_key.qualifier != qualifier ||
        cell_key.row != row) {
      return std::nullopt;
    }
    KV_ASSIGN_OR_RETURN(
        Cell cell,
        ToCell(std::move(cell_key),
               absl::string_view(it->value().data(), it->value().size())));
    return cell;
  }

  // The timestamp of a single-version column's cell as the batch plus the
  // database see it, or nullopt if there is none.
  absl::StatusOr<std::optional<int64_t>> SingleVersionTimestamp(
      rocksdb::WriteBatchWithIndex& batch, const std::string& key) {
    std::string stored;
    rocksdb::Status s = batch.GetFromBatchAndDB(
        db_.get(), rocksdb::ReadOptions(), key, &stored);
    if (s.IsNotFound()) return std::nullopt;
    KV_RETURN_IF_ERROR(FromRocks(s, "read cell"));
    int64_t timestamp = 0;
    absl::string_view value;
    if (!DecodeSingleVersionValue(stored, &timestamp, &value)) {
      return absl::DataLossError("corrupt single-version cell value");
    }
    return timestamp;
  }

  // Runs on the row's writer thread: no other write to this row runs
  // concurrently.
  // Adds the mutations to `batch` (the writer group's shared batch, which
  // already holds the group's earlier writes and is read through).
  // EngineOptions::before_write: runs on the writer (an error fails this
  // write with nothing written; a call that blocks stalls the writer).
  absl::Status BeforeWrite(const TableInfo& info, const std::string& row) {
    if (!options_.before_write) return absl::OkStatus();
    return options_.before_write(info.schema.name(), row);
  }

  absl::Status Apply(const TableInfo& info, const std::string& row,
                     const std::vector<Mutation>& mutations, int shard,
                     rocksdb::WriteBatchWithIndex& batch) {
    // The largest server and explicit timestamps this request writes to
    // single-version families.
    int64_t newest_server = -1;
    int64_t newest_explicit = -1;
    // (family, qualifier) -> cells set in it by this request.
    absl::flat_hash_map<std::pair<std::string, std::string>, int>
        touched_columns;
    auto all = [](const CellKey&) { return true; };
    for (const Mutation& m : mutations) {
      std::vector<std::string> doomed;
      switch (m.kind) {
        case Mutation::Kind::kSetCell: {
          int64_t timestamp = m.timestamp_micros == kServerTimestamp
                                  ? ServerNow()
                                  : m.timestamp_micros;
          if (IsSingleVersion(info, m.family)) {
            std::string key =
                SingleVersionKey(info.id, row, m.family, m.qualifier);
            bool server_time = m.timestamp_micros == kServerTimestamp;
            if (server_time) {
              newest_server = std::max(newest_server, timestamp);
            } else {
              newest_explicit = std::max(newest_explicit, timestamp);
              RaiseExplicitMax(timestamp);
            }
            // A server timestamp above every explicit one ever written is
            // newer than every stored cell (see PersistCeilings): no read
            // needed, a blind Put.
            if (!server_time || timestamp <= explicit_max_.load()) {
              KV_ASSIGN_OR_RETURN(std::optional<int64_t> kept,
                                  SingleVersionTimestamp(batch, key));
              // A cell older than the one kept would be collected at once.
              if (kept.has_value() && *kept > timestamp) break;
            }
            KV_RETURN_IF_ERROR(FromRocks(
                batch.Put(key, EncodeSingleVersionValue(timestamp, m.value)),
                "batch put"));
            break;
          }
          CellKey key{info.id, row, m.family, m.qualifier, timestamp};
          KV_RETURN_IF_ERROR(
              FromRocks(batch.Put(EncodeCellKey(key), m.value), "batch put"));
          ++touched_columns[{m.family, m.qualifier}];
          break;
        }
        case Mutation::Kind::kDeleteFromColumn: {
          if (IsSingleVersion(info, m.family)) {
            std::string key =
                SingleVersionKey(info.id, row, m.family, m.qualifier);
            KV_ASSIGN_OR_RETURN(std::optional<int64_t> kept,
                                SingleVersionTimestamp(batch, key));
            if (kept.has_value() && *kept >= m.start_micros &&
                (m.end_micros == 0 || *kept < m.end_micros)) {
              doomed.push_back(std::move(key));
            }
            break;
          }
          KV_ASSIGN_OR_RETURN(
              doomed,
              KeysWithPrefix(
                  batch, ColumnPrefix(info.id, row, m.family, m.qualifier),
                  [&m](const CellKey& c) {
                    return c.timestamp_micros >= m.start_micros &&
                           (m.end_micros == 0 ||
                            c.timestamp_micros < m.end_micros);
                  },
                  /*max_visits=*/0, /*column=*/true));
          break;
        }
        case Mutation::Kind::kDeleteFromFamily: {
          KV_ASSIGN_OR_RETURN(
              doomed,
              KeysWithPrefix(batch, FamilyPrefix(info.id, row, m.family), all));
          break;
        }
        case Mutation::Kind::kDeleteFromRow: {
          KV_ASSIGN_OR_RETURN(
              doomed, KeysWithPrefix(batch, RowPrefix(info.id, row), all));
          break;
        }
      }
      for (const std::string& key : doomed) {
        KV_RETURN_IF_ERROR(FromRocks(batch.Delete(key), "batch delete"));
      }
    }
    // Garbage-collect versions beyond the family's limit, in the same atomic
    // write. Every write to such a family does this, so a column holds at most
    // `max` cells before this request and each SetCell adds at most one:
    // looking at the newest max + (cells set) is enough. Stopping there
    // matters: deleted older versions leave tombstones that a full scan would
    // walk over.
    for (const auto& [column, added] : touched_columns) {
      const auto& [family, qualifier] = column;
      auto limit = info.max_versions.find(family);
      if (limit == info.max_versions.end() || limit->second <= 0) continue;
      int seen = 0;
      KV_ASSIGN_OR_RETURN(
          std::vector<std::string> excess,
          KeysWithPrefix(
              batch, ColumnPrefix(info.id, row, family, qualifier),
              [&seen, max = limit->second](const CellKey&) {
                return ++seen > max;
              },
              limit->second + added, /*column=*/true));
      for (const std::string& key : excess) {
        KV_RETURN_IF_ERROR(FromRocks(batch.Delete(key), "batch delete"));
      }
    }
    KV_RETURN_IF_ERROR(
        PersistCeilings(shard, newest_server, newest_explicit, batch));
    return absl::OkStatus();
  }

  // Forgets every row `batch` touched in the row cache, if any.
  void InvalidateCachedRows(rocksdb::WriteBatch& batch) {
    if (row_cache_ == nullptr) return;
    RowInvalidator invalidator(row_cache_.get());
    batch.Iterate(&invalidator).PermitUncheckedError();
  }

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

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> OpenRocksEngine(
    const EngineOptions& options) {
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

  std::unique_ptr<rocksdb::Env> env;
  std::string path = options.data_dir;
  if (options.in_memory) {
    env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    db_options.env = env.get();
    path = "/kvstore-in-memory";
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, &raw);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot open database at '", path, "': ", s.ToString()));
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  // The largest ceilings any shard persisted (see PersistCeilings).
  Ceilings ceilings;
  {
    const std::string server_prefix =
        absl::StrCat(kCeilingKeyPrefix, kServerCeiling);
    std::string upper = PrefixSuccessor(kCeilingKeyPrefix);
    rocksdb::Slice upper_slice(upper);
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(TotalOrder(&upper_slice)));
    for (it->Seek(rocksdb::Slice(kCeilingKeyPrefix.data(),
                                 kCeilingKeyPrefix.size()));
         it->Valid(); it->Next()) {
      if (it->value().size() != 8) {
        return absl::DataLossError("corrupt timestamp ceiling");
      }
      uint64_t v = 0;
      for (size_t i = 0; i < 8; ++i) {
        v = (v << 8) | static_cast<uint8_t>(it->value()[i]);
      }
      int64_t& target = it->key().starts_with(server_prefix)
                            ? ceilings.server
                            : ceilings.explicit_max;
      target = std::max(target, static_cast<int64_t>(v));
    }
    KV_RETURN_IF_ERROR(FromRocks(it->status(), "read timestamp ceilings"));
  }
  LoadedTables loaded;
  {
    std::string upper = PrefixSuccessor(kTableKeyPrefix);
    rocksdb::Slice upper_slice(upper);
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(TotalOrder(&upper_slice)));
    for (it->Seek(
             rocksdb::Slice(kTableKeyPrefix.data(), kTableKeyPrefix.size()));
         it->Valid(); it->Next()) {
      TableSchema schema;
      absl::string_view value(it->value().data(), it->value().size());
      if (value.size() < 4 ||
          !schema.ParseFromArray(value.data() + 4,
                                 static_cast<int>(value.size() - 4))) {
        return absl::DataLossError(absl::StrCat("corrupt table metadata under ",
                                                it->key().ToString()));
      }
      uint32_t id = DecodeUint32(value);
      loaded.next_id = std::max(loaded.next_id, id + 1);
      loaded.tables.push_back(MakeTableInfo(id, std::move(schema)));
    }
    KV_RETURN_IF_ERROR(FromRocks(it->status(), "read table metadata"));
    std::string next;
    rocksdb::Status got =
        db->Get(rocksdb::ReadOptions(), kNextTableIdKey, &next);
    if (got.ok() && next.size() == 4) {
      loaded.next_id = std::max(loaded.next_id, DecodeUint32(next));
    } else if (!got.ok() && !got.IsNotFound()) {
      return FromRocks(got, "read next table id");
    }
  }
  return std::unique_ptr<Engine>(new RocksEngine(
      options, std::move(env), std::move(db), ceilings, std::move(loaded)));
}

absl::StatusOr<std::vector<Cell>> TEST_ReadStoredRow(Engine& engine,
                                                     absl::string_view table,
                                                     absl::string_view row) {
  return static_cast<RocksEngine&>(engine).ReadStoredRow(table, row);
}

}  // namespace kvstore::store
