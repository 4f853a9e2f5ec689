// ReadRow through the proxy.
#include <string>

#include "tests/common/silent_listener.h"
#include "tests/common/status_matchers.h"
#include "tests/conformance/harness.h"

using ::kvstore::testing::IsOk;

namespace kvstore::conformance {
namespace {

CONFORMANCE_TEST(ConformanceTest, ReadRow_Generic_ReturnsTheRow, "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "q", "v", 1000)}).status().code(), 0);
  auto result = ReadRow("r");
  ASSERT_EQ(result.status().code(), 0) << result.status().message();
  ASSERT_TRUE(result.has_row());
  EXPECT_EQ(result.row().key(), "r");
  ASSERT_EQ(result.row().families_size(), 1);
  EXPECT_EQ(result.row().families(0).name(), "f");
  EXPECT_EQ(result.row().families(0).columns(0).qualifier(), "q");
  EXPECT_EQ(result.row().families(0).columns(0).cells(0).timestamp_micros(),
            1000);
  EXPECT_EQ(result.row().families(0).columns(0).cells(0).value(), "v");
}

CONFORMANCE_TEST(ConformanceTest, ReadRow_Generic_MissingRowIsOkWithNoRow,
                 "API-2") {
  auto result = ReadRow("absent");
  EXPECT_EQ(result.status().code(), 0);
  EXPECT_FALSE(result.has_row());
}

CONFORMANCE_TEST(ConformanceTest, ReadRow_Generic_BinaryKeyAndValueRoundTrip,
                 "API-1") {
  const std::string key("\0\xff\x80key\n", 7);
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i));
  ASSERT_EQ(
      Mutate(key, {SetCell("f", std::string("\0q", 2), value)}).status().code(),
      0);
  auto result = ReadRow(key);
  ASSERT_TRUE(result.has_row());
  EXPECT_EQ(result.row().key(), key);
  EXPECT_EQ(result.row().families(0).columns(0).qualifier(),
            std::string("\0q", 2));
  EXPECT_EQ(result.row().families(0).columns(0).cells(0).value(), value);
}

CONFORMANCE_TEST(ConformanceTest, ReadRow_Generic_LargeValueRoundTrips,
                 "API-1") {
  std::string value(2 * 1024 * 1024, '\0');
  for (size_t i = 0; i < value.size(); ++i) {
    value[i] = static_cast<char>(i * 7 + i / 1000);
  }
  ASSERT_EQ(Mutate("big", {SetCell("f", "q", value)}).status().code(), 0);
  auto result = ReadRow("big");
  ASSERT_TRUE(result.has_row());
  EXPECT_TRUE(result.row().families(0).columns(0).cells(0).value() == value);
}

CONFORMANCE_TEST(ConformanceTest, ReadRow_Generic_VersionsComeNewestFirst,
                 "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "q", "old", 1000),
                         SetCell("f", "q", "mid", 2000),
                         SetCell("f", "q", "new", 3000)})
                .status()
                .code(),
            0);
  auto result = ReadRow("r");
  ASSERT_TRUE(result.has_row());
  const auto& cells = result.row().families(0).columns(0).cells();
  ASSERT_EQ(cells.size(), 3);
  EXPECT_EQ(cells[0].value(), "new");
  EXPECT_EQ(cells[1].value(), "mid");
  EXPECT_EQ(cells[2].value(), "old");
}

CONFORMANCE_TEST(ConformanceTest, ReadRow_Generic_FamiliesAndColumnsInOrder,
                 "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("g", "b", "1", 1), SetCell("f", "z", "2", 1),
                         SetCell("f", "a", "3", 1)})
                .status()
                .code(),
            0);
  auto result = ReadRow("r");
  ASSERT_TRUE(result.has_row());
  ASSERT_EQ(result.row().families_size(), 2);
  EXPECT_EQ(result.row().families(0).name(), "f");
  EXPECT_EQ(result.row().families(0).columns(0).qualifier(), "a");
  EXPECT_EQ(result.row().families(0).columns(1).qualifier(), "z");
  EXPECT_EQ(result.row().families(1).name(), "g");
}

CONFORMANCE_TEST(ConformanceTest, ReadRow_Generic_FilterKeepsNewestCell,
                 "API-1") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "q", "old", 1000),
                         SetCell("f", "q", "new", 2000)})
                .status()
                .code(),
            0);
  v1::RowFilter newest = CellsPerColumn(1);
  auto result = ReadRow("r", &newest);
  ASSERT_TRUE(result.has_row());
  ASSERT_EQ(result.row().families(0).columns(0).cells_size(), 1);
  EXPECT_EQ(result.row().families(0).columns(0).cells(0).value(), "new");
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadRow_Generic_FilterThatEmptiesTheRowGivesNoRow, "API-2") {
  ASSERT_EQ(Mutate("r", {SetCell("f", "q", "v")}).status().code(), 0);
  v1::RowFilter none = BlockAll();
  auto result = ReadRow("r", &none);
  EXPECT_EQ(result.status().code(), 0);
  EXPECT_FALSE(result.has_row());
}

CONFORMANCE_TEST(ConformanceTest, ReadRow_Generic_UnknownTableIsNotFound,
                 "CH-1 API-3") {
  auto result = ReadRow("r", nullptr, "no_such_table");
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kNotFound));
}

CONFORMANCE_TEST(ConformanceTest, ReadRow_Generic_EmptyKeyIsInvalid, "API-3") {
  auto result = ReadRow("");
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest, ReadRow_Generic_InvalidFilterIsInvalid,
                 "API-3") {
  v1::RowFilter bad = ValueRegex("(unclosed");
  auto result = ReadRow("r", &bad);
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kInvalidArgument));
}

CONFORMANCE_TEST(ConformanceTest,
                 ReadRow_Generic_DeadlineExceededWhenTheStoreIsSilent, "DL-1") {
  // A listener that never answers: the connection is accepted by the kernel,
  // the request goes out, no response ever comes. No timing window: the call
  // can only end by its per-operation timeout.
  testing::SilentListener silent;
  ASSERT_NE(silent.port(), 0);
  ASSERT_THAT(
      CreateClient("silent", 300, "127.0.0.1:" + std::to_string(silent.port())),
      IsOk());
  tpv1::ReadRowRequest request;
  request.set_client_id("silent");
  request.set_table_name("t");
  request.set_row_key("k");
  tpv1::RowResult result;
  grpc::ClientContext context;
  SetRpcDeadline(&context);
  ASSERT_THAT(stub().ReadRow(&context, request, &result), IsOk());
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kDeadlineExceeded));
}

CONFORMANCE_TEST(ConformanceTest, ReadRow_Generic_UnreachableStoreIsUnavailable,
                 "CH-1 TR-1 BO-2") {
  ASSERT_THAT(store_->Stop(), IsOk());
  auto result = ReadRow("r");
  EXPECT_EQ(result.status().code(), Code(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace kvstore::conformance
