// The seed Simple-DB server's behaviours (its tests.py), against the real
// kvstore_server binary, plus the persistence test that the seed itself fails.
#include <signal.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/http_test_client.h"
#include "tests/common/server_process.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"

using ::kvstore::testing::IsOk;

namespace kvstore {
namespace {

using ::testing::HasSubstr;
using testing::HttpResult;
using testing::HttpTestClient;
using testing::ServerProcess;
using testing::UrlEncode;

class SeedApiTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer() {
    auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY,
                                       {"--data_dir=" + dir_.File("db")});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto client = HttpTestClient::Connect(server_->port());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  HttpResult Get(const std::string& target) {
    auto res = client_->Get(target);
    EXPECT_TRUE(res.ok()) << target << ": " << res.status();
    return res.ok() ? *res : HttpResult{};
  }

  testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpTestClient> client_;
};

TEST_F(SeedApiTest, BasicSetGet) {
  HttpResult set = Get("/set?key1=val1");
  EXPECT_EQ(set.status, 200);
  EXPECT_EQ(set.body, "");
  HttpResult get = Get("/get?key=key1");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "val1");
  EXPECT_EQ(get.headers["content-type"], "text/plain");
}

TEST_F(SeedApiTest, MissingKeyIs404WithEmptyBody) {
  HttpResult res = Get("/get?key=somethingdoesntexit");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, "");
}

TEST_F(SeedApiTest, MalformedIs500) {
  for (const char* target :
       {"/malformed", "/", "/get", "/set", "/get?", "/get?key=", "/get?foo=bar",
        "/set?a=1&b=2", "/get?key=a&key=b", "/set?k=%zz", "/GET?key=a",
        "/get/?key=a"}) {
    HttpResult res = Get(target);
    EXPECT_EQ(res.status, 500) << target;
    EXPECT_FALSE(res.body.empty()) << target << ": a 500 says why";
  }
}

TEST_F(SeedApiTest, OtherMethodsAre500) {
  auto res = client_->Request("POST", "/set?a=1");
  ASSERT_THAT(res, IsOk());
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(Get("/get?key=a").status, 404);
}

TEST_F(SeedApiTest, SetOverwrites) {
  EXPECT_EQ(Get("/set?key1=val1").status, 200);
  EXPECT_EQ(Get("/set?key1=val2").status, 200);
  HttpResult get = Get("/get?key=key1");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "val2");
}

TEST_F(SeedApiTest, EveryByteRoundTrips) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  const std::string key = std::string("k\0&=+ é/?", 11);
  EXPECT_EQ(Get("/set?" + UrlEncode(key) + "=" + UrlEncode(all_bytes)).status,
            200);
  HttpResult get = Get("/get?key=" + UrlEncode(key));
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, all_bytes);
}

TEST_F(SeedApiTest, PlusIsASpaceAndEncodedPlusIsAPlus) {
  EXPECT_EQ(Get("/set?a+b=c+d%2B").status, 200);
  EXPECT_EQ(Get("/get?key=a%20b").body, "c d+");
}

TEST_F(SeedApiTest, KeysAreExactBytes) {
  EXPECT_EQ(Get("/set?a=1").status, 200);
  EXPECT_EQ(Get("/get?key=a%00").status, 404);
  EXPECT_EQ(Get("/get?key=A").status, 404);
  EXPECT_EQ(Get("/set?a%00=2").status, 200);
  EXPECT_EQ(Get("/get?key=a").body, "1");
  EXPECT_EQ(Get("/get?key=a%00").body, "2");
}

TEST_F(SeedApiTest, OversizedKeyIs500AndStoresNothing) {
  std::string big(4097, 'k');
  HttpResult res = Get("/set?" + big + "=v");
  EXPECT_EQ(res.status, 500);
  EXPECT_THAT(res.body, HasSubstr("row key"));
  EXPECT_EQ(Get("/set?" + std::string(4096, 'k') + "=v").status, 200);
}

TEST_F(SeedApiTest, HealthzAndMetrics) {
  EXPECT_EQ(Get("/healthz").status, 200);
  Get("/set?m=1");
  Get("/get?key=m");
  Get("/get?key=absent");
  HttpResult metrics = Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(
      metrics.body,
      HasSubstr(
          "kvstore_http_requests_total{route=\"/set\",status=\"200\"} 1"));
  EXPECT_THAT(
      metrics.body,
      HasSubstr(
          "kvstore_http_requests_total{route=\"/get\",status=\"200\"} 1"));
  EXPECT_THAT(
      metrics.body,
      HasSubstr(
          "kvstore_http_requests_total{route=\"/get\",status=\"404\"} 1"));
  EXPECT_THAT(metrics.body, HasSubstr("kvstore_http_open_connections 1"));
  EXPECT_THAT(metrics.body, HasSubstr("kvstore_storage_writes_total 1"));
}

// The seed's DataPersistenceTest.test_set_restart_get, which fails in the seed.
TEST_F(SeedApiTest, SetRestartGet) {
  EXPECT_EQ(Get("/set?key1=val1").status, 200);
  client_.reset();
  ASSERT_THAT(server_->Stop(), IsOk());
  StartServer();
  HttpResult get = Get("/get?key=key1");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "val1");
}

TEST_F(SeedApiTest, SetKillGet) {
  EXPECT_EQ(Get("/set?key1=acknowledged").status, 200);
  client_.reset();
  server_->Kill();
  StartServer();
  EXPECT_EQ(Get("/get?key=key1").body, "acknowledged");
}

TEST_F(SeedApiTest, InMemoryModeStartsEmptyEveryTime) {
  client_.reset();
  server_.reset();
  for (int round = 0; round < 2; ++round) {
    auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, {"--in_memory"});
    ASSERT_TRUE(server.ok()) << server.status();
    auto client = HttpTestClient::Connect((*server)->port());
    ASSERT_THAT(client, IsOk());
    EXPECT_EQ((*client)->Get("/get?key=x")->status, 404) << round;
    EXPECT_EQ((*client)->Get("/set?x=1")->status, 200);
    EXPECT_EQ((*client)->Get("/get?key=x")->body, "1");
  }
}

}  // namespace
}  // namespace kvstore
