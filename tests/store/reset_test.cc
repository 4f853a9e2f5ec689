// POST /v2/reset against the real binary: one running store shared by many
// suites goes back to a fresh state (only `default`, empty; nothing armed;
// the event history restarted by a `reset` event every subscriber sees).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
using ::testing::Not;
using testing::ServerProcess;

class ResetTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags) {
    flags.push_back("--data_dir=" + dir_.File("db"));
    auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, flags);
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

  void CreateTable(const std::string& name) {
    ASSERT_EQ(Call("POST", "/v1/tables",
                   absl::StrCat(R"({"table": {"name": ")", name,
                                R"(", "columnFamilies": [{"name": "f"}]}})"))
                  .status,
              200);
  }

  // Arms seed.request to answer 503, and sees it fire once.
  void FailSeedRequest() {
    ASSERT_EQ(Call("POST", "/v2/error_injection/injection/seed.request",
                   R"({"action": "error", "status": "503"})")
                  .status,
              200);
    ASSERT_EQ(Call("GET", "/set?k=v").status, 503);
  }

  testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ResetTest, DropsTablesAndClearsDefault) {
  Start({"--error_injection"});
  CreateTable("t1");
  CreateTable("t2");
  ASSERT_EQ(Call("GET", "/set?k=v").status, 200);
  ASSERT_EQ(Call("GET", "/get?key=k").body, "v");
  // A one-row read: the row is in the row cache now.
  const std::string read_k = R"({"rows": {"rowKeys": ["aw=="]}})";
  ASSERT_THAT(Call("POST", "/v1/tables/default:readRows", read_k).body,
              HasSubstr("\"key\":\"aw==\""));
  HttpResult reset = Call("POST", "/v2/reset");
  ASSERT_EQ(reset.status, 200) << reset.body;
  EXPECT_THAT(reset.body, HasSubstr("\"tables_dropped\":2"));
  HttpResult tables = Call("GET", "/v1/tables");
  EXPECT_THAT(tables.body, HasSubstr("\"default\""));
  EXPECT_THAT(tables.body, Not(HasSubstr("\"t1\"")));
  EXPECT_EQ(Call("GET", "/get?key=k").status, 404);
  EXPECT_THAT(Call("POST", "/v1/tables/default:readRows", read_k).body,
              Not(HasSubstr("aw==")));
  // The store goes on as new: the same names can be used again.
  CreateTable("t1");
  ASSERT_EQ(Call("GET", "/set?k=w").status, 200);
  EXPECT_EQ(Call("GET", "/get?key=k").body, "w");
}

TEST_F(ResetTest, DisarmsEveryPoint) {
  Start({"--error_injection"});
  FailSeedRequest();
  ASSERT_EQ(Call("POST", "/v2/reset").status, 200);
  EXPECT_EQ(Call("GET", "/set?k=v").status, 200);
  EXPECT_THAT(Call("GET", "/v2/error_injection/injection/seed.request").body,
              HasSubstr("\"enabled\":false"));
}

TEST_F(ResetTest, RestartsTheHistoryWithAResetEveryoneSees) {
  Start({"--error_injection"});
  FailSeedRequest();
  HttpResult reset = Call("POST", "/v2/reset");
  ASSERT_EQ(reset.status, 200);
  // A poll for seed.request events after seq 0 sees that the old ones are
  // gone (the history starts at the reset event)...
  HttpResult old =
      Call("GET",
           "/v2/error_injection/wait?injection=seed.request&since=0"
           "&phase=fired&timeout_ms=2000");
  EXPECT_EQ(old.status, 410) << old.body;
  // ...and one for seed.request's fired events hears the reset anyway.
  std::string seq = reset.body.substr(reset.body.find("\"seq\":") + 6);
  seq = seq.substr(0, seq.find('}'));
  HttpResult next =
      Call("GET", absl::StrCat("/v2/error_injection/wait?injection=seed.request"
                               "&phase=fired&timeout_ms=2000&since=",
                               std::stoull(seq) - 1));
  EXPECT_EQ(next.status, 200) << next.body;
  EXPECT_THAT(next.body, HasSubstr("\"phase\":\"reset\""));
}

TEST_F(ResetTest, NeedsErrorInjectionAndPost) {
  Start({});
  EXPECT_EQ(Call("POST", "/v2/reset").status, 404);
  ASSERT_EQ(Call("GET", "/set?k=v").status, 200);
  EXPECT_EQ(Call("GET", "/get?key=k").body, "v");  // nothing was cleared
  server_.reset();
  Start({"--error_injection"});
  HttpResult get = Call("GET", "/v2/reset");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.headers["allow"], "POST");
}

}  // namespace
}  // namespace kvstore
