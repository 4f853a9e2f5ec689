#include "common/status_http.h"

#include <utility>
#include <vector>

#include "common/status_proto.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore {
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

// An override rides on the status through code that knows no HTTP.
TEST(StatusHttpTest, OverrideTravelsWithTheStatus) {
  absl::Status plain = absl::UnavailableError("busy");
  EXPECT_EQ(HttpStatusOf(plain), 503);
  absl::Status overridden = WithHttpStatus(plain, 502);
  absl::Status copied = overridden;  // e.g. returned through the engine
  EXPECT_EQ(HttpStatusOf(copied), 502);
  EXPECT_EQ(copied.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(copied.message(), "busy");
}

TEST(StatusHttpTest, OverrideIgnoredWhenOutOfRangeOrOk) {
  EXPECT_EQ(HttpStatusOf(WithHttpStatus(absl::InternalError("x"), 42)), 500);
  EXPECT_EQ(HttpStatusOf(WithHttpStatus(absl::InternalError("x"), 600)), 500);
  EXPECT_THAT(WithHttpStatus(absl::OkStatus(), 503), IsOk());
  EXPECT_EQ(HttpStatusOf(WithHttpStatus(absl::OkStatus(), 503)), 200);
}

TEST(StatusProtoTest, RoundTrips) {
  absl::Status status = absl::NotFoundError("no such table");
  v1::Status proto = StatusToProto(status);
  EXPECT_EQ(proto.code(), 5);
  EXPECT_EQ(proto.message(), "no such table");
  EXPECT_EQ(StatusFromProto(proto), status);
  EXPECT_THAT(StatusFromProto(v1::Status()), IsOk());
}

TEST(StatusProtoTest, NonCanonicalCodeIsUnknown) {
  v1::Status proto;
  proto.set_code(99);
  proto.set_message("odd");
  absl::Status status = StatusFromProto(proto);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(status.message(), "code 99: odd");
}

}  // namespace
}  // namespace kvstore
