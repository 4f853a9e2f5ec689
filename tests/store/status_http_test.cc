#include "store/status_http.h"

#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace kvstore::store {
namespace {

// The design's table, both ways.
TEST(StatusHttpTest, DesignTableRoundTrips) {
  const std::vector<std::pair<absl::StatusCode, int>> table = {
      {absl::StatusCode::kOk, 200},
      {absl::StatusCode::kInvalidArgument, 400},
      {absl::StatusCode::kNotFound, 404},
      {absl::StatusCode::kAlreadyExists, 409},
      {absl::StatusCode::kFailedPrecondition, 412},
      {absl::StatusCode::kResourceExhausted, 429},
      {absl::StatusCode::kCancelled, 499},
      {absl::StatusCode::kInternal, 500},
      {absl::StatusCode::kUnimplemented, 501},
      {absl::StatusCode::kUnavailable, 503},
      {absl::StatusCode::kDeadlineExceeded, 504},
  };
  for (const auto& [code, http] : table) {
    EXPECT_EQ(HttpStatusFromCode(code), http) << absl::StatusCodeToString(code);
    EXPECT_EQ(CodeFromHttpStatus(http), code) << http;
  }
}

TEST(StatusHttpTest, OtherCodes) {
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kOutOfRange), 400);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kUnknown), 500);
  EXPECT_EQ(HttpStatusFromCode(absl::StatusCode::kDataLoss), 500);
}

TEST(StatusHttpTest, UnlistedHttpStatuses) {
  EXPECT_EQ(CodeFromHttpStatus(204), absl::StatusCode::kOk);
  EXPECT_EQ(CodeFromHttpStatus(413), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CodeFromHttpStatus(502), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kvstore::store
