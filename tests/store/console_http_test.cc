// The console's routes and the browser-facing behaviour of the routes its
// page uses, against the real binary: the page and its files with their
// content types, only with --error_injection; the event stream not cached;
// Access-Control-Allow-Origin only with --cors_origin (and preflights
// answered then). The page itself runs in tests/console (a real browser).
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/http_test_client.h"
#include "tests/common/raw_exchange.h"
#include "tests/common/server_process.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore {
namespace {

using ::testing::HasSubstr;
using testing::HttpResult;
using testing::HttpTestClient;
using testing::ServerProcess;

// The head of the event stream's answer (the stream itself never ends).
std::string StreamHead(uint16_t port) {
  const std::string got = testing::ReadUntil(
      port, "GET /v2/error_injection/events HTTP/1.1\r\nHost: x\r\n\r\n",
      "\r\n\r\n", absl::Seconds(30));
  return got.substr(0, got.find("\r\n\r\n") + 2);
}

class ConsoleHttpTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags) {
    flags.push_back("--in_memory");
    auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, flags);
    ASSERT_THAT(server, IsOk());
    server_ = std::move(*server);
  }
  HttpResult Call(const std::string& method, const std::string& target) {
    auto http = HttpTestClient::Connect(server_->port());
    EXPECT_THAT(http, IsOk());
    if (!http.ok()) return {};
    auto res = (*http)->Request(method, target);
    EXPECT_THAT(res, IsOk());
    return res.ok() ? *res : HttpResult{};
  }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ConsoleHttpTest, ServesThePageAndItsFilesWithErrorInjection) {
  Start({"--error_injection"});
  HttpResult page = Call("GET", "/console");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_THAT(page.body, HasSubstr("<script src=\"/console/console.js\">"));
  EXPECT_EQ(Call("GET", "/console/").status, 200);
  HttpResult script = Call("GET", "/console/console.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_THAT(script.body, HasSubstr("new EventSource("));
  EXPECT_EQ(Call("GET", "/console/console.css").headers["content-type"],
            "text/css; charset=utf-8");
  EXPECT_EQ(Call("GET", "/console/nothing.js").status, 404);
  EXPECT_EQ(Call("POST", "/console").status, 405);
  // The page loads nothing from elsewhere.
  for (const std::string& body : {page.body, script.body}) {
    EXPECT_THAT(body, ::testing::Not(HasSubstr("http://")));
    EXPECT_THAT(body, ::testing::Not(HasSubstr("https://")));
  }
}

TEST_F(ConsoleHttpTest, IsOffWithoutErrorInjection) {
  Start({});
  HttpResult page = Call("GET", "/console");
  EXPECT_EQ(page.status, 404);
  EXPECT_THAT(page.body, HasSubstr("--error_injection"));
}

TEST_F(ConsoleHttpTest, TheEventStreamIsNotCachedAndNoCorsByDefault) {
  Start({"--error_injection"});
  const std::string head = StreamHead(server_->port());
  EXPECT_THAT(head, HasSubstr("Content-Type: text/event-stream\r\n"));
  EXPECT_THAT(head, HasSubstr("Cache-Control: no-cache\r\n"));
  EXPECT_THAT(head, ::testing::Not(HasSubstr("Access-Control")));
  HttpResult points = Call("GET", "/v2/error_injection/points");
  EXPECT_EQ(points.headers["content-type"], "application/json");
  EXPECT_EQ(points.headers.count("access-control-allow-origin"), 0u);
}

TEST_F(ConsoleHttpTest, CorsOriginIsSentOnlyWhenGiven) {
  Start({"--error_injection", "--cors_origin=http://localhost:8080"});
  HttpResult points = Call("GET", "/v2/error_injection/points");
  EXPECT_EQ(points.headers["access-control-allow-origin"],
            "http://localhost:8080");
  EXPECT_EQ(Call("GET", "/metrics").headers["access-control-allow-origin"],
            "http://localhost:8080");
  HttpResult preflight = Call("OPTIONS", "/v2/error_injection/injection/x");
  EXPECT_EQ(preflight.status, 204);
  EXPECT_THAT(preflight.headers["access-control-allow-methods"],
              HasSubstr("POST"));
  EXPECT_EQ(preflight.headers["access-control-allow-origin"],
            "http://localhost:8080");
}

}  // namespace
}  // namespace kvstore
