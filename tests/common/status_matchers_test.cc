#include "tests/common/status_matchers.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvstore::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What a matcher says about a value it rejects.
template <typename M, typename T>
std::string Explain(const M& matcher, const T& value) {
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(matcher, value, &listener));
  return listener.str();
}

TEST(StatusMatchersTest, IsOkMatchesOkAndValues) {
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(absl::StatusOr<int>(3), IsOk());
  EXPECT_THAT(absl::NotFoundError("x"), Not(IsOk()));
  EXPECT_THAT(absl::StatusOr<int>(absl::InternalError("y")), Not(IsOk()));
}

TEST(StatusMatchersTest, FailuresPrintTheStatus) {
  EXPECT_THAT(Explain(IsOk(), absl::NotFoundError("no table t")),
              HasSubstr("NOT_FOUND: no table t"));
  EXPECT_THAT(Explain(IsOk(), absl::StatusOr<int>(absl::InternalError("io"))),
              HasSubstr("INTERNAL: io"));
  EXPECT_THAT(Explain(StatusIs(absl::StatusCode::kNotFound),
                      absl::UnavailableError("later")),
              HasSubstr("UNAVAILABLE: later"));
}

TEST(StatusMatchersTest, StatusIsChecksCodeAndMessage) {
  absl::Status status = absl::InvalidArgumentError("rowKey too long");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("rowKey")));
  EXPECT_THAT(status, Not(StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr("family"))));
  EXPECT_THAT(absl::StatusOr<int>(status),
              Not(StatusIs(absl::StatusCode::kNotFound)));
}

}  // namespace
}  // namespace kvstore::testing
