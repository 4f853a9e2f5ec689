#include "store/storage/row_cache.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"

namespace kvstore::store {
namespace {

// Bookkeeping charged per entry and per cell on top of their bytes: list node,
// index slot, shared_ptr control block; strings and Cell headers.
constexpr size_t kEntryOverhead = 128;
constexpr size_t kCellOverhead = sizeof(Cell);

}  // namespace

RowCache::RowCache(const Options& options)
    : options_(options),
      shard_capacity_(options.capacity_bytes /
                      static_cast<size_t>(std::max(options.shards, 1))),
      shards_(static_cast<size_t>(std::max(options.shards, 1))) {}

size_t RowCache::CellBytes(const Cell& cell) {
  return kCellOverhead + cell.family.size() + cell.qualifier.size() +
         cell.value.size();
}

RowCache::Shard& RowCache::ShardOf(absl::string_view key) {
  return shards_[absl::Hash<absl::string_view>()(key) % shards_.size()];
}

std::shared_ptr<const RowCache::Row> RowCache::Lookup(absl::string_view key,
                                                      uint64_t* ticket) {
  Shard& shard = ShardOf(key);
  absl::MutexLock lock(&shard.mu);
  auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    ++shard.misses;
    *ticket = shard.generation;
    return nullptr;
  }
  ++shard.hits;
  shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
  return found->second->row;
}

void RowCache::Insert(absl::string_view key, std::shared_ptr<const Row> row,
                      uint64_t ticket) {
  size_t row_bytes = 0;
  for (const Cell& cell : row->cells) row_bytes += CellBytes(cell);
  if (!Admits(row_bytes)) return;
  const size_t charge = kEntryOverhead + key.size() + row_bytes;
  if (charge > shard_capacity_) return;
  Shard& shard = ShardOf(key);
  absl::MutexLock lock(&shard.mu);
  if (shard.generation != ticket) return;  // a write raced with the read
  auto found = shard.index.find(key);
  if (found != shard.index.end()) Erase(shard, found->second);
  while (shard.bytes + charge > shard_capacity_ && !shard.lru.empty()) {
    Erase(shard, std::prev(shard.lru.end()));
  }
  shard.lru.push_front(Entry{std::string(key), std::move(row), charge});
  shard.index.emplace(shard.lru.front().key, shard.lru.begin());
  shard.bytes += charge;
}

void RowCache::Invalidate(absl::string_view key) {
  Shard& shard = ShardOf(key);
  absl::MutexLock lock(&shard.mu);
  ++shard.generation;
  auto found = shard.index.find(key);
  if (found != shard.index.end()) Erase(shard, found->second);
}

void RowCache::InvalidateAll() {
  for (Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    ++shard.generation;
    shard.index.clear();
    shard.lru.clear();
    shard.bytes = 0;
  }
}

void RowCache::Erase(Shard& shard, std::list<Entry>::iterator it) {
  shard.bytes -= it->charge;
  shard.index.erase(absl::string_view(it->key));
  shard.lru.erase(it);
}

RowCache::Stats RowCache::GetStats() const {
  Stats stats;
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    stats.hits += shard.hits;
    stats.misses += shard.misses;
    stats.bytes += shard.bytes;
    stats.entries += shard.lru.size();
  }
  return stats;
}

}  // namespace kvstore::store
