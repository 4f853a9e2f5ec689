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

TEST(QuoteTest, ACutNeverSplitsACharacter) {
  // 127 ASCII bytes, then two-byte characters: the first one would straddle
  // the limit, so the cut comes before it.
  std::string text = std::string(kMaxQuotedBytes - 1, 'a');
  for (int i = 0; i < 10; ++i) text += "\xC3\xA9";  // U+00E9
  EXPECT_EQ(Quote(text), "'" + std::string(kMaxQuotedBytes - 1, 'a') +
                             "...' (" + std::to_string(text.size()) +
                             " bytes)");
}

}  // namespace
}  // namespace kvstore
