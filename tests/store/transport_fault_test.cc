// The transport faults (reset, stall, slow, corrupt_chunk, delay_headers)
// against the real binary, read off a raw socket: which bytes of the answer
// reach the client and how the connection ends; and, from the store's own
// request journal, how long the answer took and how much of it went out.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/injection_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/http_test_client.h"
#include "tests/common/raw_exchange.h"
#include "tests/common/server_process.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore {
namespace {

using ::testing::EndsWith;
using testing::ExchangeUntilClosed;
using ::testing::HasSubstr;
using testing::HttpTestClient;
using testing::RawAnswer;
using testing::ServerProcess;
using ::testing::StartsWith;

std::string GetRequest(const std::string& target) {
  return absl::StrCat("GET ", target,
                      " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

class TransportFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY,
                                       {"--in_memory", "--error_injection"});
    ASSERT_THAT(server, IsOk());
    server_ = std::move(*server);
    auto injection =
        InjectionClient::Create(absl::StrCat("127.0.0.1:", server_->port()));
    ASSERT_THAT(injection, IsOk());
    injection_ = std::move(*injection);
    ASSERT_EQ(testing::RequestOnce(server_->port(), "GET",
                                   "/set?k=" + std::string(100, 'v'))
                  ->status,
              200);
    // The answer to /get?key=k as it goes out whole.
    whole_ =
        ExchangeUntilClosed(server_->port(), GetRequest("/get?key=k")).bytes;
    ASSERT_THAT(whole_, StartsWith("HTTP/1.1 200 OK\r\n"));
  }

  // Arms seed.request once with `script`, for /get requests.
  void ArmOnce(const std::string& script) {
    ASSERT_THAT(
        injection_->Arm("seed.request", {{"script", script}, {"path", "/get"}}),
        IsOk());
  }

  // The journal's last entry of /get.
  JournalRecord LastGet() {
    auto entries = injection_->Journal(0, "", "/get");
    EXPECT_THAT(entries, IsOk());
    if (!entries.ok() || entries->empty()) return JournalRecord{};
    return entries->back();
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<InjectionClient> injection_;
  std::string whole_;
};

TEST_F(TransportFaultTest, ResetSendsAfterBytesThenResetsTheConnection) {
  ArmOnce("1*reset(12)");
  RawAnswer got =
      ExchangeUntilClosed(server_->port(), GetRequest("/get?key=k"));
  EXPECT_EQ(got.bytes, whole_.substr(0, 12));  // "HTTP/1.1 200"
  EXPECT_TRUE(got.reset);
  JournalRecord entry = LastGet();
  EXPECT_TRUE(entry.cut);
  EXPECT_EQ(entry.bytes_out, 12);
  EXPECT_THAT(entry.injections, ::testing::ElementsAre("seed.request"));
}

TEST_F(TransportFaultTest, ResetWithoutAfterBytesCutsHalfTheBody) {
  ArmOnce("1*reset");
  RawAnswer got =
      ExchangeUntilClosed(server_->port(), GetRequest("/get?key=k"));
  const size_t head = whole_.find("\r\n\r\n") + 4;
  EXPECT_EQ(got.bytes, whole_.substr(0, head + (whole_.size() - head) / 2));
  EXPECT_TRUE(got.reset);
}

TEST_F(TransportFaultTest, StallSendsAfterBytesThenNothingUntilItsTimeout) {
  ArmOnce("1*stall(20,timeout_ms=1000)");
  RawAnswer got =
      ExchangeUntilClosed(server_->port(), GetRequest("/get?key=k"));
  EXPECT_EQ(got.bytes, whole_.substr(0, 20));
  EXPECT_TRUE(got.closed);  // held open, then closed, not reset
  JournalRecord entry = LastGet();
  EXPECT_TRUE(entry.cut);
  EXPECT_EQ(entry.bytes_out, 20);
  EXPECT_GE(entry.end_us - entry.start_us, 1000000);  // the store's clock
}

TEST_F(TransportFaultTest, SlowSendsTheWholeAnswerAtItsRate) {
  ArmOnce("1*slow(100)");  // 10 bytes every 100 ms
  RawAnswer got =
      ExchangeUntilClosed(server_->port(), GetRequest("/get?key=k"));
  EXPECT_EQ(got.bytes, whole_);
  EXPECT_TRUE(got.closed);
  JournalRecord entry = LastGet();
  EXPECT_FALSE(entry.cut);
  EXPECT_EQ(entry.status, 200);
  // ceil(size / 10) slices, 100 ms apart.
  const int64_t slices = (static_cast<int64_t>(whole_.size()) + 9) / 10;
  EXPECT_GE(entry.end_us - entry.start_us, (slices - 1) * 100000);
}

TEST_F(TransportFaultTest, SlowAndDelayedAnswersKeepTheConnection) {
  ArmOnce("1*slow(1000)->1*delay_headers(200)");
  auto http = HttpTestClient::Connect(server_->port());
  ASSERT_THAT(http, IsOk());
  for (int i = 0; i < 3; ++i) {  // slow, delayed, then as usual
    auto got = (*http)->Get("/get?key=k");
    ASSERT_THAT(got, IsOk()) << "request " << i;
    EXPECT_EQ(got->status, 200);
    EXPECT_EQ(got->body, std::string(100, 'v'));
  }
  auto entries = injection_->Journal(0, "", "/get");
  ASSERT_THAT(entries, IsOk());
  ASSERT_EQ(entries->size(), 4u);  // SetUp's, then these three
  EXPECT_EQ((*entries)[1].connection, (*entries)[3].connection);
}

TEST_F(TransportFaultTest, DelayHeadersSendsNothingForItsDelay) {
  ArmOnce("1*delay_headers(700)");
  RawAnswer got =
      ExchangeUntilClosed(server_->port(), GetRequest("/get?key=k"));
  EXPECT_EQ(got.bytes, whole_);
  JournalRecord entry = LastGet();
  EXPECT_FALSE(entry.cut);
  EXPECT_GE(entry.end_us - entry.start_us, 700000);
}

TEST_F(TransportFaultTest, DelayedHeadersComeAfterTheWriteIsApplied) {
  ASSERT_THAT(
      injection_->Arm("seed.request",
                      {{"script", "1*delay_headers(5000)"}, {"path", "/set"}}),
      IsOk());
  const uint16_t port = server_->port();
  std::thread writer(
      [port] { ExchangeUntilClosed(port, GetRequest("/set?late=1")); });
  // The write is applied while its answer waits: readable before the
  // journal has the /set's entry (written when its answer has gone out).
  int status = 0;
  for (int i = 0; i < 300 && status != 200; ++i) {
    auto read = testing::RequestOnce(port, "GET", "/get?key=late");
    ASSERT_THAT(read, IsOk());
    status = read->status;
    if (status != 200) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(status, 200);
  auto sets = injection_->Journal(0, "", "/set");
  ASSERT_THAT(sets, IsOk());
  EXPECT_EQ(sets->size(), 1u) << "only SetUp's: the delayed answer is out";
  writer.join();
}

TEST_F(TransportFaultTest, CorruptChunkSendsAMalformedChunkHeader) {
  ArmOnce("1*corrupt_chunk");
  RawAnswer got =
      ExchangeUntilClosed(server_->port(), GetRequest("/get?key=k"));
  EXPECT_THAT(got.bytes, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(got.bytes, HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_THAT(got.bytes,
              HasSubstr(absl::StrCat("\r\n\r\n32\r\n", std::string(50, 'v'),
                                     "\r\nzz-not-a-size\r\n")));
  EXPECT_TRUE(got.closed);
  // An HTTP parser cannot read it.
  auto http = HttpTestClient::Connect(server_->port());
  ASSERT_THAT(http, IsOk());
  ArmOnce("1*corrupt_chunk");
  EXPECT_FALSE((*http)->Get("/get?key=k").ok());
}

TEST_F(TransportFaultTest, TransportFaultsAreDataApiActionsToo) {
  ASSERT_THAT(testing::RequestOnce(
                  server_->port(), "POST", "/v1/tables",
                  R"({"table":{"name":"t","columnFamilies":[{"name":"f"}]}})")
                  ->status,
              200);
  ASSERT_THAT(injection_->Arm("request.parsed",
                              {{"script", "1*corrupt_chunk"}, {"table", "t"}}),
              IsOk());
  RawAnswer got = ExchangeUntilClosed(
      server_->port(),
      "POST /v1/tables/t:readRows HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
  EXPECT_THAT(got.bytes, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(got.bytes, EndsWith("zz-not-a-size\r\n"));
}

TEST_F(TransportFaultTest, TheParametersAreChecked) {
  EXPECT_FALSE(injection_->Arm("seed.request", {{"script", "slow(0)"}}).ok());
  EXPECT_FALSE(injection_->Arm("seed.request", {{"script", "stall(-1)"}}).ok());
  EXPECT_FALSE(
      injection_->Arm("storage.write", {{"action", "slow"}}).ok());  // no
  EXPECT_FALSE(
      injection_->Arm("read_rows.row", {{"action", "corrupt_chunk"}}).ok());
}

}  // namespace
}  // namespace kvstore
