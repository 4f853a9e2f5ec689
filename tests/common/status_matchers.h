// gMock matchers for absl::Status and absl::StatusOr<T> that say what went
// wrong: the status, code and message, instead of "false".
//
//   EXPECT_THAT(client->MutateRow(...), IsOk());
//   ASSERT_THAT(engine, IsOk());                 // a StatusOr
//   EXPECT_THAT(got, StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(got, StatusIs(absl::StatusCode::kInvalidArgument,
//                             HasSubstr("rowKey")));
#ifndef KVSTORE_TESTS_COMMON_STATUS_MATCHERS_H_
#define KVSTORE_TESTS_COMMON_STATUS_MATCHERS_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace absl {
ABSL_NAMESPACE_BEGIN
// How gtest prints a StatusOr (it has no operator<<): its status, not bytes.
template <typename T>
void PrintTo(const StatusOr<T>& value, std::ostream* os) {
  *os << (value.ok() ? std::string("OK, with a value")
                     : value.status().ToString());
}
ABSL_NAMESPACE_END
}  // namespace absl

namespace kvstore::testing {

inline const absl::Status& StatusOf(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// What a status-like value (absl, RocksDB or gRPC) says about itself.
template <typename S>
auto DescribeStatus(const S& s, int) -> decltype(std::string(s.ToString())) {
  return s.ToString();
}
template <typename S>
auto DescribeStatus(const S& s, long)
    -> decltype(std::string(s.error_message())) {
  return std::to_string(static_cast<int>(s.error_code())) + ": " +
         s.error_message();
}

// Whether `value` is OK; if not, `why` says what it holds.
template <typename S>
bool OkOrExplain(const S& value, std::string* why) {
  if (!value.ok()) *why = DescribeStatus(value, 0);
  return value.ok();
}
template <typename T>
bool OkOrExplain(const absl::StatusOr<T>& value, std::string* why) {
  return OkOrExplain(value.status(), why);
}

// An OK status (absl::Status, rocksdb::Status, grpc::Status), or a StatusOr
// that holds a value.
MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  std::string why;
  bool ok = ::kvstore::testing::OkOrExplain(arg, &why);
  if (!ok) *result_listener << "whose status is " << why;
  return ok;
}

// A Status (or a StatusOr's) with this code.
MATCHER_P(StatusIs, code,
          std::string(negation ? "has a code other than " : "has code ") +
              absl::StatusCodeToString(code)) {
  const absl::Status& status = ::kvstore::testing::StatusOf(arg);
  *result_listener << "whose status is " << status;
  return status.code() == code;
}

// The same, with its message matched by `message`.
MATCHER_P2(StatusIs, code, message,
           std::string(negation ? "does not have code " : "has code ") +
               absl::StatusCodeToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message, negation)) {
  const absl::Status& status = ::kvstore::testing::StatusOf(arg);
  *result_listener << "whose status is " << status;
  return status.code() == code &&
         ::testing::Matches(message)(std::string(status.message()));
}

}  // namespace kvstore::testing

#endif  // KVSTORE_TESTS_COMMON_STATUS_MATCHERS_H_
