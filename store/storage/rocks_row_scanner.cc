#include "store/storage/rocks_row_scanner.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "rocksdb/snapshot.h"
#include "store/storage/key_codec.h"

namespace kvstore::store::rocks {
namespace {

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

}  // namespace

std::unique_ptr<RowScanner> NewRocksRowScanner(
    rocksdb::DB* db, IteratorPool* pool, RowCache* cache,
    std::shared_ptr<const TableInfo> table, std::vector<KeyInterval> intervals,
    bool reversed) {
  return std::make_unique<RocksRowScanner>(db, pool, cache, std::move(table),
                                           std::move(intervals), reversed);
}

}  // namespace kvstore::store::rocks
