// Durability under kill -9: concurrent writers with --fsync=always, the server
// killed mid-stream, then restarted. Every acknowledged write must be there; an
// overwritten key must hold a value at least as new as the last acknowledged
// one (and no newer than the last one sent).
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/common/http_test_client.h"
#include "tests/common/server_process.h"
#include "tests/common/temp_dir.h"

namespace kvstore {
namespace {

using testing::HttpTestClient;
using testing::ServerProcess;

constexpr int kRounds = 5;
constexpr int kWriters = 8;

struct WriterLog {
  std::map<std::string, std::string> acknowledged;  // unique keys
  int64_t counter_acknowledged = -1;  // last acknowledged counter value
  int64_t counter_sent = -1;          // last counter value sent
};

TEST(CrashTest, AcknowledgedWritesSurviveKill9) {
  testing::TempDir dir;
  const std::vector<std::string> args = {"--data_dir=" + dir.File("db"),
                                         "--fsync=always"};
  std::vector<WriterLog> logs(kWriters);
  std::mt19937 rng(20261123);
  size_t total_acknowledged = 0;

  for (int round = 0; round < kRounds; ++round) {
    auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, args);
    ASSERT_TRUE(server.ok()) << server.status();
    std::atomic<int> acks{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        auto client = HttpTestClient::Connect((*server)->port());
        if (!client.ok()) return;
        WriterLog& log = logs[w];
        for (int i = 0; !stop.load(); ++i) {
          std::string key = absl::StrCat("w", w, "-r", round, "-", i);
          std::string value =
              absl::StrCat("value-", i, "-", std::string(i % 50, 'x'));
          bool counter = i % 2 == 1;
          std::string target;
          if (counter) {
            log.counter_sent = log.counter_sent + 1;
            target = absl::StrCat("/set?counter", w, "=", log.counter_sent);
          } else {
            target = absl::StrCat("/set?", key, "=", value);
          }
          auto res = (*client)->Get(target);
          if (!res.ok() || res->status != 200) return;  // the server is gone
          if (counter) {
            log.counter_acknowledged = log.counter_sent;
          } else {
            log.acknowledged[key] = value;
          }
          acks.fetch_add(1);
        }
      });
    }
    // Kill at a different point each round, while writes are in flight.
    int kill_after = 200 + static_cast<int>(rng() % 400);
    while (acks.load() < kill_after)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    (*server)->Kill();
    stop = true;
    for (auto& t : writers) t.join();
    std::printf("round %d: killed after %d acknowledged writes\n", round,
                acks.load());
  }

  auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, args);
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = HttpTestClient::Connect((*server)->port());
  ASSERT_TRUE(client.ok());
  size_t missing = 0;
  for (int w = 0; w < kWriters; ++w) {
    for (const auto& [key, value] : logs[w].acknowledged) {
      ++total_acknowledged;
      auto res = (*client)->Get("/get?key=" + key);
      ASSERT_TRUE(res.ok());
      if (res->status != 200 || res->body != value) ++missing;
    }
    if (logs[w].counter_acknowledged >= 0) {
      ++total_acknowledged;
      auto res = (*client)->Get(absl::StrCat("/get?key=counter", w));
      ASSERT_TRUE(res.ok());
      ASSERT_EQ(res->status, 200);
      int64_t stored = -1;
      ASSERT_TRUE(absl::SimpleAtoi(res->body, &stored)) << res->body;
      EXPECT_GE(stored, logs[w].counter_acknowledged) << "writer " << w;
      EXPECT_LE(stored, logs[w].counter_sent) << "writer " << w;
    }
  }
  std::printf(
      "checked %zu acknowledged writes over %d kill -9 rounds; %zu missing\n",
      total_acknowledged, kRounds, missing);
  ::testing::Test::RecordProperty("acknowledged_writes_checked",
                                  static_cast<int>(total_acknowledged));
  EXPECT_EQ(missing, 0u);
  EXPECT_GT(total_acknowledged, static_cast<size_t>(kRounds * 200));
}

}  // namespace
}  // namespace kvstore
