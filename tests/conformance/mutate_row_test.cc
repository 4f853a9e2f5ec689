// MutateRow and BulkMutateRows through the proxy.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "tests/conformance/harness.h"

namespace kvstore::conformance {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> CellValues(const tpv1::RowResult& result) {
  std::vector<std::string> out;
  for (const auto& family : result.row().families()) {
    for (const auto& column : family.columns()) {
      for (const auto& cell : column.cells()) out.push_back(cell.value());
    }
  }
  return out;
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_SetCellThenRead, "API-1") {
  auto result = Mutate("r", {SetCell("f", "q", "v", 5)});
  EXPECT_EQ(result.status().code(), 0) << result.status().message();
  EXPECT_THAT(CellValues(ReadRow("r")), ElementsAre("v"));
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_ServerTimestampIsNow,
                 "API-1") {
  const int64_t before = absl::ToUnixMicros(absl::Now());
  ASSERT_EQ(Mutate("r", {SetCell("f", "q", "v", kServerTime)}).status().code(),
            0);
  const int64_t after = absl::ToUnixMicros(absl::Now());
  auto row = ReadRow("r");
  ASSERT_TRUE(row.has_row());
  int64_t ts = row.row().families(0).columns(0).cells(0).timestamp_micros();
  EXPECT_GE(ts, before - 1000000);  // the store's clock, within a second
  EXPECT_LE(ts, after + 1000000);
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_SameTimestampOverwrites,
                 "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "q", "first", 7)}).status().code(), 0);
  ASSERT_EQ(Mutate("r", {SetCell("f", "q", "second", 7)}).status().code(), 0);
  EXPECT_THAT(CellValues(ReadRow("r")), ElementsAre("second"));
}

CONFORMANCE_TEST(ConformanceTest,
                 MutateRow_Generic_OneVersionFamilyKeepsTheNewest, "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("one", "q", "a", 1)}).status().code(), 0);
  ASSERT_EQ(Mutate("r", {SetCell("one", "q", "b", 2)}).status().code(), 0);
  EXPECT_THAT(CellValues(ReadRow("r")), ElementsAre("b"));
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_MaxVersionsDropsTheOldest,
                 "API-1") {
  for (int ts = 1; ts <= 5; ++ts) {
    ASSERT_EQ(Mutate("r", {SetCell("three", "q", std::to_string(ts), ts)})
                  .status()
                  .code(),
              0);
  }
  EXPECT_THAT(CellValues(ReadRow("r")), ElementsAre("5", "4", "3"));
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_DeleteFromColumnTimeRange,
                 "API-1") {
  ASSERT_EQ(
      Mutate("r", {SetCell("f", "q", "1", 1000), SetCell("f", "q", "2", 2000),
                   SetCell("f", "q", "3", 3000)})
          .status()
          .code(),
      0);
  ASSERT_EQ(
      Mutate("r", {DeleteFromColumn("f", "q", 1000, 3000)}).status().code(), 0);
  EXPECT_THAT(CellValues(ReadRow("r")), ElementsAre("3"));
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_DeleteFromFamily, "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "q", "f", 1), SetCell("g", "q", "g", 1)})
                .status()
                .code(),
            0);
  ASSERT_EQ(Mutate("r", {DeleteFromFamily("f")}).status().code(), 0);
  EXPECT_THAT(CellValues(ReadRow("r")), ElementsAre("g"));
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_RowVanishesWithItsLastCell,
                 "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "q", "v", 1)}).status().code(), 0);
  ASSERT_EQ(Mutate("r", {DeleteFromRow()}).status().code(), 0);
  auto row = ReadRow("r");
  EXPECT_EQ(row.status().code(), 0);
  EXPECT_FALSE(row.has_row());
  // And it can come back.
  ASSERT_EQ(Mutate("r", {SetCell("g", "q", "again", 1)}).status().code(), 0);
  EXPECT_THAT(CellValues(ReadRow("r")), ElementsAre("again"));
}

CONFORMANCE_TEST(ConformanceTest,
                 MutateRow_Generic_InvalidLastMutationLeavesRowUntouched,
                 "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "q", "kept", 1)}).status().code(), 0);
  auto result = Mutate("r", {SetCell("f", "q", "lost", 2), DeleteFromRow(),
                             SetCell("nope", "q", "bad", 3)});
  EXPECT_NE(result.status().code(), 0);
  EXPECT_THAT(CellValues(ReadRow("r")), ElementsAre("kept"));
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_UnknownFamilyIsNotFound,
                 "API-3") {
  EXPECT_EQ(Mutate("r", {SetCell("nope", "q", "v")}).status().code(),
            Code(absl::StatusCode::kNotFound));
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_UnknownTableIsNotFound,
                 "CH-1 API-3") {
  EXPECT_EQ(
      Mutate("r", {SetCell("f", "q", "v")}, "no_such_table").status().code(),
      Code(absl::StatusCode::kNotFound));
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_NoMutationsIsInvalid,
                 "API-3") {
  EXPECT_EQ(Mutate("r", {}).status().code(),
            Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_EmptyRowKeyIsInvalid,
                 "API-3") {
  EXPECT_EQ(Mutate("", {SetCell("f", "q", "v")}).status().code(),
            Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_OversizedRowKeyIsInvalid,
                 "API-3") {
  EXPECT_EQ(
      Mutate(std::string(4097, 'k'), {SetCell("f", "q", "v")}).status().code(),
      Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(
    ConformanceTest,
    MutateRow_Generic_NegativeTimestampOtherThanServerTimeIsInvalid, "API-3") {
  EXPECT_EQ(Mutate("r", {SetCell("f", "q", "v", -5)}).status().code(),
            Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest, BulkMutateRows_Generic_AllEntriesApplied,
                 "API-1 BM-1") {
  v1::MutateRowsRequest bulk;
  for (const char* key : {"a", "b", "c"}) {
    auto* entry = bulk.add_entries();
    entry->set_row_key(key);
    *entry->add_mutations() = SetCell("f", "q", key);
  }
  auto result = Bulk(bulk);
  EXPECT_EQ(result.status().code(), 0);
  EXPECT_EQ(result.entries_size(), 0);
  EXPECT_THAT(CellValues(ReadRow("b")), ElementsAre("b"));
}

CONFORMANCE_TEST(ConformanceTest, BulkMutateRows_Generic_FailedEntriesByIndex,
                 "BM-1") {
  v1::MutateRowsRequest bulk;
  auto* good = bulk.add_entries();
  good->set_row_key("good");
  *good->add_mutations() = SetCell("f", "q", "v");
  auto* bad = bulk.add_entries();
  bad->set_row_key("bad");
  *bad->add_mutations() = SetCell("nope", "q", "v");
  auto* empty = bulk.add_entries();
  empty->set_row_key("empty");
  auto* also_good = bulk.add_entries();
  also_good->set_row_key("also");
  *also_good->add_mutations() = SetCell("g", "q", "w");
  auto result = Bulk(bulk);
  ASSERT_EQ(result.entries_size(), 2);
  EXPECT_EQ(result.entries(0).index(), 1);
  EXPECT_EQ(result.entries(0).status().code(),
            Code(absl::StatusCode::kNotFound));
  EXPECT_EQ(result.entries(1).index(), 2);
  EXPECT_EQ(result.entries(1).status().code(),
            Code(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(result.status().code(), 0);
  // The good entries were applied regardless.
  EXPECT_TRUE(ReadRow("good").has_row());
  EXPECT_TRUE(ReadRow("also").has_row());
  EXPECT_FALSE(ReadRow("bad").has_row());
}

CONFORMANCE_TEST(ConformanceTest, BulkMutateRows_Generic_DuplicateKeysBothApply,
                 "API-1") {
  v1::MutateRowsRequest bulk;
  for (const char* value : {"x", "y"}) {
    auto* entry = bulk.add_entries();
    entry->set_row_key("same");
    *entry->add_mutations() = SetCell("f", value, value, 1);
  }
  ASSERT_EQ(Bulk(bulk).status().code(), 0);
  EXPECT_THAT(CellValues(ReadRow("same")), ElementsAre("x", "y"));
}

CONFORMANCE_TEST(ConformanceTest, BulkMutateRows_Generic_EmptyRequestIsInvalid,
                 "API-3 BM-2") {
  auto result = Bulk(v1::MutateRowsRequest());
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest, BulkMutateRows_Generic_UnknownTableIsNotFound,
                 "CH-1 API-3 BM-2") {
  v1::MutateRowsRequest bulk;
  auto* entry = bulk.add_entries();
  entry->set_row_key("k");
  *entry->add_mutations() = SetCell("f", "q", "v");
  tpv1::MutateRowsResult result = Bulk(bulk, "no_such_table");
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kNotFound));
  EXPECT_EQ(result.entries_size(), 0);
}

}  // namespace
}  // namespace kvstore::conformance
