// GET /v2/error_injection/wait, the long poll for clients and shells without
// an SSE library, against the real binary: it answers the first matching
// event after `since` (from the history, or when it happens), 408 at the
// timeout, 410 when events after `since` have left the history, so nothing
// between `since` and the answer can be missed.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/injection_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/http_test_client.h"
#include "tests/common/server_process.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;
using ::kvstore::testing::StatusIs;

namespace kvstore {
namespace {

using ::testing::HasSubstr;
using testing::HttpResult;
using testing::ServerProcess;

class LongPollTest : public ::testing::Test {
 protected:
  void Start(int history = 10000) {
    auto server = ServerProcess::Start(
        KVSTORE_SERVER_BINARY, {"--in_memory", "--error_injection",
                                absl::StrCat("--injection_history=", history)});
    ASSERT_THAT(server, IsOk());
    server_ = std::move(*server);
  }

  HttpResult Call(const std::string& method, const std::string& target,
                  const std::string& body = "") {
    absl::StatusOr<HttpResult> res =
        testing::RequestOnce(server_->port(), method, target, body);
    EXPECT_THAT(res, IsOk());
    return res.ok() ? *res : HttpResult{};
  }

  // Arms seed.request to fail every request with 503, then fails `n`.
  void FailSeedRequests(int n) {
    ASSERT_EQ(Call("POST", "/v2/error_injection/injection/seed.request",
                   R"({"action": "error", "status": "503"})")
                  .status,
              200);
    for (int i = 0; i < n; ++i)
      EXPECT_EQ(Call("GET", "/get?key=k").status, 503);
  }

  // One figure of /metrics.
  uint64_t Metric(absl::string_view name) {
    std::string body = Call("GET", "/metrics").body;
    for (absl::string_view line : absl::StrSplit(body, '\n')) {
      if (absl::ConsumePrefix(&line, name) && absl::ConsumePrefix(&line, " ")) {
        uint64_t value = 0;
        EXPECT_TRUE(absl::SimpleAtoi(line, &value)) << line;
        return value;
      }
    }
    ADD_FAILURE() << "no " << name << " in /metrics";
    return 0;
  }

  // The newest event's seq.
  uint64_t LastSeq() { return Metric("kvstore_injection_events_total"); }

  std::unique_ptr<ServerProcess> server_;
};

TEST_F(LongPollTest, AnswersTheFirstMatchingEventFromTheHistory) {
  Start();
  const uint64_t before = LastSeq();
  FailSeedRequests(2);
  HttpResult first =
      Call("GET", absl::StrCat("/v2/error_injection/wait?injection=seed.request"
                               "&phase=fired&since=",
                               before, "&timeout_ms=5000"));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.headers["content-type"], "application/json");
  EXPECT_THAT(first.body, HasSubstr("\"injection\":\"seed.request\""));
  EXPECT_THAT(first.body, HasSubstr("\"phase\":\"fired\""));
  // The second fired event comes after the first one's seq.
  std::string seq_text = first.body.substr(first.body.find("\"seq\":") + 6);
  uint64_t seq = 0;
  ASSERT_TRUE(absl::SimpleAtoi(seq_text.substr(0, seq_text.find(',')), &seq));
  EXPECT_GT(seq, before);
  HttpResult second =
      Call("GET", absl::StrCat("/v2/error_injection/wait?injection=seed.request"
                               "&phase=fired&since=",
                               seq, "&timeout_ms=5000"));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_THAT(second.body, HasSubstr("\"phase\":\"fired\""));
  EXPECT_THAT(second.body,
              ::testing::Not(HasSubstr(absl::StrCat("\"seq\":", seq, ","))));
}

TEST_F(LongPollTest, AnswersAnEventThatHappensWhileItWaits) {
  Start();
  const uint64_t before = LastSeq();
  HttpResult answer;
  std::thread poll([&] {
    answer = Call("GET", absl::StrCat("/v2/error_injection/wait?injection="
                                      "seed.request&phase=fired&since=",
                                      before, "&timeout_ms=60000"));
  });
  // Only once the poll waits, so that it is answered live, not from the
  // history.
  while (Metric("kvstore_injection_waiters") == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  FailSeedRequests(1);
  poll.join();
  EXPECT_EQ(Metric("kvstore_injection_waiters"), 0u);
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_THAT(answer.body, HasSubstr("\"phase\":\"fired\""));
}

TEST_F(LongPollTest, TimesOutWith408) {
  Start();
  HttpResult timeout = Call(
      "GET", "/v2/error_injection/wait?injection=seed.request&timeout_ms=200");
  EXPECT_EQ(timeout.status, 408) << timeout.body;
  EXPECT_THAT(timeout.body, HasSubstr("\"code\":4"));  // DEADLINE_EXCEEDED
}

TEST_F(LongPollTest, EventsThatLeftTheHistoryGive410) {
  Start(/*history=*/5);
  FailSeedRequests(5);  // armed, then a hit and a fired event each: > 5
  HttpResult gone =
      Call("GET", "/v2/error_injection/wait?injection=seed.request&since=0");
  EXPECT_EQ(gone.status, 410) << gone.body;
  EXPECT_THAT(gone.body, HasSubstr("have left the history"));
}

TEST_F(LongPollTest, TheCppInjectionClientWaitsForEvents) {
  Start();
  auto injection =
      InjectionClient::Create(absl::StrCat("127.0.0.1:", server_->port()));
  ASSERT_THAT(injection, IsOk());
  const uint64_t before = LastSeq();
  FailSeedRequests(1);
  auto fired =
      (*injection)
          ->WaitForEvent("seed.request", "fired", before, absl::Seconds(30));
  ASSERT_THAT(fired, IsOk());
  EXPECT_EQ(fired->injection, "seed.request");
  EXPECT_EQ(fired->phase, "fired");
  EXPECT_EQ(fired->type, "error");
  EXPECT_GT(fired->seq, before);
  EXPECT_THAT(fired->data, HasSubstr("\"request\""));
  EXPECT_THAT((*injection)
                  ->WaitForEvent("seed.request", "fired", fired->seq,
                                 absl::Milliseconds(200)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(LongPollTest, BadRequestsAreExplicit) {
  Start();
  EXPECT_EQ(Call("GET", "/v2/error_injection/wait?timeout_ms=0").status, 400);
  EXPECT_EQ(Call("GET", "/v2/error_injection/wait?since=x").status, 400);
  EXPECT_EQ(Call("GET", "/v2/error_injection/wait?injection=nosuch").status,
            404);
  HttpResult post = Call("POST", "/v2/error_injection/wait");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["allow"], "GET");
}

}  // namespace
}  // namespace kvstore
