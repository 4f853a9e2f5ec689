#include "store/storage/key_codec.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore::store {
namespace {

std::string Seg(absl::string_view bytes) {
  std::string out;
  AppendSegment(&out, bytes);
  return out;
}

TEST(KeyCodecTest, SegmentsPreserveByteOrder) {
  std::vector<std::string> inputs = {"",
                                     std::string("\0", 1),
                                     std::string("\0\0", 2),
                                     "a",
                                     std::string("a\0", 2),
                                     std::string("a\0b", 3),
                                     "a\x01",
                                     "ab",
                                     "b",
                                     "\xff",
                                     "\xff\xff"};
  std::vector<std::string> sorted_inputs = inputs;
  std::sort(sorted_inputs.begin(), sorted_inputs.end());
  std::vector<std::string> encoded;
  for (const auto& s : inputs) encoded.push_back(Seg(s));
  std::sort(encoded.begin(), encoded.end());
  for (size_t i = 0; i < encoded.size(); ++i) {
    absl::string_view in = encoded[i];
    std::string decoded;
    ASSERT_TRUE(ConsumeSegment(&in, &decoded));
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(decoded, sorted_inputs[i]) << "position " << i;
  }
}

TEST(KeyCodecTest, RowPrefixDoesNotCoverLongerRowKeys) {
  // Row "a" must not own the cells of row "ab" or "a\0".
  std::string a = RowPrefix(7, "a");
  EXPECT_NE(EncodeCellKey({7, "ab", "cf", "", 1}).rfind(a, 0), 0u);
  EXPECT_NE(EncodeCellKey({7, std::string("a\0", 2), "cf", "", 1}).rfind(a, 0),
            0u);
  EXPECT_EQ(EncodeCellKey({7, "a", "cf", "q", 1}).rfind(a, 0), 0u);
}

TEST(KeyCodecTest, CellKeysRoundTripAndSortNewestFirst) {
  CellKey older{3, std::string("r\0w", 3), "fam", std::string("q\0\xff", 3),
                10};
  CellKey newer = older;
  newer.timestamp_micros = 11;
  std::string older_key = EncodeCellKey(older);
  std::string newer_key = EncodeCellKey(newer);
  EXPECT_LT(newer_key, older_key);
  auto decoded = DecodeCellKey(older_key);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, older);
  EXPECT_EQ(EncodeCellKey({3, "r", "f", "q", 0})
                .rfind(ColumnPrefix(3, "r", "f", "q"), 0),
            0u);
}

TEST(KeyCodecTest, TablesAreSeparatedAndOrdered) {
  EXPECT_LT(EncodeCellKey({1, "\xff\xff", "f", "", 0}),
            EncodeCellKey({2, "", "f", "", 0}));
  EXPECT_LT(TablePrefix(1), TablePrefix(256));
}

TEST(KeyCodecTest, DecodeRejectsGarbage) {
  EXPECT_THAT(DecodeCellKey(""), ::testing::Not(IsOk()));
  EXPECT_THAT(DecodeCellKey("x1234"), ::testing::Not(IsOk()));
  std::string truncated = EncodeCellKey({1, "row", "f", "q", 5});
  truncated.pop_back();
  EXPECT_THAT(DecodeCellKey(truncated), ::testing::Not(IsOk()));
  std::string bad_escape = TablePrefix(1) + std::string("r\0\x05", 3);
  EXPECT_THAT(DecodeCellKey(bad_escape), ::testing::Not(IsOk()));
}

TEST(KeyCodecTest, SingleVersionKeysAndValues) {
  std::string key = SingleVersionKey(4, "row", "cf", "q");
  EXPECT_EQ(key.rfind(ColumnPrefix(4, "row", "cf", "q"), 0), 0u);
  // It never equals a real cell key of the column, whatever the timestamp.
  EXPECT_NE(key, EncodeCellKey({4, "row", "cf", "q", 0}));
  EXPECT_NE(key, EncodeCellKey({4, "row", "cf", "q", INT64_MAX}));
  auto decoded = DecodeCellKey(key);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->single_version);
  EXPECT_EQ(decoded->row, "row");
  EXPECT_EQ(decoded->qualifier, "q");

  std::string stored = EncodeSingleVersionValue(1234, std::string("v\0x", 3));
  int64_t ts = 0;
  absl::string_view value;
  ASSERT_TRUE(DecodeSingleVersionValue(stored, &ts, &value));
  EXPECT_EQ(ts, 1234);
  EXPECT_EQ(value, absl::string_view("v\0x", 3));
  EXPECT_FALSE(DecodeSingleVersionValue("short", &ts, &value));
}

TEST(KeyCodecTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor("\xff\xff"), "");
}

}  // namespace
}  // namespace kvstore::store
