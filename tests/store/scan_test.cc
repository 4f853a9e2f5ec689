// Engine::ScanRows: order, row sets, reversed scans, row lifecycle, snapshots,
// max_age.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/storage/rocks_engine.h"
#include "tests/common/status_matchers.h"
#include "tests/store/engine_util.h"

using ::kvstore::testing::IsOk;

namespace kvstore::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class ScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.in_memory = true;
    options.memtable_bytes = 256 * 1024;  // so bigger tests span SST files
    auto engine = OpenRocksEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    TableSchema schema;
    schema.set_name("t");
    for (const char* name :
         {"b", "a"}) {  // declared out of name order on purpose
      schema.add_column_families()->set_name(name);
    }
    auto* aged = schema.add_column_families();
    aged->set_name("aged");
    aged->mutable_gc_rule()->set_max_age_micros(
        absl::ToInt64Microseconds(absl::Hours(1)));
    ASSERT_THAT(engine_->CreateTable(schema), IsOk());
  }

  void Set(const std::string& row, const std::string& family,
           const std::string& qualifier, int64_t ts,
           const std::string& value = "v") {
    ASSERT_THAT(
        MutateRowAndWait(*engine_, "t", row,
                         {Mutation::SetCell(family, qualifier, ts, value)}),
        IsOk());
  }

  std::vector<v1::Row> Scan(const v1::RowSet& set = v1::RowSet(),
                            bool reversed = false) {
    std::vector<v1::Row> rows;
    auto scanner = engine_->ScanRows("t", set, reversed);
    EXPECT_TRUE(scanner.ok()) << scanner.status();
    if (!scanner.ok()) return rows;
    ScannedRow row;
    while (true) {
      auto more = (*scanner)->Next(&row);
      EXPECT_TRUE(more.ok()) << more.status();
      if (!more.ok() || !*more) break;
      rows.push_back(RowOf(row.key, row.cells));
    }
    return rows;
  }

  std::vector<std::string> Keys(const std::vector<v1::Row>& rows) {
    std::vector<std::string> keys;
    for (const auto& r : rows) keys.push_back(r.key());
    return keys;
  }

  std::unique_ptr<Engine> engine_;
};

const std::string kAZero("a\0", 2);

TEST_F(ScanTest, RowsInUnsignedByteOrder) {
  for (const std::string& key : {std::string("ab"), std::string("\x80"), kAZero,
                                 std::string("a"), std::string("B")}) {
    Set(key, "a", "q", 1);
  }
  EXPECT_THAT(Keys(Scan()), ElementsAre("B", "a", kAZero, "ab", "\x80"));
  EXPECT_THAT(Keys(Scan(v1::RowSet(), /*reversed=*/true)),
              ElementsAre("\x80", "ab", kAZero, "a", "B"));
}

TEST_F(ScanTest, CellsAreGroupedInModelOrder) {
  Set("r", "b", "q", 1);
  Set("r", "a", "z", 1);
  Set("r", "a", "y", 5);
  Set("r", "a", "y", 7, "newer");
  auto rows = Scan();
  ASSERT_EQ(rows.size(), 1u);
  const v1::Row& row = rows[0];
  ASSERT_EQ(row.families_size(), 2);
  EXPECT_EQ(row.families(0).name(), "a");  // name order, not declaration order
  EXPECT_EQ(row.families(1).name(), "b");
  ASSERT_EQ(row.families(0).columns_size(), 2);
  EXPECT_EQ(row.families(0).columns(0).qualifier(), "y");
  ASSERT_EQ(row.families(0).columns(0).cells_size(), 2);
  EXPECT_EQ(row.families(0).columns(0).cells(0).timestamp_micros(), 7);
  EXPECT_EQ(row.families(0).columns(0).cells(0).value(), "newer");
  EXPECT_EQ(row.families(0).columns(1).qualifier(), "z");
  // Reversed scans keep the order inside a row.
  auto reversed = Scan(v1::RowSet(), true);
  ASSERT_EQ(reversed.size(), 1u);
  EXPECT_EQ(reversed[0].SerializeAsString(), row.SerializeAsString());
}

TEST_F(ScanTest, RowSetsSelectAndDeduplicate) {
  for (const char* key : {"a", "b", "c", "d", "e"}) Set(key, "a", "q", 1);
  v1::RowSet set;
  set.add_row_keys("d");
  set.add_row_keys("a");
  set.add_row_keys("d");
  set.add_row_keys("zz");  // absent: no row
  auto* range = set.add_row_ranges();
  range->set_start_open("a");
  range->set_end_closed("c");
  EXPECT_THAT(Keys(Scan(set)), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(Keys(Scan(set, true)), ElementsAre("d", "c", "b", "a"));
}

TEST_F(ScanTest, RowsVanishWithTheirLastCellAndCanReturn) {
  Set("r", "a", "q", 1);
  ASSERT_THAT(MutateRowAndWait(*engine_, "t", "r",
                               {Mutation::DeleteFromColumn("a", "q")}),
              IsOk());
  EXPECT_THAT(Scan(), IsEmpty());
  Set("r", "b", "q", 2);
  EXPECT_THAT(Keys(Scan()), ElementsAre("r"));
}

TEST_F(ScanTest, ScansReadASnapshot) {
  Set("a", "a", "q", 1);
  Set("c", "a", "q", 1);
  auto scanner = engine_->ScanRows("t", v1::RowSet(), false);
  ASSERT_THAT(scanner, IsOk());
  Set("b", "a", "q", 1);  // after the scan started
  std::vector<std::string> keys;
  ScannedRow row;
  while (true) {
    auto more = (*scanner)->Next(&row);
    ASSERT_THAT(more, IsOk());
    if (!*more) break;
    keys.push_back(row.key);
  }
  EXPECT_THAT(keys, ElementsAre("a", "c"));
}

TEST_F(ScanTest, CellsPastMaxAgeAreNotReturned) {
  int64_t now = absl::ToUnixMicros(absl::Now());
  Set("old", "aged", "q", now - absl::ToInt64Microseconds(absl::Hours(2)));
  Set("mixed", "aged", "q", now - absl::ToInt64Microseconds(absl::Hours(2)),
      "stale");
  Set("mixed", "aged", "q", now, "fresh");
  auto rows = Scan();
  ASSERT_EQ(rows.size(), 1u);  // "old" has no live cell left
  EXPECT_EQ(rows[0].key(), "mixed");
  ASSERT_EQ(rows[0].families(0).columns(0).cells_size(), 1);
  EXPECT_EQ(rows[0].families(0).columns(0).cells(0).value(), "fresh");
}

TEST_F(ScanTest, Errors) {
  EXPECT_EQ(engine_->ScanRows("missing", v1::RowSet(), false).status().code(),
            absl::StatusCode::kNotFound);
  v1::RowSet bad;
  auto* range = bad.add_row_ranges();
  range->set_start_closed("z");
  range->set_end_closed("a");
  EXPECT_EQ(engine_->ScanRows("t", bad, false).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ScanTest, PointReadsReturnExactlyTheirRowAndTheLatestWrites) {
  // Keys that prefix one another, with zero bytes: a point read must not
  // stray into a neighbour.
  const std::vector<std::string> keys = {"a", kAZero, std::string("a\0\0", 3),
                                         "ab", std::string("a\x01", 2)};
  for (const std::string& key : keys) {
    Set(key, "a", "q", 1, "v1-" + key);
    Set(key, "b", "z", 2, "v2-" + key);
  }
  // Spread the rows over SST files and the memtable.
  for (int i = 0; i < 2000; ++i)
    Set("filler", "a", "q", i, std::string(200, 'f'));
  Set(kAZero, "a", "q", 9, "newest");
  for (int round = 0; round < 3; ++round) {  // pooled iterators are reused
    for (const std::string& key : keys) {
      v1::RowSet one;
      one.add_row_keys(key);
      for (bool reversed : {false, true}) {
        auto rows = Scan(one, reversed);
        ASSERT_EQ(rows.size(), 1u) << key;
        const v1::Row& row = rows[0];
        EXPECT_EQ(row.key(), key);
        ASSERT_EQ(row.families_size(), 2);
        EXPECT_EQ(row.families(0).columns(0).cells(0).value(),
                  key == kAZero ? "newest" : "v1-" + key);
        EXPECT_EQ(row.families(1).columns(0).cells(0).value(), "v2-" + key);
      }
    }
    Set("ab", "b", "z", 2, "v2-ab");  // a same-timestamp overwrite
  }
  v1::RowSet absent;
  absent.add_row_keys("a\x02");
  EXPECT_THAT(Scan(absent), IsEmpty());
  // Several single keys at once, both directions.
  v1::RowSet several;
  for (const std::string& key : keys) several.add_row_keys(key);
  EXPECT_THAT(Keys(Scan(several)),
              ElementsAre("a", kAZero, std::string("a\0\0", 3),
                          std::string("a\x01", 2), "ab"));
  EXPECT_THAT(Keys(Scan(several, true)),
              ElementsAre("ab", std::string("a\x01", 2),
                          std::string("a\0\0", 3), kAZero, "a"));
}

TEST_F(ScanTest, ManyRowsAcrossFlushes) {
  for (int i = 0; i < 2000; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "row%05d", i);
    Set(key, "a", "q", 1, std::string(200, 'x'));
  }
  auto rows = Scan();
  ASSERT_EQ(rows.size(), 2000u);
  for (size_t i = 1; i < rows.size(); ++i)
    EXPECT_LT(rows[i - 1].key(), rows[i].key());
}

// A scan far larger than the block cache, of rows with two cells larger than a
// block, read both ways: every value must come back whole and in its row, as
// blocks are evicted and freed behind the iterator.
TEST(LongScanTest, EveryValueComesBackWhole) {
  EngineOptions options;
  options.in_memory = true;
  options.memtable_bytes = 1 << 20;  // most rows in SST files, some in memory
  options.block_cache_bytes = 64 * 1024;
  options.row_cache_bytes = 0;
  auto opened = OpenRocksEngine(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Engine& engine = **opened;
  TableSchema schema;
  schema.set_name("t");
  schema.add_column_families()->set_name("a");
  schema.add_column_families()->set_name("b");
  ASSERT_THAT(engine.CreateTable(schema), IsOk());
  constexpr int kRows = 400;  // 2 cells of 16 KiB each: 12.8 MB
  auto value_of = [](int row, const std::string& family) {
    std::string tag = absl::StrCat(family, row, ";");
    std::string value;
    while (value.size() < 16 * 1024) value += tag;
    return value;
  };
  auto key_of = [](int row) { return absl::StrFormat("row%05d", row); };
  for (int i = 0; i < kRows; ++i) {
    ASSERT_THAT(
        MutateRowAndWait(engine, "t", key_of(i),
                         {Mutation::SetCell("a", "q", 1, value_of(i, "a")),
                          Mutation::SetCell("b", "q", 1, value_of(i, "b"))}),
        IsOk());
  }
  for (bool reversed : {false, true}) {
    SCOPED_TRACE(reversed ? "reversed" : "forward");
    auto scanner = engine.ScanRows("t", v1::RowSet(), reversed);
    ASSERT_TRUE(scanner.ok()) << scanner.status();
    ScannedRow row;
    int seen = 0;
    while (true) {
      auto more = (*scanner)->Next(&row);
      ASSERT_TRUE(more.ok()) << more.status();
      if (!*more) break;
      const int i = reversed ? kRows - 1 - seen : seen;
      ASSERT_EQ(row.key, key_of(i));
      ASSERT_EQ(row.cells.size(), 2u);
      ASSERT_EQ(row.cells[0].value, value_of(i, "a")) << row.key;
      ASSERT_EQ(row.cells[1].value, value_of(i, "b")) << row.key;
      ++seen;
    }
    EXPECT_EQ(seen, kRows);
  }
}

}  // namespace
}  // namespace kvstore::store
