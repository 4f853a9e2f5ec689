#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/storage/rocks_engine.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"
#include "tests/store/engine_util.h"

using ::kvstore::testing::IsOk;

namespace kvstore::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kCf(kDefaultFamily);

std::unique_ptr<Engine> OpenInMemory(size_t max_value_bytes = 1024) {
  EngineOptions options = WithSeedTable();
  options.in_memory = true;
  options.max_value_bytes = max_value_bytes;
  auto engine = OpenRocksEngine(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return std::move(*engine);
}

absl::Status Write(Engine& engine, const std::string& row,
                   std::vector<Mutation> mutations) {
  return MutateRowAndWait(engine, kDefaultTable, row, std::move(mutations));
}

std::vector<Cell> Row(Engine& engine, const std::string& row) {
  auto cells = TEST_ReadStoredRow(engine, kDefaultTable, row);
  EXPECT_TRUE(cells.ok()) << cells.status();
  return cells.ok() ? *cells : std::vector<Cell>{};
}

TEST(EngineTest, SetThenReadNewest) {
  auto engine = OpenInMemory();
  ASSERT_THAT(Write(*engine, "r", {Mutation::SetCell(kCf, "q", 5, "v")}),
              IsOk());
  auto cell = engine->ReadNewestCell(kDefaultTable, "r", kCf, "q");
  ASSERT_TRUE(cell.ok()) << cell.status();
  ASSERT_TRUE(cell->has_value());
  EXPECT_EQ(**cell, (Cell{kCf, "q", 5, "v"}));
  auto missing = engine->ReadNewestCell(kDefaultTable, "r", kCf, "other");
  ASSERT_THAT(missing, IsOk());
  EXPECT_FALSE(missing->has_value());
}

TEST(EngineTest, DefaultFamilyKeepsOneVersion) {
  auto engine = OpenInMemory();
  for (int ts = 1; ts <= 5; ++ts) {
    ASSERT_THAT(Write(*engine, "r",
                      {Mutation::SetCell(kCf, "", ts, std::to_string(ts))}),
                IsOk());
  }
  EXPECT_THAT(Row(*engine, "r"), ElementsAre(Cell{kCf, "", 5, "5"}));
}

TEST(EngineTest, SingleVersionFamilyKeepsTheNewestTimestamp) {
  auto engine = OpenInMemory();
  ASSERT_THAT(Write(*engine, "r", {Mutation::SetCell(kCf, "q", 50, "new")}),
              IsOk());
  // An older cell would be collected at once: the newer one stays.
  ASSERT_THAT(Write(*engine, "r", {Mutation::SetCell(kCf, "q", 10, "old")}),
              IsOk());
  EXPECT_THAT(Row(*engine, "r"), ElementsAre(Cell{kCf, "q", 50, "new"}));
  // Within one request too, whatever the order.
  ASSERT_THAT(Write(*engine, "s",
                    {Mutation::SetCell(kCf, "q", 70, "b"),
                     Mutation::SetCell(kCf, "q", 60, "a")}),
              IsOk());
  EXPECT_THAT(Row(*engine, "s"), ElementsAre(Cell{kCf, "q", 70, "b"}));
}

// Server-time writes to single-version families skip reading the column; they
// must still never replace a cell with a larger timestamp.
TEST(EngineTest, ServerTimeNeverReplacesANewerExplicitCell) {
  kvstore::testing::TempDir dir;
  EngineOptions options = WithSeedTable();
  options.data_dir = dir.File("db");
  const int64_t future = absl::ToUnixMicros(absl::Now() + absl::Hours(24));
  {
    auto engine = OpenRocksEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    ASSERT_THAT(
        Write(**engine, "r", {Mutation::SetCell(kCf, "", future, "future")}),
        IsOk());
    ASSERT_THAT(Write(**engine, "r",
                      {Mutation::SetCell(kCf, "", kServerTimestamp, "now")}),
                IsOk());
    EXPECT_THAT(Row(**engine, "r"),
                ElementsAre(Cell{kCf, "", future, "future"}));
    ASSERT_THAT((*engine)->Close(), IsOk());
  }
  auto engine = OpenRocksEngine(options);  // the bound must survive a restart
  ASSERT_TRUE(engine.ok()) << engine.status();
  ASSERT_THAT(Write(**engine, "r",
                    {Mutation::SetCell(kCf, "", kServerTimestamp, "later")}),
              IsOk());
  EXPECT_THAT(Row(**engine, "r"), ElementsAre(Cell{kCf, "", future, "future"}));
  // Other columns still take server-time writes.
  ASSERT_THAT(
      Write(**engine, "s", {Mutation::SetCell(kCf, "", kServerTimestamp, "x")}),
      IsOk());
  EXPECT_EQ(
      (*engine)->ReadNewestCell(kDefaultTable, "s", kCf, "")->value().value,
      "x");
}

TEST(EngineTest, ServerTimestampsIncreaseAcrossRestarts) {
  kvstore::testing::TempDir dir;
  EngineOptions options = WithSeedTable();
  options.data_dir = dir.File("db");
  int64_t last = -1;
  for (int run = 0; run < 3; ++run) {
    auto engine = OpenRocksEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    ASSERT_THAT(Write(**engine, "r",
                      {Mutation::SetCell(kCf, "", kServerTimestamp,
                                         "run" + std::to_string(run))}),
                IsOk());
    auto cell = (*engine)->ReadNewestCell(kDefaultTable, "r", kCf, "");
    ASSERT_TRUE(cell.ok() && cell->has_value());
    EXPECT_EQ((*cell)->value, "run" + std::to_string(run));
    EXPECT_GT((*cell)->timestamp_micros, last);
    last = (*cell)->timestamp_micros;
    ASSERT_THAT((*engine)->Close(), IsOk());
  }
}

TEST(EngineTest, DeleteFromColumnHonoursTheTimeRange) {
  auto engine = OpenInMemory();
  ASSERT_THAT(Write(*engine, "r", {Mutation::SetCell(kCf, "q", 50, "v")}),
              IsOk());
  ASSERT_THAT(
      Write(*engine, "r", {Mutation::DeleteFromColumn(kCf, "q", 0, 50)}),
      IsOk());
  EXPECT_THAT(Row(*engine, "r"),
              ElementsAre(Cell{kCf, "q", 50, "v"}));  // end is open
  ASSERT_THAT(
      Write(*engine, "r", {Mutation::DeleteFromColumn(kCf, "q", 51, 0)}),
      IsOk());
  EXPECT_THAT(Row(*engine, "r"), ElementsAre(Cell{kCf, "q", 50, "v"}));
  ASSERT_THAT(
      Write(*engine, "r", {Mutation::DeleteFromColumn(kCf, "q", 50, 51)}),
      IsOk());
  EXPECT_THAT(Row(*engine, "r"), IsEmpty());
}

TEST(EngineTest, SameTimestampOverwrites) {
  auto engine = OpenInMemory();
  ASSERT_THAT(Write(*engine, "r", {Mutation::SetCell(kCf, "q", 7, "a")}),
              IsOk());
  ASSERT_THAT(Write(*engine, "r", {Mutation::SetCell(kCf, "q", 7, "b")}),
              IsOk());
  EXPECT_THAT(Row(*engine, "r"), ElementsAre(Cell{kCf, "q", 7, "b"}));
}

TEST(EngineTest, ServerTimestampsIncrease) {
  auto engine = OpenInMemory();
  int64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    ASSERT_THAT(Write(*engine, "r",
                      {Mutation::SetCell(kCf, "", kServerTimestamp,
                                         std::to_string(i))}),
                IsOk());
    auto cell = engine->ReadNewestCell(kDefaultTable, "r", kCf, "");
    ASSERT_TRUE(cell.ok() && cell->has_value());
    EXPECT_GT((*cell)->timestamp_micros, last);
    EXPECT_EQ((*cell)->value,
              std::to_string(i));  // the newest write always wins
    last = (*cell)->timestamp_micros;
  }
}

TEST(EngineTest, CellsComeInModelOrder) {
  auto engine = OpenInMemory();
  ASSERT_THAT(Write(*engine, "r",
                    {Mutation::SetCell(kCf, "b", 1, "b1"),
                     Mutation::SetCell(kCf, "a", 1, "a1"),
                     Mutation::SetCell(kCf, std::string("a\0", 2), 1, "a0")}),
              IsOk());
  std::vector<Cell> cells = Row(*engine, "r");
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[0].qualifier, "a");
  EXPECT_EQ(cells[1].qualifier, std::string("a\0", 2));
  EXPECT_EQ(cells[2].qualifier, "b");
}

TEST(EngineTest, DeletesAndRowsVanishWithTheirLastCell) {
  auto engine = OpenInMemory();
  ASSERT_THAT(Write(*engine, "r",
                    {Mutation::SetCell(kCf, "a", 1, "x"),
                     Mutation::SetCell(kCf, "b", 1, "y")}),
              IsOk());
  ASSERT_THAT(Write(*engine, "r", {Mutation::DeleteFromColumn(kCf, "a")}),
              IsOk());
  EXPECT_THAT(Row(*engine, "r"), ElementsAre(Cell{kCf, "b", 1, "y"}));
  ASSERT_THAT(Write(*engine, "r", {Mutation::DeleteFromFamily(kCf)}), IsOk());
  EXPECT_THAT(Row(*engine, "r"), IsEmpty());
  ASSERT_THAT(Write(*engine, "r", {Mutation::SetCell(kCf, "a", 1, "x")}),
              IsOk());
  ASSERT_THAT(Write(*engine, "r", {Mutation::DeleteFromRow()}), IsOk());
  EXPECT_THAT(Row(*engine, "r"), IsEmpty());
}

TEST(EngineTest, DeleteFromRowSparesRowsWithLongerKeys) {
  auto engine = OpenInMemory();
  ASSERT_THAT(Write(*engine, "a", {Mutation::SetCell(kCf, "", 1, "1")}),
              IsOk());
  ASSERT_THAT(Write(*engine, "ab", {Mutation::SetCell(kCf, "", 1, "2")}),
              IsOk());
  ASSERT_THAT(Write(*engine, "a", {Mutation::DeleteFromRow()}), IsOk());
  EXPECT_THAT(Row(*engine, "a"), IsEmpty());
  EXPECT_THAT(Row(*engine, "ab"), ElementsAre(Cell{kCf, "", 1, "2"}));
}

TEST(EngineTest, MutationsOfOneRequestSeeEachOther) {
  auto engine = OpenInMemory();
  // Set then delete in one request: the delete removes the cell set before it.
  ASSERT_THAT(Write(*engine, "r",
                    {Mutation::SetCell(kCf, "q", 3, "x"),
                     Mutation::DeleteFromColumn(kCf, "q"),
                     Mutation::SetCell(kCf, "z", 3, "kept")}),
              IsOk());
  EXPECT_THAT(Row(*engine, "r"), ElementsAre(Cell{kCf, "z", 3, "kept"}));
}

TEST(EngineTest, InvalidLastMutationLeavesRowUntouched) {
  auto engine = OpenInMemory();
  ASSERT_THAT(Write(*engine, "r", {Mutation::SetCell(kCf, "q", 1, "old")}),
              IsOk());
  absl::Status status =
      Write(*engine, "r",
            {Mutation::SetCell(kCf, "q", 2, "new"), Mutation::DeleteFromRow(),
             Mutation::SetCell("nope", "q", 2, "x")});
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()),
              ::testing::HasSubstr("mutations[2].family"));
  EXPECT_THAT(Row(*engine, "r"), ElementsAre(Cell{kCf, "q", 1, "old"}));
}

TEST(EngineTest, RejectsBadInputWithTheRightCode) {
  auto engine = OpenInMemory(/*max_value_bytes=*/8);
  EXPECT_EQ(Write(*engine, "", {Mutation::SetCell(kCf, "", 1, "v")}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Write(*engine, std::string(kMaxRowKeyBytes + 1, 'k'),
                  {Mutation::SetCell(kCf, "", 1, "v")})
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Write(*engine, std::string(kMaxRowKeyBytes, 'k'),
                    {Mutation::SetCell(kCf, "", 1, "v")}),
              IsOk());
  EXPECT_EQ(
      Write(*engine, "r", {Mutation::SetCell(kCf, "", 1, "123456789")}).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Write(*engine, "r",
                  {Mutation::SetCell(
                      kCf, std::string(kMaxQualifierBytes + 1, 'q'), 1, "v")})
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Write(*engine, "r", {Mutation::SetCell(kCf, "", -2, "v")}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Write(*engine, "r", {Mutation::DeleteFromColumn(kCf, "", 10, 5)}).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MutateRowAndWait(*engine, "no_such_table", "r",
                             {Mutation::DeleteFromRow()})
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(TEST_ReadStoredRow(*engine, "no_such_table", "r").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(EngineTest, DataSurvivesReopen) {
  kvstore::testing::TempDir dir;
  EngineOptions options = WithSeedTable();
  options.data_dir = dir.File("db");
  {
    auto engine = OpenRocksEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    ASSERT_THAT(
        Write(**engine, "k", {Mutation::SetCell(kCf, "", 9, "durable")}),
        IsOk());
    ASSERT_THAT((*engine)->Close(), IsOk());
  }
  auto engine = OpenRocksEngine(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_THAT(Row(**engine, "k"), ElementsAre(Cell{kCf, "", 9, "durable"}));
}

TEST(EngineTest, BadOptionsAreInvalidArgument) {
  kvstore::testing::TempDir dir;
  for (size_t block_bytes : {size_t{0}, size_t{1023}, size_t{(1 << 20) + 1}}) {
    EngineOptions options = WithSeedTable();
    options.data_dir = dir.File("db");
    options.block_bytes = block_bytes;
    auto engine = OpenRocksEngine(options);
    EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument)
        << block_bytes;
  }
  EngineOptions options = WithSeedTable();
  options.data_dir = dir.File("db");
  options.write_shards = 0;
  EXPECT_EQ(OpenRocksEngine(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Files keep the block size they were written with, so a restart with another
// --block_kb reads them all.
TEST(EngineTest, BlockSizeMayChangeBetweenRuns) {
  kvstore::testing::TempDir dir;
  EngineOptions options = WithSeedTable();
  options.data_dir = dir.File("db");
  options.memtable_bytes = 64 * 1024;  // so the rows reach SST files
  options.block_bytes = 1024;
  const std::string value(1000, 'v');
  {
    auto engine = OpenRocksEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    for (int i = 0; i < 500; ++i) {
      ASSERT_THAT(Write(**engine, "k" + std::to_string(i),
                        {Mutation::SetCell(kCf, "", 1, value)}),
                  IsOk());
    }
    ASSERT_THAT((*engine)->Close(), IsOk());
  }
  options.block_bytes = 1 << 20;
  auto engine = OpenRocksEngine(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  for (int i = 0; i < 500; i += 49) {
    EXPECT_THAT(Row(**engine, "k" + std::to_string(i)),
                ElementsAre(Cell{kCf, "", 1, value}));
  }
}

// Tiny memtables force many flushes, so reads go through SST files and their
// per-column bloom filters, with versions and tombstones of one column spread
// over several files.
TEST(EngineTest, ReadsAreRightAcrossFlushedFiles) {
  kvstore::testing::TempDir dir;
  EngineOptions options = WithSeedTable();
  options.data_dir = dir.File("db");
  options.memtable_bytes = 64 * 1024;
  auto opened = OpenRocksEngine(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Engine& engine = **opened;
  constexpr int kRows = 300;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < kRows; ++i) {
      std::string row = "row" + std::to_string(i);
      std::string value = std::string(100, 'a' + round) + std::to_string(i);
      ASSERT_THAT(Write(engine, row,
                        {Mutation::SetCell(kCf, "", kServerTimestamp, value),
                         Mutation::SetCell(kCf, "q" + std::to_string(round), 7,
                                           value)}),
                  IsOk());
    }
  }
  ASSERT_THAT(Write(engine, "row0", {Mutation::DeleteFromColumn(kCf, "")}),
              IsOk());
  for (int i = 0; i < kRows; ++i) {
    std::string row = "row" + std::to_string(i);
    auto cell = engine.ReadNewestCell(kDefaultTable, row, kCf, "");
    ASSERT_TRUE(cell.ok()) << cell.status();
    if (i == 0) {
      EXPECT_FALSE(cell->has_value());
      continue;
    }
    ASSERT_TRUE(cell->has_value()) << row;
    EXPECT_EQ((*cell)->value, std::string(100, 'e') + std::to_string(i));
    // cf keeps one version per column: the empty qualifier plus q0..q4.
    EXPECT_EQ(Row(engine, row).size(), 6u) << row;
  }
  EXPECT_FALSE(
      engine.ReadNewestCell(kDefaultTable, "row", kCf, "")->has_value());
  EXPECT_FALSE(
      engine.ReadNewestCell(kDefaultTable, "row1", kCf, "q")->has_value());
  EXPECT_GT(engine.GetStats().live_sst_bytes, 0u);
}

TEST(EngineTest, SecondOpenOfTheSameDirectoryFails) {
  kvstore::testing::TempDir dir;
  EngineOptions options = WithSeedTable();
  options.data_dir = dir.File("db");
  auto first = OpenRocksEngine(options);
  ASSERT_THAT(first, IsOk());
  auto second = OpenRocksEngine(options);
  EXPECT_THAT(second, ::testing::Not(IsOk()));
}

TEST(EngineTest, WritesAfterCloseAreRejected) {
  auto engine = OpenInMemory();
  ASSERT_THAT(engine->Close(), IsOk());
  EXPECT_EQ(Write(*engine, "r", {Mutation::SetCell(kCf, "", 1, "v")}).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(EngineTest, StatsCountWritesAndSyncs) {
  kvstore::testing::TempDir dir;
  EngineOptions options = WithSeedTable();
  options.data_dir = dir.File("db");
  auto opened = OpenRocksEngine(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Engine* engine = opened->get();
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(Write(*engine, "r" + std::to_string(i),
                      {Mutation::SetCell(kCf, "", 1, "v")}),
                IsOk());
  }
  EngineStats stats = engine->GetStats();
  EXPECT_EQ(stats.writes_committed, 3u);
  EXPECT_GE(stats.wal_syncs, 1u);
}

}  // namespace
}  // namespace kvstore::store
