// RowCache on its own: hits and misses, LRU eviction within the byte budget,
// size limits, and the ticket rule that keeps a racing read from caching a
// stale row.
#include "store/storage/row_cache.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace kvstore::store {
namespace {

std::shared_ptr<const RowCache::Row> RowWith(const std::string& value) {
  auto row = std::make_shared<RowCache::Row>();
  row->cells.push_back(Cell{"cf", "q", 1, value});
  return row;
}

// Looks `key` up, expecting a miss, and returns the ticket.
uint64_t Miss(RowCache& cache, const std::string& key) {
  uint64_t ticket = 0;
  EXPECT_EQ(cache.Lookup(key, &ticket), nullptr) << key;
  return ticket;
}

std::string CachedValue(RowCache& cache, const std::string& key) {
  uint64_t ticket = 0;
  auto row = cache.Lookup(key, &ticket);
  if (row == nullptr) return "<miss>";
  return row->cells.empty() ? "<absent>" : row->cells[0].value;
}

TEST(RowCacheTest, MissThenInsertThenHit) {
  RowCache cache(RowCache::Options{});
  uint64_t ticket = Miss(cache, "a");
  cache.Insert("a", RowWith("1"), ticket);
  EXPECT_EQ(CachedValue(cache, "a"), "1");
  EXPECT_EQ(CachedValue(cache, "b"), "<miss>");
  RowCache::Stats stats = cache.GetStats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_GT(stats.bytes, 0u);
}

TEST(RowCacheTest, AbsentRowsAreCachedToo) {
  RowCache cache(RowCache::Options{});
  cache.Insert("a", std::make_shared<RowCache::Row>(), Miss(cache, "a"));
  EXPECT_EQ(CachedValue(cache, "a"), "<absent>");
}

TEST(RowCacheTest, InvalidateForgetsTheRow) {
  RowCache cache(RowCache::Options{});
  cache.Insert("a", RowWith("1"), Miss(cache, "a"));
  cache.Invalidate("a");
  EXPECT_EQ(CachedValue(cache, "a"), "<miss>");
  EXPECT_EQ(cache.GetStats().entries, 0u);
  EXPECT_EQ(cache.GetStats().bytes, 0u);
}

// The race the tickets exist for: a reader misses, reads the old row, a writer
// applies a new one and invalidates, then the reader inserts what it read.
TEST(RowCacheTest, InsertAfterAnInvalidationIsDropped) {
  RowCache cache(RowCache::Options{});
  uint64_t ticket = Miss(cache, "a");
  cache.Invalidate("a");
  cache.Insert("a", RowWith("stale"), ticket);
  EXPECT_EQ(CachedValue(cache, "a"), "<miss>");
  // A read that starts after the invalidation may fill the entry.
  cache.Insert("a", RowWith("fresh"), Miss(cache, "a"));
  EXPECT_EQ(CachedValue(cache, "a"), "fresh");
}

TEST(RowCacheTest, InvalidateAllVoidsEveryTicket) {
  RowCache cache(RowCache::Options{});
  cache.Insert("a", RowWith("1"), Miss(cache, "a"));
  uint64_t ticket = Miss(cache, "b");
  cache.InvalidateAll();
  cache.Insert("b", RowWith("stale"), ticket);
  EXPECT_EQ(CachedValue(cache, "a"), "<miss>");
  EXPECT_EQ(CachedValue(cache, "b"), "<miss>");
  EXPECT_EQ(cache.GetStats().bytes, 0u);
}

TEST(RowCacheTest, EvictsTheLeastRecentlyUsedWithinItsBudget) {
  RowCache::Options options;
  options.shards = 1;
  options.capacity_bytes = 3000;
  RowCache cache(options);
  const std::string value(500, 'v');
  for (const char* key : {"a", "b", "c", "d"}) {
    cache.Insert(key, RowWith(value), Miss(cache, key));
  }
  // Each row is charged over 600 bytes: four fit, and a fifth evicts the least
  // recently used, which is "b" once "a" has been read again.
  ASSERT_EQ(cache.GetStats().entries, 4u);
  EXPECT_EQ(CachedValue(cache, "a"), value);
  cache.Insert("e", RowWith(value), Miss(cache, "e"));
  EXPECT_EQ(CachedValue(cache, "b"), "<miss>");
  EXPECT_EQ(CachedValue(cache, "a"), value);
  EXPECT_EQ(CachedValue(cache, "e"), value);
  EXPECT_LE(cache.GetStats().bytes, options.capacity_bytes);
}

TEST(RowCacheTest, RowsOverTheSizeLimitAreNotCached) {
  RowCache::Options options;
  options.max_row_bytes = 1000;
  RowCache cache(options);
  EXPECT_TRUE(cache.Admits(1000));
  EXPECT_FALSE(cache.Admits(1001));
  cache.Insert("big", RowWith(std::string(2000, 'v')), Miss(cache, "big"));
  EXPECT_EQ(CachedValue(cache, "big"), "<miss>");
}

TEST(RowCacheTest, ReinsertingAKeyReplacesItsCharge) {
  RowCache::Options options;
  options.shards = 1;
  RowCache cache(options);
  uint64_t ticket = Miss(cache, "a");
  cache.Insert("a", RowWith(std::string(100, 'v')), ticket);
  const uint64_t small = cache.GetStats().bytes;
  cache.Insert("a", RowWith(std::string(300, 'v')), ticket);
  EXPECT_EQ(CachedValue(cache, "a"), std::string(300, 'v'));
  EXPECT_EQ(cache.GetStats().bytes, small + 200);
  EXPECT_EQ(cache.GetStats().entries, 1u);
}

}  // namespace
}  // namespace kvstore::store
