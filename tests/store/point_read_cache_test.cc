// One-row reads through the engine's row cache: every kind of write is seen by
// the next read, cached rows still expire by max_age, and concurrent reads
// never put an older row back in the cache than an acknowledged write.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/storage/rocks_engine.h"
#include "tests/common/status_matchers.h"
#include "tests/store/engine_util.h"

using ::kvstore::testing::IsOk;

namespace kvstore::store {
namespace {

class PointReadCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(EngineOptions().row_cache_bytes); }

  void Open(size_t row_cache_bytes) {
    EngineOptions options;
    options.in_memory = true;
    options.memtable_bytes = 256 * 1024;
    options.row_cache_bytes = row_cache_bytes;
    auto engine = OpenRocksEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    TableSchema schema;
    schema.set_name("t");
    schema.add_column_families()->set_name("m");  // every version kept
    auto* one = schema.add_column_families();
    one->set_name("s");
    one->mutable_gc_rule()->set_max_versions(1);
    auto* aged = schema.add_column_families();
    aged->set_name("aged");
    aged->mutable_gc_rule()->set_max_age_micros(kMaxAgeMicros);
    ASSERT_THAT(engine_->CreateTable(schema), IsOk());
  }

  static constexpr int64_t kMaxAgeMicros = 3600LL * 1000 * 1000;

  absl::Status Write(const std::string& row, std::vector<Mutation> mutations) {
    return MutateRowAndWait(*engine_, "t", row, std::move(mutations));
  }

  // The row's cells as "family:qualifier@ts=value", via a one-row read.
  std::vector<std::string> Read(const std::string& row) {
    v1::RowSet set;
    set.add_row_keys(row);
    auto scanner = engine_->ScanRows("t", set, false);
    EXPECT_TRUE(scanner.ok()) << scanner.status();
    std::vector<std::string> cells;
    if (!scanner.ok()) return cells;
    ScannedRow scanned;
    auto found = (*scanner)->Next(&scanned);
    EXPECT_TRUE(found.ok()) << found.status();
    if (!found.ok() || !*found) return cells;
    EXPECT_EQ(scanned.key, row);
    for (const FilterCell& cell : scanned.cells) {
      cells.push_back(cell.family + ":" + cell.qualifier + "@" +
                      std::to_string(cell.timestamp_micros) + "=" + cell.value);
    }
    auto more = (*scanner)->Next(&scanned);
    EXPECT_TRUE(more.ok() && !*more) << "a one-row read returned two rows";
    return cells;
  }

  uint64_t Hits() { return engine_->GetStats().row_cache_hits; }

  std::unique_ptr<Engine> engine_;
};

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST_F(PointReadCacheTest, RepeatedReadsAreServedFromTheCache) {
  ASSERT_THAT(Write("r", {Mutation::SetCell("m", "q", 5, "v")}), IsOk());
  EXPECT_THAT(Read("r"), ElementsAre("m:q@5=v"));
  const uint64_t hits = Hits();
  EXPECT_THAT(Read("r"), ElementsAre("m:q@5=v"));
  EXPECT_THAT(Read("r"), ElementsAre("m:q@5=v"));
  EXPECT_EQ(Hits(), hits + 2);
  EXPECT_GT(engine_->GetStats().row_cache_bytes, 0u);
  // Absent rows too.
  EXPECT_THAT(Read("nothing"), IsEmpty());
  EXPECT_THAT(Read("nothing"), IsEmpty());
  EXPECT_EQ(Hits(), hits + 3);
}

TEST_F(PointReadCacheTest, EveryKindOfWriteIsSeenByTheNextRead) {
  EXPECT_THAT(Read("r"), IsEmpty());  // caches the absence
  ASSERT_THAT(Write("r", {Mutation::SetCell("m", "q", 5, "a"),
                          Mutation::SetCell("s", "q", 5, "b")}),
              IsOk());
  EXPECT_THAT(Read("r"), ElementsAre("m:q@5=a", "s:q@5=b"));
  ASSERT_THAT(Write("r", {Mutation::SetCell("m", "q", 6, "c")}), IsOk());
  EXPECT_THAT(Read("r"), ElementsAre("m:q@6=c", "m:q@5=a", "s:q@5=b"));
  ASSERT_THAT(Write("r", {Mutation::DeleteFromColumn("m", "q", 6, 7)}), IsOk());
  EXPECT_THAT(Read("r"), ElementsAre("m:q@5=a", "s:q@5=b"));
  ASSERT_THAT(Write("r", {Mutation::DeleteFromFamily("s")}), IsOk());
  EXPECT_THAT(Read("r"), ElementsAre("m:q@5=a"));

  // Conditional and read-modify-write.
  std::atomic<bool> done{false};
  engine_->CheckAndMutateRow("t", "r", nullptr,
                             {Mutation::SetCell("s", "c", 9, "matched")}, {},
                             [&](absl::StatusOr<bool> matched) {
                               EXPECT_TRUE(matched.ok() && *matched);
                               done = true;
                             });
  while (!done) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_THAT(Read("r"), ElementsAre("m:q@5=a", "s:c@9=matched"));
  v1::ReadModifyWriteRule rule;
  rule.set_family_name("s");
  rule.set_column_qualifier("c");
  rule.set_append_value("+");
  done = false;
  engine_->ReadModifyWriteRow("t", "r", {rule},
                              [&](absl::StatusOr<v1::Row> row) {
                                EXPECT_TRUE(row.ok()) << row.status();
                                done = true;
                              });
  while (!done) absl::SleepFor(absl::Milliseconds(1));
  std::vector<std::string> cells = Read("r");
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_THAT(cells[1], ::testing::EndsWith("=matched+"));

  ASSERT_THAT(Write("r", {Mutation::DeleteFromRow()}), IsOk());
  EXPECT_THAT(Read("r"), IsEmpty());
}

TEST_F(PointReadCacheTest, ARecreatedTableStartsEmpty) {
  ASSERT_THAT(Write("r", {Mutation::SetCell("m", "q", 5, "v")}), IsOk());
  EXPECT_THAT(Read("r"), ElementsAre("m:q@5=v"));
  ASSERT_THAT(engine_->DeleteTable("t"), IsOk());
  TableSchema schema;
  schema.set_name("t");
  schema.add_column_families()->set_name("m");
  ASSERT_THAT(engine_->CreateTable(schema), IsOk());
  EXPECT_THAT(Read("r"), IsEmpty());
}

TEST_F(PointReadCacheTest, CachedCellsStillExpire) {
  const int64_t now = absl::ToUnixMicros(absl::Now());
  // Expires a second from now.
  const int64_t ts = now - kMaxAgeMicros + 1000 * 1000;
  ASSERT_THAT(Write("r", {Mutation::SetCell("aged", "q", ts, "soon"),
                          Mutation::SetCell("m", "q", 1, "kept")}),
              IsOk());
  EXPECT_THAT(Read("r"), ElementsAre("aged:q@" + std::to_string(ts) + "=soon",
                                     "m:q@1=kept"));
  absl::SleepFor(absl::Milliseconds(1500));
  const uint64_t hits = Hits();
  EXPECT_THAT(Read("r"), ElementsAre("m:q@1=kept"));
  EXPECT_EQ(Hits(), hits + 1);  // the cached row, filtered on read
}

TEST_F(PointReadCacheTest, DisabledCacheReadsTheSame) {
  Open(0);
  ASSERT_THAT(Write("r", {Mutation::SetCell("m", "q", 5, "v")}), IsOk());
  EXPECT_THAT(Read("r"), ElementsAre("m:q@5=v"));
  ASSERT_THAT(Write("r", {Mutation::SetCell("m", "q", 6, "w")}), IsOk());
  EXPECT_THAT(Read("r"), ElementsAre("m:q@6=w", "m:q@5=v"));
  EXPECT_EQ(Hits(), 0u);
}

// Readers racing with a writer: once a write is acknowledged, no read (the
// writer's own included) may return an older value, so a racing reader must
// never leave a stale row in the cache.
TEST_F(PointReadCacheTest, ReadsNeverGoBackBehindAcknowledgedWrites) {
  constexpr int kWrites = 3000;
  std::atomic<int> acknowledged{0};
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  auto value_of = [this](const std::string& row) {
    std::vector<std::string> cells = Read(row);
    int value = 0;  // no row yet
    if (!cells.empty()) {
      EXPECT_TRUE(
          absl::SimpleAtoi(cells[0].substr(cells[0].find('=') + 1), &value))
          << cells[0];
    }
    return value;
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const int floor = acknowledged.load();
        if (value_of("r") < floor) violations.fetch_add(1);
      }
    });
  }
  for (int i = 1; i <= kWrites && violations.load() == 0; ++i) {
    ASSERT_THAT(Write("r", {Mutation::SetCell("s", "q", i, std::to_string(i))}),
                IsOk());
    acknowledged.store(i);
    if (value_of("r") < i) violations.fetch_add(1);
  }
  stop = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(Hits(), 0u);
}

}  // namespace
}  // namespace kvstore::store
