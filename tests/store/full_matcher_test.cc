// The fast paths of FullMatcher must agree with RE2 on every input.
#include "store/filter/full_matcher.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "re2/re2.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore::store {
namespace {

bool Re2FullMatch(const std::string& pattern, const std::string& text) {
  RE2::Options options(RE2::Latin1);
  RE2 re(pattern, options);
  EXPECT_TRUE(re.ok()) << pattern;
  return RE2::FullMatch(text, re);
}

TEST(FullMatcherTest, AgreesWithRe2) {
  const std::vector<std::string> patterns = {
      "",       "a",    "abc",   ".*",      "ab.*",
      "x.*",    "a.*b", "a+",    "(?s)a.*", "a|b",
      "[ab].*", "a\\.", "a.",    "\xe9.*",  "\xe9",
      "a b",    "a-b",  "^a.*$", ".*.*",    "a.+",
      "a.*?",   "(a)",  "a{2}",  "\\d.*",   std::string("a\0b", 3)};
  const std::vector<std::string> texts = {"",
                                          "a",
                                          "ab",
                                          "abc",
                                          "abcd",
                                          "x",
                                          "xyz",
                                          "x\n",
                                          "x\nyz",
                                          "a\nb",
                                          "ab\n",
                                          "\xe9",
                                          "\xe9z",
                                          "a b",
                                          "a-b",
                                          "aa",
                                          "b",
                                          "a.",
                                          "a\n",
                                          std::string("a\0b", 3),
                                          std::string("x\0\xff", 3),
                                          "1x"};
  for (const std::string& pattern : patterns) {
    auto matcher = FullMatcher::Compile(pattern, "test");
    ASSERT_TRUE(matcher.ok()) << pattern << ": " << matcher.status();
    for (const std::string& text : texts) {
      EXPECT_EQ(matcher->Matches(text), Re2FullMatch(pattern, text))
          << "pattern '" << pattern << "' text '" << text << "'";
    }
  }
}

TEST(FullMatcherTest, RandomBytesAgreeWithRe2) {
  std::mt19937 rng(11);
  const std::vector<std::string> patterns = {"ab.*", "a", ".*", "ab"};
  const char alphabet[] = {'a', 'b', '\n', '\0', '\xff', 'c'};
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    for (size_t n = rng() % 6; n > 0; --n) text.push_back(alphabet[rng() % 6]);
    for (const std::string& pattern : patterns) {
      auto matcher = FullMatcher::Compile(pattern, "test");
      ASSERT_THAT(matcher, IsOk());
      ASSERT_EQ(matcher->Matches(text), Re2FullMatch(pattern, text))
          << pattern << " on " << text.size() << " bytes";
    }
  }
}

TEST(FullMatcherTest, BadPatternsNameTheField) {
  auto bad = FullMatcher::Compile("a(", "filter.valueRegex");
  ASSERT_THAT(bad, ::testing::Not(IsOk()));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("filter.valueRegex"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace kvstore::store
