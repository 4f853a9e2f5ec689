// RowCache: the stored cells of recently read rows, for one-row reads (a point
// :readRows). A hit costs a hash lookup instead of a merge of the memtable and
// every SST file holding a version of the row, which is what makes point reads
// of often-overwritten rows slow (see bench/README.md).
//
// Consistency: writers call Invalidate for every row they touched after their
// write is applied and before it is acknowledged. A reader that misses takes a
// ticket *before* it reads storage and hands it back with what it read; Insert
// drops the row if an invalidation of its shard came in between (the read may
// predate that write). So a hit never returns a row older than a write
// acknowledged before the read began.
//
// Rows are cached as storage holds them: readers still apply max-age and
// filters on every read. Bounded in bytes, least recently used first out;
// rows larger than Options::max_row_bytes are never cached. Thread-safe
// (sharded mutexes).
#ifndef KVSTORE_STORE_STORAGE_ROW_CACHE_H_
#define KVSTORE_STORE_STORAGE_ROW_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "store/storage/engine.h"

namespace kvstore::store {

class RowCache {
 public:
  struct Options {
    // Total bytes of cached rows (keys, cells and bookkeeping). Must be > 0.
    size_t capacity_bytes = 32 << 20;
    // Rows whose cells take more are read from storage every time.
    size_t max_row_bytes = 64 << 10;
    // Independent LRU lists, each with its own mutex and capacity share.
    int shards = 16;
  };

  // A row as storage holds it: every cell in model order, none filtered.
  // Empty: the row does not exist (absence is cached too). Immutable once
  // cached; shared with readers.
  struct Row {
    std::vector<Cell> cells;
  };

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t bytes = 0;    // charged to cached rows now
    uint64_t entries = 0;  // rows cached now
  };

  explicit RowCache(const Options& options);
  RowCache(const RowCache&) = delete;
  RowCache& operator=(const RowCache&) = delete;

  // The cached row under `key`, or null; then *ticket is set for Insert.
  std::shared_ptr<const Row> Lookup(absl::string_view key, uint64_t* ticket);

  // Caches `row` under `key` unless the row is too large or `key`'s shard was
  // invalidated since the Lookup that returned `ticket`. Evicts the least
  // recently used rows to make room.
  void Insert(absl::string_view key, std::shared_ptr<const Row> row,
              uint64_t ticket);

  // Forgets `key`, and makes every Insert of its shard with an older ticket a
  // no-op.
  void Invalidate(absl::string_view key);

  // Forgets every row and voids every outstanding ticket.
  void InvalidateAll();

  // True if a row whose cells take `bytes` (see CellBytes) may be cached.
  bool Admits(size_t bytes) const { return bytes <= options_.max_row_bytes; }

  // The bytes a cell is charged.
  static size_t CellBytes(const Cell& cell);

  Stats GetStats() const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const Row> row;
    size_t charge = 0;
  };
  struct Shard {
    mutable absl::Mutex mu;
    // Bumped by every Invalidate of a key in this shard.
    uint64_t generation ABSL_GUARDED_BY(mu) = 0;
    // Most recently used first. Nodes never move in memory, so the index
    // keys view the entries' own key strings.
    std::list<Entry> lru ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<absl::string_view, std::list<Entry>::iterator> index
        ABSL_GUARDED_BY(mu);
    size_t bytes ABSL_GUARDED_BY(mu) = 0;
    uint64_t hits ABSL_GUARDED_BY(mu) = 0;
    uint64_t misses ABSL_GUARDED_BY(mu) = 0;
  };

  Shard& ShardOf(absl::string_view key);
  // Removes `it` from `shard`.
  static void Erase(Shard& shard, std::list<Entry>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const Options options_;
  const size_t shard_capacity_;
  std::vector<Shard> shards_;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_STORAGE_ROW_CACHE_H_
