// The hand-rolled wire encoder must give exactly protobuf's bytes.
#include "store/api/row_wire.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/coding.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "gtest/gtest.h"
#include "kvstore/v1/store.pb.h"
#include "store/filter/row_filter.h"

namespace kvstore::store {
namespace {

// What protobuf gives for the same row, length-delimited.
std::string Expected(const std::string& key,
                     const std::vector<FilterCell>& cells,
                     const std::vector<FilteredCell>& selection) {
  v1::ReadRowsResponse response;
  *response.mutable_row() = RowOf(key, Materialize(cells, selection));
  std::string out;
  AppendVarint(response.ByteSizeLong(), &out);
  response.AppendToString(&out);
  return out;
}

std::vector<FilteredCell> All(const std::vector<FilterCell>& cells) {
  std::vector<FilteredCell> all;
  for (size_t i = 0; i < cells.size(); ++i) {
    all.push_back({static_cast<uint32_t>(i), false, nullptr});
  }
  return all;
}

FilterCell Cell(std::string family, std::string qualifier, int64_t ts,
                std::string value, std::vector<std::string> labels = {}) {
  return FilterCell{std::move(family), std::move(qualifier), ts,
                    std::move(value), std::move(labels)};
}

TEST(RowWireTest, OneCell) {
  std::vector<FilterCell> cells = {Cell("f", "q", 5, "v")};
  std::string out;
  AppendDelimitedRowResponse("row", cells, All(cells), &out);
  EXPECT_EQ(out, Expected("row", cells, All(cells)));
}

TEST(RowWireTest, DefaultsAreLeftOutAsProtobufDoes) {
  // Timestamp 0, empty qualifier, empty value: proto3 omits them all.
  std::vector<FilterCell> cells = {Cell("f", "", 0, "")};
  std::string out;
  AppendDelimitedRowResponse("k", cells, All(cells), &out);
  EXPECT_EQ(out, Expected("k", cells, All(cells)));
}

TEST(RowWireTest, GroupsFamiliesAndColumnsAndKeepsLabels) {
  std::vector<FilterCell> cells = {
      Cell("a", "q1", 30, "x"), Cell("a", "q1", 20, "y", {"l1"}),
      Cell("a", "q2", 10, std::string(300, 'z')),
      Cell("b", std::string("\0\xff", 2), 1, std::string("\0", 1))};
  std::string out;
  AppendDelimitedRowResponse(std::string("\0key\xfe", 5), cells, All(cells),
                             &out);
  EXPECT_EQ(out, Expected(std::string("\0key\xfe", 5), cells, All(cells)));
}

TEST(RowWireTest, SelectionStripsLabelsAndDuplicates) {
  std::vector<FilterCell> cells = {Cell("a", "q", 3, "one", {"old"}),
                                   Cell("a", "q", 2, "two"),
                                   Cell("b", "r", 1, "three")};
  const std::string label = "new";
  std::vector<FilteredCell> selection = {
      {0, false, nullptr}, {0, true, &label}, {2, false, &label}};
  std::string out;
  AppendDelimitedRowResponse("k", cells, selection, &out);
  EXPECT_EQ(out, Expected("k", cells, selection));
}

TEST(RowWireTest, RandomRowsMatchProtobuf) {
  std::mt19937 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const std::string labels[] = {"x", "label-two"};
  for (int round = 0; round < 500; ++round) {
    std::vector<FilterCell> cells;
    int families = 1 + pick(3);
    for (int f = 0; f < families; ++f) {
      int columns = 1 + pick(3);
      for (int c = 0; c < columns; ++c) {
        int versions = 1 + pick(3);
        for (int v = versions; v > 0; --v) {
          int64_t ts = pick(4) == 0 ? 0 : int64_t{1} << pick(62);
          cells.push_back(Cell(std::string(1, static_cast<char>('a' + f)),
                               std::string(static_cast<size_t>(c), 'q'), ts,
                               std::string(static_cast<size_t>(pick(200)),
                                           static_cast<char>(pick(256)))));
        }
      }
    }
    std::vector<FilteredCell> selection;
    for (size_t i = 0; i < cells.size(); ++i) {
      int copies = pick(3);  // 0: dropped, 2: duplicated as interleave does
      for (int k = 0; k < copies; ++k) {
        selection.push_back({static_cast<uint32_t>(i), pick(4) == 0,
                             pick(3) == 0 ? &labels[pick(2)] : nullptr});
      }
    }
    std::string key(static_cast<size_t>(1 + pick(40)), 'k');
    std::string out = "prefix";  // appends, never overwrites
    AppendDelimitedRowResponse(key, cells, selection, &out);
    ASSERT_EQ(out, "prefix" + Expected(key, cells, selection))
        << "round " << round;
  }
}

TEST(RowWireTest, VarintMatchesProtobuf) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128},
                     uint64_t{300}, uint64_t{1} << 35, ~uint64_t{0}}) {
    std::string ours;
    AppendVarint(v, &ours);
    std::string theirs;
    {
      google::protobuf::io::StringOutputStream stream(&theirs);
      google::protobuf::io::CodedOutputStream coded(&stream);
      coded.WriteVarint64(v);
    }
    EXPECT_EQ(ours, theirs) << v;
  }
}

}  // namespace
}  // namespace kvstore::store
