// In-process tests of the HTTP layer with a scripted handler: keep-alive,
// deferred answers, limits, connection cap, idle timeout and graceful shutdown.
#include "store/http/http_server.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "store/api/metrics.h"
#include "tests/common/http_test_client.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore::store {
namespace {

using kvstore::testing::HttpTestClient;
namespace http = boost::beast::http;

// Streams "piece-0" ... "piece-(n-1)", or forever when n < 0; records its own
// destruction.
class CountingSource : public ChunkSource {
 public:
  CountingSource(int n, std::atomic<bool>* destroyed)
      : n_(n), destroyed_(destroyed) {}
  ~CountingSource() override { destroyed_->store(true); }
  absl::StatusOr<std::optional<std::string>> Next() override {
    if (n_ >= 0 && i_ == n_) return std::nullopt;
    return "piece-" + std::to_string(i_++) +
           std::string(n_ < 0 ? 60000 : 0, '.');
  }

 private:
  const int n_;
  int i_ = 0;
  std::atomic<bool>* destroyed_;
};

// Echoes "<method> <target> <body size>". Requests to /park are held until
// Release(); /stream and /endless stream their bodies.
class ScriptedHandler : public HttpHandler {
 public:
  std::atomic<bool> stream_destroyed{false};

  void Handle(HttpRequest request, Respond respond) override {
    if (request.target() == "/stream" || request.target() == "/endless") {
      HttpResponse header{http::status::ok, 11};
      header.set(http::field::content_type, "text/plain");
      int n = request.target() == "/stream" ? 1000 : -1;
      std::move(respond)(
          HttpReply(std::move(header),
                    std::make_unique<CountingSource>(n, &stream_destroyed)));
      return;
    }
    HttpResponse res{http::status::ok, 11};
    res.body() = std::string(request.method_string()) + " " +
                 std::string(request.target()) + " " +
                 std::to_string(request.body().size());
    if (request.target() == "/park") {
      absl::MutexLock lock(&mu_);
      parked_.push_back([respond = std::move(respond), res]() mutable {
        std::move(respond)(std::move(res));
      });
      return;
    }
    std::move(respond)(std::move(res));
  }

  void WaitForParked(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return parked_.size() >= n;
    };
    mu_.Await(absl::Condition(&enough));
  }

  // Answers every parked request from a thread that is not an I/O thread.
  void Release() {
    std::vector<absl::AnyInvocable<void() &&>> parked;
    {
      absl::MutexLock lock(&mu_);
      parked.swap(parked_);
    }
    std::thread([parked = std::move(parked)]() mutable {
      for (auto& p : parked) std::move(p)();
    }).join();
  }

 private:
  absl::Mutex mu_;
  std::vector<absl::AnyInvocable<void() &&>> parked_ ABSL_GUARDED_BY(mu_);
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpLimits limits = {}) {
    HttpServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.limits = limits;
    auto server = HttpServer::Start(options, &handler_, &metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::unique_ptr<HttpTestClient> Connect() {
    auto client = HttpTestClient::Connect(server_->port());
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  ScriptedHandler handler_;
  Metrics metrics_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesManyRequestsOnOneConnection) {
  StartServer();
  auto client = Connect();
  for (int i = 0; i < 100; ++i) {
    auto res = client->Request("POST", "/x" + std::to_string(i), "abc");
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "POST /x" + std::to_string(i) + " 3");
    EXPECT_TRUE(res->keep_alive);
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  auto client = Connect();
  ASSERT_THAT(client->SendRaw("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b "
                              "HTTP/1.1\r\nHost: x\r\n\r\n"),
              IsOk());
  auto a = client->ReadResponse();
  auto b = client->ReadResponse();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->body, "GET /a 0");
  EXPECT_EQ(b->body, "GET /b 0");
}

TEST_F(HttpServerTest, DeferredAnswersDoNotBlockOtherConnections) {
  StartServer();
  auto parked_client = Connect();
  ASSERT_THAT(parked_client->SendRaw("GET /park HTTP/1.1\r\nHost: x\r\n\r\n"),
              IsOk());
  handler_.WaitForParked(1);
  auto other = Connect();
  auto res = other->Get("/free");
  ASSERT_THAT(res, IsOk());
  EXPECT_EQ(res->body, "GET /free 0");
  handler_.Release();
  auto parked = parked_client->ReadResponse();
  ASSERT_TRUE(parked.ok()) << parked.status();
  EXPECT_EQ(parked->body, "GET /park 0");
}

TEST_F(HttpServerTest, LongRequestLineIs414) {
  HttpLimits limits;
  limits.max_url_bytes = 1024;
  StartServer(limits);
  auto client = Connect();
  auto res = client->Get("/" + std::string(2000, 'a'));
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 414);
  EXPECT_FALSE(res->keep_alive);
  // Just under the limit is fine.
  auto ok = Connect()->Get("/" + std::string(900, 'a'));
  ASSERT_THAT(ok, IsOk());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, HugeRequestLineBeyondTheParserLimitIs414) {
  HttpLimits limits;
  limits.max_url_bytes = 1024;
  limits.max_header_bytes = 1024;
  StartServer(limits);
  auto client = Connect();
  auto res = client->Get("/" + std::string(10000, 'a'));
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 414);
}

TEST_F(HttpServerTest, LargeHeadersAre431) {
  HttpLimits limits;
  limits.max_header_bytes = 1024;
  StartServer(limits);
  auto res =
      Connect()->Request("GET", "/", "", {{"X-Big", std::string(2000, 'h')}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 431);
  auto huge =
      Connect()->Request("GET", "/", "", {{"X-Big", std::string(60000, 'h')}});
  ASSERT_TRUE(huge.ok()) << huge.status();
  EXPECT_EQ(huge->status, 431);
}

TEST_F(HttpServerTest, LargeBodyIs413) {
  HttpLimits limits;
  limits.max_body_bytes = 1000;
  StartServer(limits);
  auto res = Connect()->Request("POST", "/", std::string(1001, 'b'));
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 413);
  auto ok = Connect()->Request("POST", "/", std::string(1000, 'b'));
  ASSERT_THAT(ok, IsOk());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, GarbageIs400AndTheServerCarriesOn) {
  StartServer();
  auto client = Connect();
  ASSERT_THAT(client->SendRaw("\x01\x02 not http at all\r\n\r\n"), IsOk());
  auto res = client->ReadResponse();
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 400);
  EXPECT_TRUE(client->WaitForClose(absl::Seconds(10)));
  auto after = Connect()->Get("/still-alive");
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(metrics_.requests(Route::kInvalid, 400), 1u);
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitGet503) {
  HttpLimits limits;
  limits.max_connections = 3;
  StartServer(limits);
  std::vector<std::unique_ptr<HttpTestClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(Connect());
    ASSERT_THAT(held.back()->Get("/hold"),
                IsOk());  // the server has accepted it
  }
  auto extra = Connect();
  auto res = extra->Get("/extra");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 503);
  // Held connections still work, and freeing one makes room.
  EXPECT_EQ(held[0]->Get("/again")->status, 200);
  held.pop_back();
  std::unique_ptr<HttpTestClient> replacement;
  // The server notices the close asynchronously; retry until it has (bounded).
  int status = 0;
  for (int attempt = 0; attempt < 200 && status != 200; ++attempt) {
    replacement = Connect();
    auto r = replacement->Get("/room");
    status = r.ok() ? r->status : 0;
    if (status != 200)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(HttpServerTest, IdleConnectionsAreClosed) {
  HttpLimits limits;
  limits.idle_timeout = absl::Milliseconds(200);
  StartServer(limits);
  auto client = Connect();
  ASSERT_THAT(client->Get("/x"), IsOk());
  EXPECT_TRUE(client->WaitForClose(absl::Seconds(20)));
  // A client that sends half a request is closed too (no slow-loris hold).
  auto slow = Connect();
  ASSERT_THAT(slow->SendRaw("GET /x HTTP/1.1\r\nHost:"), IsOk());
  EXPECT_TRUE(slow->WaitForClose(absl::Seconds(20)));
}

TEST_F(HttpServerTest, StreamsChunkedBodiesAndKeepsTheConnection) {
  StartServer();
  auto client = Connect();
  for (int round = 0; round < 2; ++round) {
    auto res = client->Get("/stream");
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->headers["transfer-encoding"], "chunked");
    std::string expected;
    for (int i = 0; i < 1000; ++i) expected += "piece-" + std::to_string(i);
    EXPECT_EQ(res->body, expected);
    EXPECT_TRUE(res->keep_alive);
  }
  EXPECT_EQ(client->Get("/after")->body, "GET /after 0");
}

TEST_F(HttpServerTest, StreamStopsWhenTheClientGoesAway) {
  StartServer();
  {
    auto client = Connect();
    ASSERT_THAT(client->SendRaw("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n"),
                IsOk());
    // Leave without reading: the server's writes fail once the socket is gone.
  }
  for (int i = 0; i < 2000 && !handler_.stream_destroyed.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(handler_.stream_destroyed.load());
  EXPECT_EQ(Connect()->Get("/still-serving")->status, 200);
}

TEST_F(HttpServerTest, ShutdownFinishesRequestsInFlight) {
  StartServer();
  auto parked_client = Connect();
  auto idle_client = Connect();
  ASSERT_THAT(idle_client->Get("/x"), IsOk());
  ASSERT_THAT(parked_client->SendRaw("GET /park HTTP/1.1\r\nHost: x\r\n\r\n"),
              IsOk());
  handler_.WaitForParked(1);
  std::thread stopper([this] { server_->Shutdown(absl::Seconds(30)); });
  EXPECT_TRUE(idle_client->WaitForClose(absl::Seconds(20)));
  handler_.Release();
  auto res = parked_client->ReadResponse();
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200);
  EXPECT_FALSE(res->keep_alive);
  stopper.join();
  EXPECT_THAT(HttpTestClient::Connect(server_->port()), ::testing::Not(IsOk()));
}

}  // namespace
}  // namespace kvstore::store
