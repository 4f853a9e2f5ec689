// CheckAndMutateRow and ReadModifyWriteRow in the engine: semantics and
// atomicity.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "store/storage/rocks_engine.h"
#include "tests/common/status_matchers.h"
#include "tests/store/engine_util.h"

using ::kvstore::testing::IsOk;
using ::kvstore::testing::StatusIs;

namespace kvstore::store {
namespace {

using ::testing::HasSubstr;

// Small, so the value limit is quick to reach.
constexpr size_t kMaxValueBytes = 1000;

class ConditionalWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.in_memory = true;
    options.max_value_bytes = kMaxValueBytes;
    auto engine = OpenRocksEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    TableSchema schema;
    schema.set_name("t");
    schema.add_column_families()->set_name("f");
    auto* one = schema.add_column_families();
    one->set_name("one");
    one->mutable_gc_rule()->set_max_versions(1);
    ASSERT_THAT(engine_->CreateTable(schema), IsOk());
  }

  absl::StatusOr<bool> Check(const std::string& row, const char* predicate_text,
                             std::vector<Mutation> if_true,
                             std::vector<Mutation> if_false) {
    std::shared_ptr<const CompiledFilter> predicate;
    if (predicate_text != nullptr) {
      v1::RowFilter filter;
      EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(predicate_text,
                                                                &filter));
      auto compiled = CompiledFilter::Compile(filter);
      EXPECT_THAT(compiled, IsOk());
      predicate = std::move(*compiled);
    }
    absl::Notification done;
    absl::StatusOr<bool> result;
    engine_->CheckAndMutateRow("t", row, predicate, std::move(if_true),
                               std::move(if_false),
                               [&](absl::StatusOr<bool> r) {
                                 result = std::move(r);
                                 done.Notify();
                               });
    done.WaitForNotification();
    return result;
  }

  absl::StatusOr<v1::Row> Rmw(const std::string& row,
                              std::vector<v1::ReadModifyWriteRule> rules) {
    absl::Notification done;
    absl::StatusOr<v1::Row> result;
    engine_->ReadModifyWriteRow("t", row, std::move(rules),
                                [&](absl::StatusOr<v1::Row> r) {
                                  result = std::move(r);
                                  done.Notify();
                                });
    done.WaitForNotification();
    return result;
  }

  static v1::ReadModifyWriteRule Append(const std::string& family,
                                        const std::string& q,
                                        const std::string& bytes) {
    v1::ReadModifyWriteRule rule;
    rule.set_family_name(family);
    rule.set_column_qualifier(q);
    rule.set_append_value(bytes);
    return rule;
  }
  static v1::ReadModifyWriteRule Increment(const std::string& family,
                                           const std::string& q, int64_t n) {
    v1::ReadModifyWriteRule rule;
    rule.set_family_name(family);
    rule.set_column_qualifier(q);
    rule.set_increment_amount(n);
    return rule;
  }
  static std::string BigEndian(int64_t v) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) {
      out[static_cast<size_t>(i)] =
          static_cast<char>((static_cast<uint64_t>(v) >> (56 - 8 * i)) & 0xff);
    }
    return out;
  }

  std::vector<Cell> Row(const std::string& row) {
    return *TEST_ReadStoredRow(*engine_, "t", row);
  }

  std::unique_ptr<Engine> engine_;
};

TEST_F(ConditionalWriteTest, NoPredicateMeansTheRowExists) {
  auto missing = Check("r", nullptr, {Mutation::SetCell("f", "t", 1, "true")},
                       {Mutation::SetCell("f", "f", 1, "false")});
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(*missing);  // a missing row never matches
  EXPECT_THAT(Row("r"), ::testing::ElementsAre(Cell{"f", "f", 1, "false"}));
  auto present =
      Check("r", nullptr, {Mutation::SetCell("f", "t", 1, "true")}, {});
  ASSERT_THAT(present, IsOk());
  EXPECT_TRUE(*present);
  EXPECT_EQ(Row("r").size(), 2u);
}

TEST_F(ConditionalWriteTest, PredicateSeesTheRowBeforeTheMutations) {
  ASSERT_THAT(MutateRowAndWait(*engine_, "t", "r",
                               {Mutation::SetCell("f", "q", 1, "old")}),
              IsOk());
  // The true branch deletes the matching cell; the predicate still saw it.
  auto matched = Check("r", "value_regex: 'old'",
                       {Mutation::DeleteFromColumn("f", "q"),
                        Mutation::SetCell("f", "q", 2, "new")},
                       {});
  ASSERT_THAT(matched, IsOk());
  EXPECT_TRUE(*matched);
  EXPECT_THAT(Row("r"), ::testing::ElementsAre(Cell{"f", "q", 2, "new"}));
  auto not_matched =
      Check("r", "value_regex: 'old'", {Mutation::DeleteFromRow()}, {});
  ASSERT_THAT(not_matched, IsOk());
  EXPECT_FALSE(*not_matched);
  EXPECT_EQ(Row("r").size(), 1u);
}

TEST_F(ConditionalWriteTest, BadInputIsRejectedBeforeAnything) {
  EXPECT_EQ(Check("r", nullptr, {}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Check("r", nullptr, {Mutation::SetCell("f", "q", 1, "v")},
                  {Mutation::SetCell("nope", "q", 1, "v")})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Row("r").empty());
  // An empty row key is invalid for both calls.
  EXPECT_EQ(Check("", nullptr, {Mutation::SetCell("f", "q", 1, "v")}, {})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Rmw("", {Append("f", "s", "x")}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// An append may not grow a cell past max_value_bytes, from nothing or from an
// existing value; the whole call fails and changes nothing.
TEST_F(ConditionalWriteTest, AppendRespectsTheValueLimit) {
  EXPECT_THAT(
      Rmw("r", {Append("f", "q", std::string(kMaxValueBytes + 1, 'a'))}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("the limit is 1000")));
  EXPECT_THAT(Rmw("r", {Append("f", "q", std::string(kMaxValueBytes, 'a'))}),
              IsOk());
  EXPECT_THAT(
      Rmw("r", {Append("f", "other", "x"), Append("f", "q", "b")}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rules[1]")));
  std::vector<Cell> cells = Row("r");
  ASSERT_EQ(cells.size(), 1u);  // "other" was not written either
  EXPECT_EQ(cells[0].qualifier, "q");
  EXPECT_EQ(cells[0].value.size(), kMaxValueBytes);
}

TEST_F(ConditionalWriteTest, AppendAndIncrementStartFromNothing) {
  auto row = Rmw("r", {Append("f", "s", "ab"), Append("f", "s", "cd"),
                       Increment("one", "n", 5), Increment("one", "n", -7)});
  ASSERT_TRUE(row.ok()) << row.status();
  // Only the touched columns, one cell each, in row order.
  ASSERT_EQ(row->families_size(), 2);
  EXPECT_EQ(row->families(0).name(), "f");
  EXPECT_EQ(row->families(0).columns(0).cells(0).value(), "abcd");
  EXPECT_EQ(row->families(1).columns(0).cells(0).value(), BigEndian(-2));
  EXPECT_EQ(row->families(1).columns(0).cells_size(), 1);
}

TEST_F(ConditionalWriteTest, IncrementWrapsOnOverflow) {
  ASSERT_THAT(Rmw("r", {Increment("one", "n", INT64_MAX)}), IsOk());
  auto row = Rmw("r", {Increment("one", "n", 1)});
  ASSERT_THAT(row, IsOk());
  EXPECT_EQ(row->families(0).columns(0).cells(0).value(), BigEndian(INT64_MIN));
}

TEST_F(ConditionalWriteTest, BadIncrementFailsTheWholeRequest) {
  ASSERT_THAT(MutateRowAndWait(*engine_, "t", "r",
                               {Mutation::SetCell("one", "n", 1, "abc")}),
              IsOk());
  auto row = Rmw("r", {Append("f", "s", "x"), Increment("one", "n", 1)});
  ASSERT_THAT(row, ::testing::Not(IsOk()));
  EXPECT_EQ(row.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(row.status().message()), HasSubstr("rules[1]"));
  // The append before it did not happen.
  EXPECT_THAT(Row("r"), ::testing::ElementsAre(Cell{"one", "n", 1, "abc"}));
  EXPECT_EQ(Rmw("r", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Rmw("r", {Append("nope", "q", "x")}).status().code(),
            absl::StatusCode::kNotFound);
  v1::ReadModifyWriteRule unset;
  unset.set_family_name("f");
  EXPECT_EQ(Rmw("r", {unset}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ConditionalWriteTest, NewCellTimestampIsNotOlderThanTheLatest) {
  int64_t future = absl::ToUnixMicros(absl::Now() + absl::Hours(1));
  ASSERT_THAT(MutateRowAndWait(*engine_, "t", "r",
                               {Mutation::SetCell("f", "s", future, "a")}),
              IsOk());
  auto row = Rmw("r", {Append("f", "s", "b")});
  ASSERT_THAT(row, IsOk());
  EXPECT_EQ(row->families(0).columns(0).cells(0).timestamp_micros(), future);
  // Same timestamp: the cell was overwritten in place, not added.
  EXPECT_THAT(Row("r"), ::testing::ElementsAre(Cell{"f", "s", future, "ab"}));
}

TEST_F(ConditionalWriteTest, NewCellTimestampIsNowWhenTheLatestIsOlder) {
  ASSERT_THAT(MutateRowAndWait(*engine_, "t", "r",
                               {Mutation::SetCell("f", "s", 1000, "a")}),
              IsOk());
  int64_t before = absl::ToUnixMicros(absl::Now());
  auto row = Rmw("r", {Append("f", "s", "b")});
  int64_t after = absl::ToUnixMicros(absl::Now());
  ASSERT_THAT(row, IsOk());
  int64_t ts = row->families(0).columns(0).cells(0).timestamp_micros();
  EXPECT_GE(ts, before);
  EXPECT_LE(ts, after);
  EXPECT_EQ(row->families(0).columns(0).cells(0).value(), "ab");
}

TEST_F(ConditionalWriteTest, ConcurrentIncrementsLoseNothing) {
  constexpr int kThreads = 8;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this] {
      for (int i = 0; i < kEach; ++i) {
        ASSERT_THAT(Rmw("counter", {Increment("one", "n", 1)}), IsOk());
        ASSERT_THAT(Rmw("other", {Increment("f", "n", 1)}), IsOk());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto cell = engine_->ReadNewestCell("t", "counter", "one", "n");
  ASSERT_TRUE(cell.ok() && cell->has_value());
  EXPECT_EQ((*cell)->value, BigEndian(kThreads * kEach));
  cell = engine_->ReadNewestCell("t", "other", "f", "n");
  ASSERT_TRUE(cell.ok() && cell->has_value());
  EXPECT_EQ((*cell)->value, BigEndian(kThreads * kEach));
}

TEST_F(ConditionalWriteTest, ConcurrentCompareAndSetSerializes) {
  // Each thread claims the row only if it is unclaimed: exactly one wins.
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([this, t, &winners] {
      auto matched =
          Check("lock", nullptr, {},
                {Mutation::SetCell("f", "owner", 1, std::to_string(t))});
      ASSERT_THAT(matched, IsOk());
      if (!*matched) ++winners;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(Row("lock").size(), 1u);
}

}  // namespace
}  // namespace kvstore::store
