#include "common/quote.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvstore {
namespace {

TEST(QuoteTest, ShortInputIsQuotedWhole) {
  EXPECT_EQ(Quote("users"), "'users'");
  EXPECT_EQ(Quote(""), "''");
  EXPECT_EQ(Quote(std::string(kMaxQuotedBytes, 'x')),
            "'" + std::string(kMaxQuotedBytes, 'x') + "'");
}

TEST(QuoteTest, LongInputIsCutAndMeasured) {
  std::string quoted = Quote(std::string(100000, 'y'));
  EXPECT_EQ(quoted,
            "'" + std::string(kMaxQuotedBytes, 'y') + "...' (100000 bytes)");
}

}  // namespace
}  // namespace kvstore
