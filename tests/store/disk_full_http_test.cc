// A full disk as HTTP clients see it, on an in-process server whose storage
// fails every file write while `full_` is set (EngineOptions::
// file_write_fault): data-API writes answer 507 with RESOURCE_EXHAUSTED and a
// clear message, /readyz answers 503 and /healthz says why, /metrics counts
// the refusals, and everything comes back by itself once space is freed.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/server/server.h"
#include "tests/common/http_test_client.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"

using ::kvstore::testing::IsOk;

namespace kvstore::store {
namespace {

using ::testing::HasSubstr;
using testing::HttpResult;

constexpr char kSetCell[] =
    R"({"rowKey": "cm93", "mutations": [{"setCell": {"familyName": "cf",
        "value": "dg=="}}]})";

class DiskFullHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig config;
    config.engine.data_dir = dir_.File("db");
    config.http.port = 0;
    config.engine.file_write_fault = [this](const std::string&) {
      return full_.load()
                 ? absl::ResourceExhaustedError("No space left on device")
                 : absl::OkStatus();
    };
    auto server = KvServer::Start(config);
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

  HttpResult Write() {
    return Call("POST", "/v1/tables/default:mutateRow", kSetCell);
  }

  // One line of /metrics, e.g. "kvstore_storage_writes_refused 1".
  std::string MetricLine(const std::string& name) {
    std::string body = Call("GET", "/metrics").body;
    size_t at = body.find("\n" + name + " ");
    if (at == std::string::npos) return "";
    return body.substr(at + 1, body.find('\n', at + 1) - at - 1);
  }

  testing::TempDir dir_;
  std::atomic<bool> full_{false};
  std::unique_ptr<KvServer> server_;
};

TEST_F(DiskFullHttpTest, WritesAnswer507AndResumeOnceSpaceIsBack) {
  ASSERT_EQ(Write().status, 200);
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  full_ = true;
  HttpResult refused = Write();
  EXPECT_EQ(refused.status, 507) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("\"code\":8"));  // RESOURCE_EXHAUSTED
  EXPECT_THAT(refused.body, HasSubstr("disk full"));
  EXPECT_THAT(refused.body, HasSubstr("No space left on device"));
  EXPECT_EQ(Write().status, 507);
  // The seed API keeps its one error status, with the same reason.
  HttpResult seed = Call("GET", "/set?k=v");
  EXPECT_EQ(seed.status, 500);
  EXPECT_THAT(seed.body, HasSubstr("disk full"));

  HttpResult ready = Call("GET", "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_THAT(ready.body, HasSubstr("writes refused: disk full"));
  HttpResult health = Call("GET", "/healthz");
  EXPECT_EQ(health.status, 200);  // alive: reads are served
  EXPECT_THAT(health.body, HasSubstr("writes refused"));
  EXPECT_EQ(Call("POST", "/v1/tables/default:readRows", "{}").status, 200);
  EXPECT_EQ(MetricLine("kvstore_storage_writes_refused"),
            "kvstore_storage_writes_refused 1");
  EXPECT_EQ(MetricLine("kvstore_storage_refused_writes_total"),
            "kvstore_storage_refused_writes_total 3");

  full_ = false;
  int status = 0;
  for (int i = 0; i < 600 && status != 200; ++i) {
    status = Call("GET", "/readyz").status;
    if (status != 200)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(status, 200);
  EXPECT_EQ(Call("GET", "/healthz").body, "ok\n");
  EXPECT_EQ(Write().status, 200);
  EXPECT_EQ(MetricLine("kvstore_storage_writes_refused"),
            "kvstore_storage_writes_refused 0");
  EXPECT_EQ(MetricLine("kvstore_storage_write_recoveries_total"),
            "kvstore_storage_write_recoveries_total 1");
}

}  // namespace
}  // namespace kvstore::store
