#include "store/api/api_codec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvstore/v1/store.pb.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore::store {
namespace {

using ::testing::HasSubstr;

TEST(ApiCodecTest, RequestEncodingFromContentType) {
  EXPECT_EQ(*RequestEncoding(""), Encoding::kJson);
  EXPECT_EQ(*RequestEncoding("application/json"), Encoding::kJson);
  EXPECT_EQ(*RequestEncoding("Application/JSON; charset=utf-8"),
            Encoding::kJson);
  EXPECT_EQ(*RequestEncoding("application/x-protobuf"), Encoding::kProto);
  auto bad = RequestEncoding("text/plain");
  ASSERT_THAT(bad, ::testing::Not(IsOk()));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("text/plain"));
}

TEST(ApiCodecTest, ResponseEncodingPrefersAccept) {
  EXPECT_EQ(ResponseEncoding("", Encoding::kProto), Encoding::kProto);
  EXPECT_EQ(ResponseEncoding("*/*", Encoding::kJson), Encoding::kJson);
  EXPECT_EQ(
      ResponseEncoding("text/html, application/x-protobuf", Encoding::kJson),
      Encoding::kProto);
  EXPECT_EQ(ResponseEncoding("application/json", Encoding::kProto),
            Encoding::kJson);
}

v1::MutateRowRequest SampleRequest() {
  v1::MutateRowRequest request;
  request.set_row_key(std::string("r\0\xff", 3));
  auto* set = request.add_mutations()->mutable_set_cell();
  set->set_family_name("cf");
  set->set_column_qualifier("q");
  set->set_timestamp_micros(-1);
  set->set_value("v");
  return request;
}

TEST(ApiCodecTest, RoundTripsBothEncodings) {
  for (Encoding encoding : {Encoding::kJson, Encoding::kProto}) {
    std::string body = SerializeMessage(SampleRequest(), encoding);
    v1::MutateRowRequest parsed;
    ASSERT_THAT(ParseMessage(body, encoding, &parsed), IsOk());
    EXPECT_EQ(parsed.SerializeAsString(), SampleRequest().SerializeAsString());
  }
}

TEST(ApiCodecTest, JsonIsProto3Json) {
  std::string json = SerializeMessage(SampleRequest(), Encoding::kJson);
  EXPECT_THAT(json, HasSubstr("\"rowKey\":\"cgD/\""));  // bytes are base64
  EXPECT_THAT(json,
              HasSubstr("\"timestampMicros\":\"-1\""));  // int64 as a string
  v1::CheckAndMutateRowResponse response;
  EXPECT_EQ(SerializeMessage(response, Encoding::kJson),
            "{\"predicateMatched\":false}");
  v1::MutateRowRequest parsed;
  ASSERT_THAT(
      ParseMessage(
          "{\"row_key\":\"cg==\",\"mutations\":[{\"deleteFromRow\":{}}]}",
          Encoding::kJson, &parsed),
      IsOk());
  EXPECT_EQ(parsed.row_key(), "r");
  EXPECT_TRUE(parsed.mutations(0).has_delete_from_row());
}

TEST(ApiCodecTest, BadBodiesAreInvalidArgument) {
  v1::MutateRowRequest parsed;
  for (const char* body : {"{", "[]", "{\"rowKey\": 5}", "{\"noSuchField\":1}",
                           "{\"rowKey\":\"***\"}"}) {
    absl::Status status = ParseMessage(body, Encoding::kJson, &parsed);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << body;
  }
  EXPECT_EQ(ParseMessage("\xff\xff\xff", Encoding::kProto, &parsed).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ParseMessage("", Encoding::kJson, &parsed), IsOk());
}

}  // namespace
}  // namespace kvstore::store
