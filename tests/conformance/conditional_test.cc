// CheckAndMutateRow and ReadModifyWriteRow through the proxy.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "tests/common/status_matchers.h"
#include "tests/conformance/harness.h"

using ::kvstore::testing::IsOk;

namespace kvstore::conformance {
namespace {

v1::CheckAndMutateRowRequest Cam(const std::string& key,
                                 const v1::RowFilter* predicate,
                                 std::vector<v1::Mutation> if_true,
                                 std::vector<v1::Mutation> if_false) {
  v1::CheckAndMutateRowRequest request;
  request.set_row_key(key);
  if (predicate != nullptr) *request.mutable_predicate() = *predicate;
  for (auto& m : if_true) *request.add_true_mutations() = std::move(m);
  for (auto& m : if_false) *request.add_false_mutations() = std::move(m);
  return request;
}

std::string ValueOf(const tpv1::RowResult& row, const std::string& family) {
  for (const auto& f : row.row().families()) {
    if (f.name() == family) return f.columns(0).cells(0).value();
  }
  return "<none>";
}

std::string BigEndian(int64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

CONFORMANCE_TEST(ConformanceTest,
                 CheckAndMutateRow_Generic_NoPredicateOnMissingRow,
                 "API-1 API-4") {
  auto result = CheckAndMutate(Cam("r", nullptr, {SetCell("f", "q", "true")},
                                   {SetCell("f", "q", "false")}));
  EXPECT_EQ(result.status().code(), 0);
  EXPECT_FALSE(result.predicate_matched());
  EXPECT_EQ(ValueOf(ReadRow("r"), "f"), "false");
}

CONFORMANCE_TEST(ConformanceTest,
                 CheckAndMutateRow_Generic_NoPredicateOnExistingRow,
                 "API-1 API-4") {
  Put({"r"});
  auto result = CheckAndMutate(Cam("r", nullptr, {SetCell("g", "q", "true")},
                                   {SetCell("g", "q", "false")}));
  EXPECT_TRUE(result.predicate_matched());
  EXPECT_EQ(ValueOf(ReadRow("r"), "g"), "true");
}

CONFORMANCE_TEST(ConformanceTest, CheckAndMutateRow_Generic_PredicateMatches,
                 "API-1 API-4") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "state", "ready", 1)}).status().code(),
            0);
  v1::RowFilter ready = ValueRegex("ready");
  auto result =
      CheckAndMutate(Cam("r", &ready, {SetCell("g", "q", "went")}, {}));
  EXPECT_TRUE(result.predicate_matched());
  EXPECT_EQ(ValueOf(ReadRow("r"), "g"), "went");
}

CONFORMANCE_TEST(ConformanceTest,
                 CheckAndMutateRow_Generic_PredicateDoesNotMatch,
                 "API-1 API-4") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "state", "busy", 1)}).status().code(), 0);
  v1::RowFilter ready = ValueRegex("ready");
  auto result = CheckAndMutate(Cam("r", &ready, {SetCell("g", "q", "went")},
                                   {SetCell("g", "q", "waited")}));
  EXPECT_FALSE(result.predicate_matched());
  EXPECT_EQ(ValueOf(ReadRow("r"), "g"), "waited");
}

CONFORMANCE_TEST(ConformanceTest,
                 CheckAndMutateRow_Generic_BothListsEmptyIsInvalid, "API-3") {
  auto result = CheckAndMutate(Cam("r", nullptr, {}, {}));
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest,
                 CheckAndMutateRow_Generic_InvalidMutationIsAtomic, "API-1") {
  Put({"r"});
  auto result = CheckAndMutate(Cam(
      "r", nullptr, {SetCell("g", "q", "x"), SetCell("nope", "q", "y")}, {}));
  EXPECT_NE(result.status().code(), 0);
  EXPECT_EQ(ValueOf(ReadRow("r"), "g"), "<none>");
}

CONFORMANCE_TEST(ConformanceTest,
                 CheckAndMutateRow_Generic_OneWinnerAmongConcurrentSwaps,
                 "API-1") {
  ASSERT_EQ(
      Mutate("lock", {SetCell("one", "owner", "free", 1)}).status().code(), 0);
  constexpr int kClients = 8;
  std::vector<std::string> ids;
  for (int i = 0; i < kClients; ++i) {
    ids.push_back("cas-" + std::to_string(i));
    ASSERT_THAT(CreateClient(ids.back()), IsOk());
  }
  std::atomic<int> winners{0}, errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      tpv1::CheckAndMutateRowRequest request;
      request.set_client_id(ids[static_cast<size_t>(i)]);
      request.set_table_name("t");
      v1::RowFilter free = Chain({FamilyRegex("one"), ValueRegex("free")});
      *request.mutable_request() =
          Cam("lock", &free,
              {SetCell("one", "owner", ids[static_cast<size_t>(i)], 2)}, {});
      tpv1::CheckAndMutateRowResult result;
      grpc::ClientContext context;
      SetRpcDeadline(&context);
      if (!stub().CheckAndMutateRow(&context, request, &result).ok() ||
          result.status().code() != 0) {
        ++errors;
      } else if (result.predicate_matched()) {
        ++winners;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(winners.load(), 1);
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadModifyWriteRow_Generic_AppendToAMissingCell, "API-1") {
  auto result = ReadModifyWrite("r", {AppendValue("f", "q", "abc")});
  EXPECT_EQ(result.status().code(), 0);
  EXPECT_EQ(ValueOf(result, "f"), "abc");
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadModifyWriteRow_Generic_IncrementAMissingCell, "API-1") {
  auto result = ReadModifyWrite("r", {IncrementBy("f", "n", 7)});
  EXPECT_EQ(ValueOf(result, "f"), BigEndian(7));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadModifyWriteRow_Generic_NegativeIncrementAndWrap, "API-1") {
  ASSERT_EQ(ReadModifyWrite("r", {IncrementBy("f", "n", 5)}).status().code(),
            0);
  EXPECT_EQ(ValueOf(ReadModifyWrite("r", {IncrementBy("f", "n", -8)}), "f"),
            BigEndian(-3));
  ASSERT_EQ(
      Mutate("w", {SetCell("f", "n", BigEndian(INT64_MAX))}).status().code(),
      0);
  EXPECT_EQ(ValueOf(ReadModifyWrite("w", {IncrementBy("f", "n", 1)}), "f"),
            BigEndian(INT64_MIN));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadModifyWriteRow_Generic_IncrementOfANon64BitValueFails,
                 "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "n", "short")}).status().code(), 0);
  auto result = ReadModifyWrite("r", {IncrementBy("f", "n", 1)});
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest, ReadModifyWriteRow_Generic_RulesApplyInOrder,
                 "API-1") {
  auto result = ReadModifyWrite(
      "r", {AppendValue("f", "q", "a"), AppendValue("f", "q", "b"),
            AppendValue("f", "q", "c")});
  EXPECT_EQ(ValueOf(result, "f"), "abc");
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadModifyWriteRow_Generic_ReturnsOnlyTouchedColumns,
                 "API-1 API-4") {
  ASSERT_EQ(
      Mutate("r", {SetCell("f", "other", "x", 1), SetCell("g", "q", "y", 1)})
          .status()
          .code(),
      0);
  auto result = ReadModifyWrite("r", {AppendValue("f", "q", "!")});
  ASSERT_EQ(result.row().families_size(), 1);
  ASSERT_EQ(result.row().families(0).columns_size(), 1);
  EXPECT_EQ(result.row().families(0).columns(0).qualifier(), "q");
}

CONFORMANCE_TEST(ConformanceTest, ReadModifyWriteRow_Generic_NoRulesIsInvalid,
                 "API-3") {
  EXPECT_EQ(ReadModifyWrite("r", {}).status().code(),
            Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadModifyWriteRow_Generic_UnknownFamilyIsNotFound, "API-3") {
  EXPECT_EQ(
      ReadModifyWrite("r", {AppendValue("nope", "q", "x")}).status().code(),
      Code(absl::StatusCode::kNotFound));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadModifyWriteRow_Generic_ConcurrentIncrementsLoseNothing,
                 "API-1") {
  constexpr int kClients = 4, kEach = 25;
  std::vector<std::string> ids;
  for (int i = 0; i < kClients; ++i) {
    ids.push_back("inc-" + std::to_string(i));
    ASSERT_THAT(CreateClient(ids.back()), IsOk());
  }
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < kEach; ++n) {
        tpv1::ReadModifyWriteRowRequest request;
        request.set_client_id(ids[static_cast<size_t>(i)]);
        request.set_table_name("t");
        request.mutable_request()->set_row_key("counter");
        *request.mutable_request()->add_rules() = IncrementBy("f", "n", 1);
        tpv1::RowResult result;
        grpc::ClientContext context;
        SetRpcDeadline(&context);
        if (!stub().ReadModifyWriteRow(&context, request, &result).ok() ||
            result.status().code() != 0) {
          ++errors;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(ValueOf(ReadRow("counter"), "f"), BigEndian(kClients * kEach));
}

}  // namespace
}  // namespace kvstore::conformance
