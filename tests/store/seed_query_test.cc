#include "store/api/seed_query.h"

#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore::store {
namespace {

TEST(SeedQueryTest, SingleField) {
  auto q = ParseSeedQuery("somekey=somevalue");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->field, "somekey");
  EXPECT_EQ(q->value, "somevalue");
}

TEST(SeedQueryTest, DecodesPercentAndPlus) {
  auto q = ParseSeedQuery("k%26%3D%2B=a+b%00%C3%A9%25");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->field, "k&=+");
  EXPECT_EQ(q->value, std::string("a b\0\xc3\xa9%", 7));
}

TEST(SeedQueryTest, ValueMayContainEquals) {
  auto q = ParseSeedQuery("k=a=b");
  ASSERT_THAT(q, IsOk());
  EXPECT_EQ(q->value, "a=b");
}

TEST(SeedQueryTest, ZeroFieldsIsAnError) {
  for (const char* query : {"", "k", "k=", "&&", "=", "k=&j="}) {
    EXPECT_FALSE(ParseSeedQuery(query).ok()) << query;
  }
}

TEST(SeedQueryTest, SeveralFieldsIsAnError) {
  EXPECT_THAT(ParseSeedQuery("a=1&b=2"), ::testing::Not(IsOk()));
  EXPECT_THAT(ParseSeedQuery("a=1&a=2"), ::testing::Not(IsOk()));
}

TEST(SeedQueryTest, BlankPiecesAreIgnoredLikeTheSeed) {
  auto q = ParseSeedQuery("a=1&b=&c");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->field, "a");
}

TEST(SeedQueryTest, EmptyNameIsKeptForTheCallerToJudge) {
  auto q = ParseSeedQuery("=v");
  ASSERT_THAT(q, IsOk());
  EXPECT_EQ(q->field, "");
}

TEST(SeedQueryTest, MalformedEscapesAreErrors) {
  for (const char* query : {"k=%", "k=%4", "k=%zz", "%g1=v"}) {
    auto q = ParseSeedQuery(query);
    ASSERT_FALSE(q.ok()) << query;
    EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace kvstore::store
