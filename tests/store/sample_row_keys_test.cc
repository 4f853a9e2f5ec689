// :sampleRowKeys in the engine: each table's split points and offsets count
// that table alone, are sorted and non-decreasing, stay put while the table
// does not change (whatever flushes and compactions do), and come every
// sample_split_bytes of the table's stored data.
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/storage/rocks_engine.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"
#include "tests/store/engine_util.h"

using ::kvstore::testing::IsOk;
using ::kvstore::testing::StatusIs;

namespace kvstore::store {

// Found by argument-dependent lookup, so outside the anonymous namespace.
bool operator==(const Engine::RowKeySample& a, const Engine::RowKeySample& b) {
  return a.row_key == b.row_key && a.offset_bytes == b.offset_bytes;
}

void PrintTo(const Engine::RowKeySample& s, std::ostream* os) {
  *os << "{\"" << s.row_key << "\", " << s.offset_bytes << "}";
}

namespace {

using Samples = std::vector<Engine::RowKeySample>;

TableSchema Schema(const std::string& name) {
  TableSchema schema;
  schema.set_name(name);
  schema.add_column_families()->set_name("f");
  return schema;
}

std::string Key(int i) {
  char key[16];
  std::snprintf(key, sizeof(key), "row%06d", i);
  return key;
}

// Values that do not compress: the on-disk size would otherwise depend on how
// much was flushed yet (the samples must not).
std::string RandomValue(std::mt19937* random, size_t size) {
  std::string value(size, '\0');
  for (char& c : value) c = static_cast<char>((*random)());
  return value;
}

class SampleRowKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options = WithSeedTable();
    options.data_dir = dir_.File("db");
    options.sync = SyncMode::kNever;
    options.memtable_bytes = 256 * 1024;  // many flushes and compactions
    options.sample_split_bytes = 1024 * 1024;
    auto opened = OpenRocksEngine(options);
    ASSERT_THAT(opened, IsOk());
    engine_ = std::move(*opened);
  }

  void Fill(const std::string& table, int rows, size_t value_bytes,
            int first = 0) {
    for (int i = first; i < first + rows; ++i) {
      ASSERT_THAT(MutateRowAndWait(
                      *engine_, table, Key(i),
                      {Mutation::SetCell("f", "q", 1,
                                         RandomValue(&random_, value_bytes))}),
                  IsOk());
    }
  }

  Samples Sample(const std::string& table) {
    absl::StatusOr<Samples> samples = engine_->SampleRowKeys(table);
    EXPECT_THAT(samples, IsOk());
    return samples.ok() ? *samples : Samples{};
  }

  kvstore::testing::TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::mt19937 random_{7};
};

TEST_F(SampleRowKeysTest, AnEmptyTableHasOnlyTheEnd) {
  ASSERT_THAT(engine_->CreateTable(Schema("empty")), IsOk());
  EXPECT_THAT(Sample("empty"),
              ::testing::ElementsAre(Engine::RowKeySample{"", 0}));
  EXPECT_THAT(engine_->SampleRowKeys("missing"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SampleRowKeysTest, OtherTablesDataDoesNotCount) {
  ASSERT_THAT(engine_->CreateTable(Schema("small")), IsOk());
  ASSERT_THAT(engine_->CreateTable(Schema("other")), IsOk());
  Fill("small", 4, 10);
  const Samples before = Sample("small");
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].row_key, "");
  // Four rows of a 10-byte value and a key of ~30 bytes.
  EXPECT_GT(before[0].offset_bytes, 4 * 10);
  EXPECT_LT(before[0].offset_bytes, 4 * 100);
  // 3 MB into another table, through many flushes: no change at all.
  Fill("other", 750, 4000);
  EXPECT_EQ(Sample("small"), before);
  // And the other table's own total is about what was written.
  EXPECT_GT(Sample("other").back().offset_bytes, 750 * 4000);
}

TEST_F(SampleRowKeysTest, ABigTableHasSplitPointsEveryMebibyte) {
  ASSERT_THAT(engine_->CreateTable(Schema("big")), IsOk());
  constexpr int kRows = 2000;
  constexpr size_t kValue = 4000;  // ~8 MB in all
  Fill("big", kRows, kValue);
  const Samples samples = Sample("big");
  ASSERT_GE(samples.size(), 8u);  // >= 7 split points and the end
  EXPECT_EQ(samples.back().row_key, "");
  EXPECT_GE(samples.back().offset_bytes, kRows * static_cast<int64_t>(kValue));
  for (size_t i = 0; i + 1 < samples.size(); ++i) {
    const int64_t previous = i == 0 ? 0 : samples[i - 1].offset_bytes;
    // Each split is the first row past the next MiB: at least 1 MiB after
    // the last one, and within one row of it.
    EXPECT_GE(samples[i].offset_bytes - previous, 1 << 20) << i;
    EXPECT_LT(samples[i].offset_bytes - previous, (1 << 20) + 4200) << i;
    if (i > 0) {
      EXPECT_LT(samples[i - 1].row_key, samples[i].row_key);
    }
    EXPECT_LE(samples[i].offset_bytes, samples[i + 1].offset_bytes);
  }
  // The offset counts the rows before the split point: row N starts after N
  // rows of the same size.
  const int64_t per_row = samples.back().offset_bytes / kRows;
  int split_row = std::stoi(samples[0].row_key.substr(3));
  EXPECT_EQ(samples[0].offset_bytes, per_row * split_row);
}

TEST_F(SampleRowKeysTest, StableWhileTheTableDoesNotChange) {
  ASSERT_THAT(engine_->CreateTable(Schema("t")), IsOk());
  ASSERT_THAT(engine_->CreateTable(Schema("other")), IsOk());
  Fill("t", 700, 4000);
  const Samples first = Sample("t");
  ASSERT_GE(first.size(), 3u);
  Fill("other", 700, 4000);  // flushes and compactions in between
  EXPECT_EQ(Sample("t"), first);
  // Growing the table moves the end and adds split points, never back.
  Fill("t", 300, 4000, 700);
  const Samples grown = Sample("t");
  EXPECT_GT(grown.back().offset_bytes, first.back().offset_bytes);
  ASSERT_GE(grown.size(), first.size());
  for (size_t i = 0; i + 1 < first.size(); ++i) EXPECT_EQ(grown[i], first[i]);
}

}  // namespace
}  // namespace kvstore::store
