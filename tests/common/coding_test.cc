#include "common/coding.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace kvstore {
namespace {

TEST(CodingTest, BigEndianSortsAsUnsignedIntegers) {
  std::string small, large;
  AppendBigEndian64(255, &small);
  AppendBigEndian64(256, &large);
  EXPECT_EQ(small, std::string("\0\0\0\0\0\0\0\xff", 8));
  EXPECT_LT(small, large);
  std::string four;
  AppendBigEndian32(0x01020304, &four);
  EXPECT_EQ(four, "\x01\x02\x03\x04");
}

TEST(CodingTest, BigEndianRoundTripsAndChecksLength) {
  std::string out;
  AppendBigEndian64(0xfedcba9876543210u, &out);
  uint64_t v64 = 0;
  ASSERT_TRUE(ReadBigEndian64(out, &v64));
  EXPECT_EQ(v64, 0xfedcba9876543210u);
  uint32_t v32 = 7;
  EXPECT_FALSE(ReadBigEndian32("abc", &v32));
  EXPECT_EQ(v32, 7u);  // untouched
  EXPECT_FALSE(ReadBigEndian64(out.substr(0, 7), &v64));
}

TEST(CodingTest, VarintRoundTrips) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128},
                     uint64_t{300}, ~uint64_t{0}}) {
    std::string out;
    AppendVarint(v, &out);
    EXPECT_EQ(out.size(), VarintSize(v)) << v;
    uint64_t read = 0;
    size_t length = 0;
    ASSERT_TRUE(ReadVarint(out + "tail", &read, &length)) << v;
    EXPECT_EQ(read, v);
    EXPECT_EQ(length, out.size());
  }
}

TEST(CodingTest, VarintReportsShortAndOverlongInput) {
  uint64_t v = 0;
  size_t length = 0;
  EXPECT_FALSE(ReadVarint("", &v, &length));
  EXPECT_FALSE(ReadVarint("\x80\x80", &v, &length));  // continues past the end
  EXPECT_FALSE(ReadVarint(std::string(11, '\x80'), &v, &length));
}

}  // namespace
}  // namespace kvstore
