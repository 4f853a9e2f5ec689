#include "common/utf8.h"

#include <string>

#include "common/status_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvstore {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii\n"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));
}

TEST(Utf8Test, RejectsMalformedSequences) {
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // cut short
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));              // a stray continuation
}

TEST(Utf8Test, EscapesOnlyTheBadBytes) {
  EXPECT_EQ(ToValidUtf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(ToValidUtf8("row \xFF\xC3\xA9\xC3"), "row \\xFF\xC3\xA9\\xC3");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xED\xA0\x80\xF4\x90")));
}

// The store echoes row keys and names in errors; the message a client
// receives must parse in every language.
TEST(Utf8Test, StatusMessagesLeaveAsUtf8) {
  v1::Status proto = StatusToProto(
      absl::NotFoundError("no row '\xFF\xFE' in table 'caf\xC3\xA9'"));
  EXPECT_EQ(proto.message(), "no row '\\xFF\\xFE' in table 'caf\xC3\xA9'");
  EXPECT_TRUE(IsValidUtf8(proto.message()));
}

}  // namespace
}  // namespace kvstore
