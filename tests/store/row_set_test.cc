#include "store/storage/row_set.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvstore::store {
namespace {

using ::testing::ElementsAre;

KeyInterval Bounded(std::string start, std::string end) {
  return KeyInterval{std::move(start), std::move(end), false};
}
KeyInterval From(std::string start) {
  return KeyInterval{std::move(start), "", true};
}
const std::string kZero(1, '\0');

TEST(RowSetTest, EmptyMeansEverything) {
  EXPECT_THAT(*NormalizeRowSet(v1::RowSet()), ElementsAre(From("")));
}

TEST(RowSetTest, KeysAreSortedAndDeduplicated) {
  v1::RowSet set;
  for (const char* k : {"b", "a", "b", "a\xff"}) set.add_row_keys(k);
  EXPECT_THAT(
      *NormalizeRowSet(set),
      ElementsAre(Bounded("a", "a" + kZero), Bounded("a\xff", "a\xff" + kZero),
                  Bounded("b", "b" + kZero)));
}

TEST(RowSetTest, OpenAndClosedBounds) {
  v1::RowSet set;
  auto* r = set.add_row_ranges();
  r->set_start_open("a");
  r->set_end_closed("c");
  EXPECT_THAT(*NormalizeRowSet(set),
              ElementsAre(Bounded("a" + kZero, "c" + kZero)));
}

TEST(RowSetTest, EqualBounds) {
  v1::RowSet closed;
  auto* r = closed.add_row_ranges();
  r->set_start_closed("a");
  r->set_end_closed("a");
  EXPECT_THAT(*NormalizeRowSet(closed), ElementsAre(Bounded("a", "a" + kZero)));
  v1::RowSet open;
  r = open.add_row_ranges();
  r->set_start_closed("a");
  r->set_end_open("a");
  EXPECT_TRUE(NormalizeRowSet(open)->empty());
  // An open side on equal keys is empty, not an error.
  for (int start_open = 0; start_open < 2; ++start_open) {
    for (int end_open = 0; end_open < 2; ++end_open) {
      if (!start_open && !end_open) continue;
      v1::RowSet set;
      r = set.add_row_ranges();
      start_open ? r->set_start_open("a") : r->set_start_closed("a");
      end_open ? r->set_end_open("a") : r->set_end_closed("a");
      auto normalized = NormalizeRowSet(set);
      ASSERT_TRUE(normalized.ok()) << normalized.status();
      EXPECT_TRUE(normalized->empty()) << start_open << end_open;
    }
  }
}

TEST(RowSetTest, EveryBoundCombination) {
  // (start, end) on keys "b" and "d": closed/open/unset on each side.
  struct Case {
    int start;  // 0 closed, 1 open, 2 unset
    int end;
    KeyInterval want;
  };
  const std::string b = "b", d = "d";
  const Case cases[] = {
      {0, 0, Bounded(b, d + kZero)},
      {0, 1, Bounded(b, d)},
      {0, 2, KeyInterval{b, "", true}},
      {1, 0, Bounded(b + kZero, d + kZero)},
      {1, 1, Bounded(b + kZero, d)},
      {1, 2, KeyInterval{b + kZero, "", true}},
      {2, 0, Bounded("", d + kZero)},
      {2, 1, Bounded("", d)},
      {2, 2, KeyInterval{"", "", true}},
  };
  for (const Case& c : cases) {
    v1::RowSet set;
    auto* r = set.add_row_ranges();
    if (c.start == 0) r->set_start_closed(b);
    if (c.start == 1) r->set_start_open(b);
    if (c.end == 0) r->set_end_closed(d);
    if (c.end == 1) r->set_end_open(d);
    auto normalized = NormalizeRowSet(set);
    ASSERT_TRUE(normalized.ok()) << normalized.status();
    EXPECT_THAT(*normalized, ElementsAre(c.want)) << c.start << " " << c.end;
  }
}

TEST(RowSetTest, OverlapsAndKeysMerge) {
  v1::RowSet set;
  set.add_row_keys("c");
  auto* r1 = set.add_row_ranges();
  r1->set_start_closed("a");
  r1->set_end_open("c");  // adjacent to key c: merges
  auto* r2 = set.add_row_ranges();
  r2->set_start_closed("x");  // unbounded end
  set.add_row_keys("z");      // inside it
  EXPECT_THAT(*NormalizeRowSet(set),
              ElementsAre(Bounded("a", "c" + kZero), From("x")));
}

TEST(RowSetTest, EmptyBoundsAreUnbounded) {
  v1::RowSet set;
  auto* r = set.add_row_ranges();
  r->set_start_closed("");
  r->set_end_closed("");
  EXPECT_THAT(*NormalizeRowSet(set), ElementsAre(From("")));
}

TEST(RowSetTest, Errors) {
  v1::RowSet inverted;
  auto* r = inverted.add_row_ranges();
  r->set_start_closed("b");
  r->set_end_open("a");
  auto status = NormalizeRowSet(inverted).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              ::testing::HasSubstr("row_ranges[0]"));
  v1::RowSet empty_key;
  empty_key.add_row_keys("");
  EXPECT_EQ(NormalizeRowSet(empty_key).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kvstore::store
