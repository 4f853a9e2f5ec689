// The filter language, including the tricky cases of the semantics reference.
#include "store/filter/row_filter.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

FilterCell C(std::string family, std::string qualifier, int64_t ts,
             std::string value = "v") {
  return FilterCell{
      std::move(family), std::move(qualifier), ts, std::move(value), {}};
}

// A row with two families, in row order.
std::vector<FilterCell> SampleRow() {
  return {C("a", "x", 3, "ax3"), C("a", "x", 2, "ax2"), C("a", "y", 1, "ay1"),
          C("b", "x", 5, "bx5"), C("b", "z", 4, "bz4")};
}

v1::RowFilter Parse(const std::string& text) {
  v1::RowFilter filter;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &filter))
      << text;
  return filter;
}

std::vector<std::string> Values(
    const std::string& filter_text,
    const std::vector<FilterCell>& row = SampleRow(),
    const std::string& key = "row") {
  auto filter = CompiledFilter::Compile(Parse(filter_text));
  EXPECT_TRUE(filter.ok()) << filter.status();
  std::vector<std::string> out;
  if (!filter.ok()) return out;
  for (const FilterCell& c : (*filter)->Apply(key, row)) {
    out.push_back(c.value + (c.labels.empty() ? "" : "@" + c.labels[0]));
  }
  return out;
}

void ExpectInvalid(const std::string& filter_text,
                   const std::string& message_part) {
  auto filter = CompiledFilter::Compile(Parse(filter_text));
  ASSERT_FALSE(filter.ok()) << filter_text;
  EXPECT_EQ(filter.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(filter.status().message()), HasSubstr(message_part));
}

TEST(RowFilterTest, UnsetFilterPassesEverything) {
  EXPECT_THAT(Values(""), ElementsAre("ax3", "ax2", "ay1", "bx5", "bz4"));
  EXPECT_THAT(Values("pass_all: true"),
              ElementsAre("ax3", "ax2", "ay1", "bx5", "bz4"));
  EXPECT_THAT(Values("block_all: true"), IsEmpty());
}

TEST(RowFilterTest, RegexesAreFullMatchesOnRawBytes) {
  std::vector<FilterCell> row = {
      C("f", "ab", 1, "1"), C("f", "abc", 1, "2"), C("f", "a\nb", 1, "3"),
      C("f", std::string("\xff\x00", 2), 1, "4"), C("f", "", 1, "5")};
  EXPECT_THAT(Values("column_qualifier_regex: 'ab'", row), ElementsAre("1"));
  EXPECT_THAT(Values("column_qualifier_regex: 'a.b'", row),
              IsEmpty());  // '.' skips \n
  EXPECT_THAT(Values("column_qualifier_regex: 'a\\\\Cb'", row),
              ElementsAre("3"));
  EXPECT_THAT(Values("column_qualifier_regex: '\\\\xff\\\\x00'", row),
              ElementsAre("4"));
  EXPECT_THAT(Values("column_qualifier_regex: ''", row), ElementsAre("5"));
  EXPECT_THAT(Values("value_regex: '[12]'", row), ElementsAre("1", "2"));
  EXPECT_THAT(Values("family_name_regex: 'b'"), ElementsAre("bx5", "bz4"));
  EXPECT_THAT(Values("row_key_regex: 'r.w'"),
              ElementsAre("ax3", "ax2", "ay1", "bx5", "bz4"));
  EXPECT_THAT(Values("row_key_regex: 'ro'"), IsEmpty());
}

TEST(RowFilterTest, BadRegexesAreInvalid) {
  ExpectInvalid("value_regex: '('", "valueRegex");
  ExpectInvalid("family_name_regex: 'a:b'", "':'");
  ExpectInvalid("row_key_regex: ''", "rowKeyRegex");
}

TEST(RowFilterTest, ChainOrderMatters) {
  // Limit then regex: the first 2 cells are a/x; only one matches ax2.
  EXPECT_THAT(Values("chain { filters { cells_per_row_limit: 2 } "
                     "filters { value_regex: 'ax2|bx5' } }"),
              ElementsAre("ax2"));
  // Regex then limit.
  EXPECT_THAT(Values("chain { filters { value_regex: 'ax2|bx5' } "
                     "filters { cells_per_row_limit: 2 } }"),
              ElementsAre("ax2", "bx5"));
}

TEST(RowFilterTest, InterleaveKeepsDuplicatesWithTheirLabels) {
  EXPECT_THAT(
      Values("interleave { "
             "filters { chain { filters { family_name_regex: 'a' } "
             "                  filters { apply_label: 'one' } } } "
             "filters { chain { filters { column_qualifier_regex: 'x' } "
             "                  filters { apply_label: 'two' } } } }"),
      ElementsAre("ax3@one", "ax3@two", "ax2@one", "ax2@two", "ay1@one",
                  "bx5@two"));
  // Duplicates count separately in a later limit.
  EXPECT_THAT(
      Values("chain { filters { interleave { filters { pass_all: true } "
             "                                filters { pass_all: true } } } "
             "filters { cells_per_row_limit: 3 } }"),
      ElementsAre("ax3", "ax3", "ax2"));
  // ... and in a later offset and per-column limit.
  EXPECT_THAT(
      Values("chain { filters { interleave { filters { pass_all: true } "
             "                                filters { pass_all: true } } } "
             "filters { cells_per_row_offset: 7 } }"),
      ElementsAre("bx5", "bz4", "bz4"));
  EXPECT_THAT(
      Values("chain { filters { interleave { filters { pass_all: true } "
             "                                filters { pass_all: true } } } "
             "filters { cells_per_column_limit: 1 } }"),
      ElementsAre("ax3", "ay1", "bx5", "bz4"));
}

TEST(RowFilterTest, ConditionAppliesABranchToTheWholeRow) {
  EXPECT_THAT(Values("condition { predicate { value_regex: 'bz4' } "
                     "            if_true { family_name_regex: 'a' } "
                     "            if_false { block_all: true } }"),
              ElementsAre("ax3", "ax2", "ay1"));
  EXPECT_THAT(Values("condition { predicate { value_regex: 'nothing' } "
                     "            if_true { pass_all: true } "
                     "            if_false { value_regex: 'ay1' } }"),
              ElementsAre("ay1"));
  // A missing branch yields nothing.
  EXPECT_THAT(Values("condition { predicate { value_regex: 'nothing' } "
                     "            if_true { pass_all: true } }"),
              IsEmpty());
  ExpectInvalid("condition { if_true { pass_all: true } }", "predicate");
}

TEST(RowFilterTest, SinkBypassesLaterFilters) {
  // The sink sends the a-family cells to the output; nothing flows on to the
  // block_all.
  EXPECT_THAT(
      Values(
          "chain { filters { family_name_regex: 'a' } filters { sink: true } "
          "filters { block_all: true } }"),
      ElementsAre("ax3", "ax2", "ay1"));
  EXPECT_THAT(
      Values("interleave { filters { chain { filters { value_regex: 'ax3' } "
             "                                filters { sink: true } } } "
             "             filters { value_regex: 'bz4' } }"),
      ElementsAre("ax3", "bz4"));
  ExpectInvalid(
      "condition { predicate { sink: true } if_true { pass_all: true } }",
      "sink is not allowed");
  ExpectInvalid(
      "condition { predicate { pass_all: true } if_true { chain { "
      "filters { sink: true } filters { pass_all: true } } } }",
      "sink is not allowed");
}

// Bigtable's rule: a sink sends the cells that reach it to the output of the
// read, not to any parent filter. Duplicates of one cell list the sunk copy
// first.
TEST(RowFilterTest, SinkAloneGivesEveryCellOnce) {
  EXPECT_THAT(Values("sink: true"),
              ElementsAre("ax3", "ax2", "ay1", "bx5", "bz4"));
  // Nothing flows on past the sink, so later filters of the chain see nothing.
  EXPECT_THAT(Values("chain { filters { sink: true } filters { apply_label:"
                     " 'late' } }"),
              ElementsAre("ax3", "ax2", "ay1", "bx5", "bz4"));
}

TEST(RowFilterTest, SinkFollowsBigtablesDocumentedExample) {
  // chain(family "A", interleave(pass_all, chain(label "foo", sink)),
  //       qualifier "B") over A:A@1 w, A:B@2 x, B:B@4 z.
  std::vector<FilterCell> row = {C("A", "A", 1, "w"), C("A", "B", 2, "x"),
                                 C("B", "B", 4, "z")};
  EXPECT_THAT(Values("chain { filters { family_name_regex: 'A' } "
                     "        filters { interleave { "
                     "          filters { pass_all: true } "
                     "          filters { chain { "
                     "            filters { apply_label: 'foo' } "
                     "            filters { sink: true } } } } } "
                     "        filters { column_qualifier_regex: 'B' } }",
                     row),
              ElementsAre("w@foo", "x@foo", "x"));
}

TEST(RowFilterTest, SinkDeepInsideChainsAndInterleaves) {
  // Inner interleave: the x-column cells of family a are sunk, pass_all lets
  // all of family a on; the outer interleave adds family b; the final limit
  // keeps one flowing cell and cannot touch the two sunk ones.
  EXPECT_THAT(
      Values("chain { "
             "  filters { interleave { "
             "    filters { chain { "
             "      filters { family_name_regex: 'a' } "
             "      filters { interleave { "
             "        filters { chain { filters { column_qualifier_regex: 'x' }"
             "                          filters { sink: true } } } "
             "        filters { pass_all: true } } } } } "
             "    filters { family_name_regex: 'b' } } } "
             "  filters { cells_per_row_limit: 1 } }"),
      ElementsAre("ax3", "ax3", "ax2"));
  // Three chains deep, under two interleaves.
  EXPECT_THAT(
      Values("interleave { "
             "  filters { chain { filters { family_name_regex: 'b' } "
             "    filters { chain { filters { column_qualifier_regex: 'z' } "
             "      filters { chain { filters { apply_label: 'deep' }"
             "        filters { sink: true } } } } } } } "
             "  filters { value_regex: 'ay1' } }"),
      ElementsAre("ay1", "bz4@deep"));
}

TEST(RowFilterTest, SinkWithLabelsKeepsBothCopies) {
  EXPECT_THAT(Values("interleave { "
                     "  filters { chain { filters { apply_label: 's' } "
                     "                    filters { sink: true } } } "
                     "  filters { chain { filters { family_name_regex: 'b' } "
                     "                    filters { apply_label: 't' } } } }"),
              ElementsAre("ax3@s", "ax2@s", "ay1@s", "bx5@s", "bx5@t", "bz4@s",
                          "bz4@t"));
}

TEST(RowFilterTest, CellsPerRowAfterASinkCountOnlyFlowingCells) {
  // The b cells are sunk; all five flow on through pass_all; the offset skips
  // four of those and leaves the sunk cells alone.
  EXPECT_THAT(Values("chain { "
                     "  filters { interleave { "
                     "    filters { chain { filters { family_name_regex: 'b' } "
                     "                      filters { sink: true } } } "
                     "    filters { pass_all: true } } } "
                     "  filters { cells_per_row_offset: 4 } }"),
              ElementsAre("bx5", "bz4", "bz4"));
  EXPECT_THAT(Values("chain { filters { sink: true } "
                     "        filters { cells_per_row_offset: 2 } }"),
              ElementsAre("ax3", "ax2", "ay1", "bx5", "bz4"));
}

TEST(RowFilterTest, BooleanFiltersMustBeTrue) {
  ExpectInvalid("pass_all: false", "passAll must be true");
  ExpectInvalid("block_all: false", "blockAll must be true");
  ExpectInvalid("strip_value: false", "stripValue must be true");
  ExpectInvalid("sink: false", "sink must be true");
}

TEST(RowFilterTest, CompositesNeedTwoFilters) {
  ExpectInvalid("chain { filters { pass_all: true } }", "at least 2");
  ExpectInvalid("interleave { }", "at least 2");
}

TEST(RowFilterTest, Labels) {
  ExpectInvalid(
      "chain { filters { apply_label: 'a' } filters { apply_label: 'b' } }",
      "at most one");
  ExpectInvalid("apply_label: 'UPPER'", "[a-z0-9-]");
  ExpectInvalid("apply_label: 'sixteen-chars-xx'", "[a-z0-9-]");
  ExpectInvalid("apply_label: ''", "[a-z0-9-]");
  EXPECT_THAT(Values("chain { filters { value_regex: 'ay1' } filters { "
                     "apply_label: 'l-1' } }"),
              ElementsAre("ay1@l-1"));
}

TEST(RowFilterTest, CountFiltersFollowRowOrderAcrossFamilies) {
  EXPECT_THAT(Values("cells_per_row_offset: 2"),
              ElementsAre("ay1", "bx5", "bz4"));
  EXPECT_THAT(Values("cells_per_row_offset: 0"),
              ElementsAre("ax3", "ax2", "ay1", "bx5", "bz4"));
  EXPECT_THAT(Values("cells_per_row_offset: 9"), IsEmpty());
  EXPECT_THAT(Values("cells_per_row_limit: 4"),
              ElementsAre("ax3", "ax2", "ay1", "bx5"));
  EXPECT_THAT(Values("cells_per_row_limit: 99"),
              ElementsAre("ax3", "ax2", "ay1", "bx5", "bz4"));
  EXPECT_THAT(Values("cells_per_column_limit: 1"),
              ElementsAre("ax3", "ay1", "bx5", "bz4"));
  ExpectInvalid("cells_per_row_offset: -1", "cellsPerRowOffset");
  ExpectInvalid("cells_per_row_limit: 0", "cellsPerRowLimit");
  ExpectInvalid("cells_per_column_limit: -2", "cellsPerColumnLimit");
}

TEST(RowFilterTest, StripValueKeepsTimestampsAndLabels) {
  auto filter = CompiledFilter::Compile(Parse(
      "chain { filters { apply_label: 'l' } filters { strip_value: true } }"));
  ASSERT_THAT(filter, IsOk());
  auto cells = (*filter)->Apply("row", SampleRow());
  ASSERT_EQ(cells.size(), 5u);
  EXPECT_EQ(cells[0].value, "");
  EXPECT_EQ(cells[0].timestamp_micros, 3);
  EXPECT_THAT(cells[0].labels, ElementsAre("l"));
}

TEST(RowFilterTest, Ranges) {
  EXPECT_THAT(
      Values("column_range { family_name: 'a' start_qualifier_open: 'x' }"),
      ElementsAre("ay1"));
  EXPECT_THAT(
      Values("column_range { family_name: 'b' end_qualifier_open: 'z' }"),
      ElementsAre("bx5"));
  EXPECT_THAT(
      Values("column_range { family_name: 'b' start_qualifier_closed: 'x' "
             "end_qualifier_closed: 'z' }"),
      ElementsAre("bx5", "bz4"));
  ExpectInvalid("column_range { start_qualifier_closed: 'x' }", "familyName");
  ExpectInvalid(
      "column_range { family_name: 'a' start_qualifier_closed: 'z' "
      "end_qualifier_closed: 'a' }",
      "start must not be after end");
  EXPECT_THAT(Values("timestamp_range { start_micros: 2 end_micros: 4 }"),
              ElementsAre("ax3", "ax2"));
  EXPECT_THAT(Values("timestamp_range { start_micros: 4 }"),
              ElementsAre("bx5", "bz4"));
  ExpectInvalid("timestamp_range { start_micros: 5 end_micros: 4 }",
                "timestampRange");
  EXPECT_THAT(
      Values("value_range { start_value_open: 'ay1' end_value_closed: 'bx5' }"),
      ElementsAre("bx5"));
  EXPECT_THAT(Values("value_range { }"),
              ElementsAre("ax3", "ax2", "ay1", "bx5", "bz4"));
}

TEST(RowFilterTest, RowSampleBounds) {
  ExpectInvalid("row_sample: 0", "rowSample");
  ExpectInvalid("row_sample: 1", "rowSample");
  EXPECT_THAT(CompiledFilter::Compile(Parse("row_sample: 0.5")), IsOk());
  // All or nothing per row.
  auto filter = CompiledFilter::Compile(Parse("row_sample: 0.5"));
  ASSERT_THAT(filter, IsOk());
  int kept = 0;
  for (int i = 0; i < 200; ++i) {
    size_t n = (*filter)->Apply("row", SampleRow()).size();
    EXPECT_TRUE(n == 0 || n == 5);
    if (n == 5) ++kept;
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 200);
}

TEST(RowFilterTest, DepthIsLimited) {
  std::string text = "pass_all: true";
  for (int i = 0; i < 20; ++i) {
    text = "chain { filters { " + text + " } filters { pass_all: true } }";
  }
  ExpectInvalid(text, "deep");
}

TEST(RowFilterTest, RowConversionRoundTrips) {
  std::vector<FilterCell> cells = SampleRow();
  cells[0].labels = {"x"};
  v1::Row row = RowOf("k", cells);
  EXPECT_EQ(row.families_size(), 2);
  EXPECT_EQ(row.families(0).columns_size(), 2);
  std::vector<FilterCell> back = CellsOf(row);
  ASSERT_EQ(back.size(), cells.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    EXPECT_EQ(back[i].value, cells[i].value);
    EXPECT_EQ(back[i].labels, cells[i].labels);
  }
}

}  // namespace
}  // namespace kvstore::store
