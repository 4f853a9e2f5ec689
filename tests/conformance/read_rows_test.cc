// ReadRows through the proxy: row sets, ordering, limits, filters.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "tests/conformance/harness.h"

namespace kvstore::conformance {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

v1::ReadRowsRequest All() { return v1::ReadRowsRequest(); }

v1::ReadRowsRequest Range(const char* start_kind, const std::string& start,
                          const char* end_kind, const std::string& end) {
  v1::ReadRowsRequest request;
  auto* range = request.mutable_rows()->add_row_ranges();
  if (std::string(start_kind) == "closed") range->set_start_closed(start);
  if (std::string(start_kind) == "open") range->set_start_open(start);
  if (std::string(end_kind) == "closed") range->set_end_closed(end);
  if (std::string(end_kind) == "open") range->set_end_open(end);
  return request;
}

v1::ReadRowsRequest Filtered(v1::RowFilter filter) {
  v1::ReadRowsRequest request;
  *request.mutable_filter() = std::move(filter);
  return request;
}

// The values of the result's cells, in order, with labels as "value@label".
std::vector<std::string> Values(const tpv1::RowsResult& result) {
  std::vector<std::string> out;
  for (const auto& row : result.rows()) {
    for (const auto& family : row.families()) {
      for (const auto& column : family.columns()) {
        for (const auto& cell : column.cells()) {
          std::string v = cell.value();
          for (const auto& label : cell.labels()) v += "@" + label;
          out.push_back(v);
        }
      }
    }
  }
  return out;
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_EmptyTableGivesNoRows,
                 "API-1") {
  auto result = ReadRows(All());
  EXPECT_EQ(result.status().code(), 0);
  EXPECT_THAT(Keys(result), IsEmpty());
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_RowsInUnsignedByteOrder,
                 "API-1") {
  Put({"b", "\x80", std::string("a\0", 2), "a", "B", "ab"});
  auto result = ReadRows(All());
  EXPECT_EQ(result.status().code(), 0);
  EXPECT_THAT(Keys(result),
              ElementsAre("B", "a", std::string("a\0", 2), "ab", "b", "\x80"));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadRows_Generic_RowKeysAreSortedAndDeduplicated, "API-1") {
  Put({"a", "b", "c", "d"});
  v1::ReadRowsRequest request;
  for (const char* key : {"d", "a", "d", "zz"}) {
    request.mutable_rows()->add_row_keys(key);
  }
  EXPECT_THAT(Keys(ReadRows(request)), ElementsAre("a", "d"));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_RangeClosedOpen, "API-1") {
  Put({"a", "b", "c", "d"});
  EXPECT_THAT(Keys(ReadRows(Range("closed", "b", "open", "d"))),
              ElementsAre("b", "c"));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_RangeOpenClosed, "API-1") {
  Put({"a", "b", "c", "d"});
  EXPECT_THAT(Keys(ReadRows(Range("open", "a", "closed", "c"))),
              ElementsAre("b", "c"));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_RangeWithoutEnd, "API-1") {
  Put({"a", "b", "c"});
  EXPECT_THAT(Keys(ReadRows(Range("closed", "b", "", ""))),
              ElementsAre("b", "c"));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadRows_Generic_RangeWithOpenEqualBoundsIsEmpty, "API-1") {
  Put({"a", "b"});
  auto result = ReadRows(Range("open", "a", "open", "a"));
  EXPECT_EQ(result.status().code(), 0);
  EXPECT_THAT(Keys(result), IsEmpty());
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_RangeStartAfterEndIsInvalid,
                 "API-1 API-3") {
  auto result = ReadRows(Range("closed", "c", "open", "a"));
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadRows_Generic_OverlappingRangesAndKeysMerge, "API-1") {
  Put({"a", "b", "c", "d", "e"});
  v1::ReadRowsRequest request = Range("closed", "a", "open", "c");
  auto* second = request.mutable_rows()->add_row_ranges();
  second->set_start_closed("b");
  second->set_end_closed("c");
  request.mutable_rows()->add_row_keys("b");
  request.mutable_rows()->add_row_keys("e");
  EXPECT_THAT(Keys(ReadRows(request)), ElementsAre("a", "b", "c", "e"));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_RowsLimit, "API-1") {
  Put({"a", "b", "c", "d"});
  v1::ReadRowsRequest request;
  request.set_rows_limit(2);
  EXPECT_THAT(Keys(ReadRows(request)), ElementsAre("a", "b"));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_NegativeRowsLimitIsInvalid,
                 "API-3") {
  v1::ReadRowsRequest request;
  request.set_rows_limit(-1);
  EXPECT_EQ(ReadRows(request).status().code(),
            Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_Reversed, "API-1 RR-1") {
  Put({"a", "b", "c"});
  v1::ReadRowsRequest request;
  request.set_reversed(true);
  EXPECT_THAT(Keys(ReadRows(request)), ElementsAre("c", "b", "a"));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_ReversedWithLimitAndRange,
                 "API-1") {
  Put({"a", "b", "c", "d"});
  v1::ReadRowsRequest request = Range("closed", "a", "open", "d");
  request.set_reversed(true);
  request.set_rows_limit(2);
  EXPECT_THAT(Keys(ReadRows(request)), ElementsAre("c", "b"));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadRows_Generic_ReversedKeepsCellOrderInsideARow, "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "a", "1", 1), SetCell("f", "b", "2", 1),
                         SetCell("g", "a", "3", 1)})
                .status()
                .code(),
            0);
  v1::ReadRowsRequest request;
  request.set_reversed(true);
  EXPECT_THAT(Values(ReadRows(request)), ElementsAre("1", "2", "3"));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_CancelAfterRowsStopsEarly,
                 "RR-5") {
  Put({"a", "b", "c", "d", "e"});
  auto result = ReadRows(All(), 2);
  EXPECT_EQ(result.status().code(), 0);
  EXPECT_THAT(Keys(result), ElementsAre("a", "b"));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_ManyRowsStreamInOrder,
                 "API-1 RR-1") {
  v1::MutateRowsRequest bulk;
  for (int i = 0; i < 2000; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "row%05d", i);
    auto* entry = bulk.add_entries();
    entry->set_row_key(key);
    *entry->add_mutations() = SetCell("f", "q", std::string(1000, 'x'));
  }
  ASSERT_EQ(Bulk(bulk).status().code(), 0);
  auto result = ReadRows(All());
  ASSERT_EQ(result.status().code(), 0);
  ASSERT_EQ(result.rows_size(), 2000);
  for (int i = 1; i < result.rows_size(); ++i) {
    ASSERT_LT(result.rows(i - 1).key(), result.rows(i).key());
  }
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_UnknownTableIsNotFound,
                 "CH-1 API-3") {
  EXPECT_EQ(ReadRows(All(), 0, "no_such_table").status().code(),
            Code(absl::StatusCode::kNotFound));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_RowKeyRegexIsAFullMatch,
                 "API-1") {
  Put({"ab", "abc", "xab"});
  EXPECT_THAT(Keys(ReadRows(Filtered(RowKeyRegex("ab")))), ElementsAre("ab"));
  EXPECT_THAT(Keys(ReadRows(Filtered(RowKeyRegex("ab.*")))),
              ElementsAre("ab", "abc"));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_RegexMatchesRawBytes,
                 "API-1") {
  Put({std::string("k\xff", 2), std::string("k\n", 2), "kz"});
  // "." is any byte but newline; \xff is one byte (Latin-1), not UTF-8.
  EXPECT_THAT(Keys(ReadRows(Filtered(RowKeyRegex("k.")))),
              ElementsAre("kz", std::string("k\xff", 2)));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_FamilyAndColumnRegexes,
                 "API-1") {
  ASSERT_EQ(
      Mutate("r", {SetCell("f", "q1", "f-q1", 1), SetCell("f", "x", "f-x", 1),
                   SetCell("g", "q2", "g-q2", 1)})
          .status()
          .code(),
      0);
  EXPECT_THAT(Values(ReadRows(Filtered(FamilyRegex("g")))),
              ElementsAre("g-q2"));
  EXPECT_THAT(Values(ReadRows(Filtered(ColumnRegex("q.")))),
              ElementsAre("f-q1", "g-q2"));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadRows_Generic_FamilyRegexWithColonIsInvalid,
                 "API-1 API-3") {
  EXPECT_EQ(ReadRows(Filtered(FamilyRegex("f:q"))).status().code(),
            Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_BadRegexIsInvalid,
                 "API-1 API-3") {
  EXPECT_EQ(ReadRows(Filtered(RowKeyRegex("[unclosed"))).status().code(),
            Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_ValueRegex, "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "a", "apple", 1),
                         SetCell("f", "b", "banana", 1)})
                .status()
                .code(),
            0);
  EXPECT_THAT(Values(ReadRows(Filtered(ValueRegex("b.*")))),
              ElementsAre("banana"));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_ChainAppliesInOrder,
                 "API-1") {
  ASSERT_EQ(
      Mutate("r", {SetCell("f", "q", "3", 3000), SetCell("f", "q", "2", 2000),
                   SetCell("f", "q", "1", 1000)})
          .status()
          .code(),
      0);
  // Each chain's result depends on the order of its filters.
  EXPECT_THAT(Values(ReadRows(
                  Filtered(Chain({CellsPerColumn(2), CellsPerRowOffset(1)})))),
              ElementsAre("2"));
  EXPECT_THAT(Values(ReadRows(
                  Filtered(Chain({CellsPerRowOffset(1), CellsPerColumn(1)})))),
              ElementsAre("2"));
  EXPECT_THAT(Keys(ReadRows(
                  Filtered(Chain({CellsPerColumn(1), CellsPerRowOffset(1)})))),
              IsEmpty());
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadRows_Generic_InterleaveKeepsDuplicatesAndLabels, "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "q", "v", 1)}).status().code(), 0);
  auto result = ReadRows(Filtered(Interleave(
      {Chain({PassAll(), Label("one")}), Chain({PassAll(), Label("two")})})));
  EXPECT_THAT(Values(result), ElementsAre("v@one", "v@two"));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadRows_Generic_ConditionPicksABranchForTheWholeRow,
                 "API-1") {
  ASSERT_EQ(Mutate("yes",
                   {SetCell("f", "flag", "1", 1), SetCell("g", "data", "y", 1)})
                .status()
                .code(),
            0);
  ASSERT_EQ(Mutate("no", {SetCell("g", "data", "n", 1)}).status().code(), 0);
  auto result = ReadRows(
      Filtered(Condition(ColumnRegex("flag"), FamilyRegex("g"), BlockAll())));
  EXPECT_THAT(Keys(result), ElementsAre("yes"));
  EXPECT_THAT(Values(result), ElementsAre("y"));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_StripValueKeepsTimestamps,
                 "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "q", "secret", 4242)}).status().code(),
            0);
  auto result = ReadRows(Filtered(StripValue()));
  ASSERT_EQ(result.rows_size(), 1);
  const auto& cell = result.rows(0).families(0).columns(0).cells(0);
  EXPECT_EQ(cell.value(), "");
  EXPECT_EQ(cell.timestamp_micros(), 4242);
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_TimestampRangeIsHalfOpen,
                 "API-1") {
  ASSERT_EQ(
      Mutate("r", {SetCell("f", "q", "1", 1000), SetCell("f", "q", "2", 2000),
                   SetCell("f", "q", "3", 3000)})
          .status()
          .code(),
      0);
  EXPECT_THAT(Values(ReadRows(Filtered(TimestampRange(1000, 3000)))),
              ElementsAre("2", "1"));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadRows_Generic_CellsPerRowLimitCountsAcrossFamilies,
                 "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("g", "a", "g1", 1), SetCell("f", "b", "f2", 1),
                         SetCell("f", "a", "f1", 1)})
                .status()
                .code(),
            0);
  EXPECT_THAT(Values(ReadRows(Filtered(CellsPerRowLimit(2)))),
              ElementsAre("f1", "f2"));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadRows_Generic_RowsEmptiedByAFilterDoNotCount, "API-1") {
  ASSERT_EQ(Mutate("a", {SetCell("g", "q", "no", 1)}).status().code(), 0);
  ASSERT_EQ(Mutate("b", {SetCell("f", "q", "yes-b", 1)}).status().code(), 0);
  ASSERT_EQ(Mutate("c", {SetCell("f", "q", "yes-c", 1)}).status().code(), 0);
  v1::ReadRowsRequest request = Filtered(FamilyRegex("f"));
  request.set_rows_limit(1);
  EXPECT_THAT(Keys(ReadRows(request)), ElementsAre("b"));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_ZeroLimitFilterIsInvalid,
                 "API-3") {
  EXPECT_EQ(ReadRows(Filtered(CellsPerRowLimit(0))).status().code(),
            Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_ChainOfOneFilterIsInvalid,
                 "API-3") {
  EXPECT_EQ(ReadRows(Filtered(Chain({PassAll()}))).status().code(),
            Code(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace kvstore::conformance
