// Durability under kill -9: concurrent writers, the server
// killed mid-stream, then restarted. Every acknowledged write must be there; an
// overwritten key must hold a value at least as new as the last acknowledged
// one (and no newer than the last one sent).
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "kvstore/v1/store.pb.h"
#include "tests/common/http_test_client.h"
#include "tests/common/server_process.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"

using ::kvstore::testing::IsOk;

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

// Run with each fsync mode: `never` syncs nothing, but an acknowledged write
// has reached the OS (the log buffer is flushed before the answer goes out),
// and a process crash leaves the OS's page cache intact.
class CrashTest : public ::testing::TestWithParam<const char*> {};

TEST_P(CrashTest, AcknowledgedWritesSurviveKill9) {
  testing::TempDir dir;
  const std::vector<std::string> args = {"--data_dir=" + dir.File("db"),
                                         absl::StrCat("--fsync=", GetParam())};
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
  ASSERT_THAT(client, IsOk());
  size_t missing = 0;
  for (int w = 0; w < kWriters; ++w) {
    for (const auto& [key, value] : logs[w].acknowledged) {
      ++total_acknowledged;
      auto res = (*client)->Get("/get?key=" + key);
      ASSERT_THAT(res, IsOk());
      if (res->status != 200 || res->body != value) ++missing;
    }
    if (logs[w].counter_acknowledged >= 0) {
      ++total_acknowledged;
      auto res = (*client)->Get(absl::StrCat("/get?key=counter", w));
      ASSERT_THAT(res, IsOk());
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

INSTANTIATE_TEST_SUITE_P(FsyncModes, CrashTest,
                         ::testing::Values("always", "never"));

// Multi-mutation rows: every request sets 6 columns in 2 families of its row to
// the same sequence number. After each kill -9, every row must show one
// sequence number in all 6 columns (a request applies wholly or not at all), at
// least the last acknowledged one.
TEST(CrashRowTest, MultiMutationRowsAreAllOrNothing) {
  testing::TempDir dir;
  const std::vector<std::string> args = {"--data_dir=" + dir.File("db"),
                                         "--fsync=always"};
  constexpr int kRows = 4;  // per writer
  std::vector<std::vector<int64_t>> acked(kWriters,
                                          std::vector<int64_t>(kRows, -1));
  std::vector<std::vector<int64_t>> sent(kWriters,
                                         std::vector<int64_t>(kRows, -1));
  auto post = [](HttpTestClient& client, const std::string& target,
                 const google::protobuf::Message& body) {
    return client.Request("POST", target, body.SerializeAsString(),
                          {{"Content-Type", "application/x-protobuf"},
                           {"Accept", "application/x-protobuf"}});
  };
  std::mt19937 rng(1123);
  size_t checked = 0;
  for (int round = 0; round < kRounds; ++round) {
    auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, args);
    ASSERT_TRUE(server.ok()) << server.status();
    if (round == 0) {
      auto client = HttpTestClient::Connect((*server)->port());
      ASSERT_THAT(client, IsOk());
      v1::CreateTableRequest create;
      create.mutable_table()->set_name("atomic");
      create.mutable_table()->add_column_families()->set_name("a");
      create.mutable_table()->add_column_families()->set_name("b");
      auto res = post(**client, "/v1/tables", create);
      ASSERT_TRUE(res.ok() && res->status == 200);
    }
    std::atomic<int> acks{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        auto client = HttpTestClient::Connect((*server)->port());
        if (!client.ok()) return;
        for (int64_t i = 0; !stop.load(); ++i) {
          int r = static_cast<int>(i % kRows);
          int64_t seq = sent[w][r] + 1;
          v1::MutateRowRequest request;
          request.set_row_key(absl::StrCat("w", w, "-row", r));
          for (const char* family : {"a", "b"}) {
            for (int q = 0; q < 3; ++q) {
              auto* set = request.add_mutations()->mutable_set_cell();
              set->set_family_name(family);
              set->set_column_qualifier(absl::StrCat("q", q));
              set->set_timestamp_micros(
                  0);  // one version per column: overwrite
              set->set_value(absl::StrCat(seq));
            }
          }
          sent[w][r] = seq;
          auto res = post(**client, "/v1/tables/atomic:mutateRow", request);
          if (!res.ok() || res->status != 200) return;
          acked[w][r] = seq;
          acks.fetch_add(1);
        }
      });
    }
    int kill_after = 100 + static_cast<int>(rng() % 300);
    while (acks.load() < kill_after)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    (*server)->Kill();
    stop = true;
    for (auto& t : writers) t.join();

    auto restarted = ServerProcess::Start(KVSTORE_SERVER_BINARY, args);
    ASSERT_TRUE(restarted.ok()) << restarted.status();
    auto client = HttpTestClient::Connect((*restarted)->port());
    ASSERT_THAT(client, IsOk());
    auto res =
        post(**client, "/v1/tables/atomic:readRows", v1::ReadRowsRequest());
    ASSERT_TRUE(res.ok() && res->status == 200);
    std::map<std::string, int64_t> found;
    size_t pos = 0;
    const std::string& body = res->body;
    while (pos < body.size()) {
      uint64_t size = 0;
      int shift = 0;
      while (true) {
        uint8_t byte = static_cast<uint8_t>(body[pos++]);
        size |= static_cast<uint64_t>(byte & 0x7f) << shift;
        shift += 7;
        if ((byte & 0x80) == 0) break;
      }
      v1::ReadRowsResponse message;
      ASSERT_TRUE(
          message.ParseFromArray(body.data() + pos, static_cast<int>(size)));
      pos += size;
      if (!message.has_row()) continue;
      std::set<std::string> values;
      int cells = 0;
      for (const auto& family : message.row().families()) {
        for (const auto& column : family.columns()) {
          for (const auto& cell : column.cells()) {
            values.insert(cell.value());
            ++cells;
          }
        }
      }
      EXPECT_EQ(cells, 6) << message.row().key();
      ASSERT_EQ(values.size(), 1u) << "torn row " << message.row().key();
      int64_t seq = 0;
      ASSERT_TRUE(absl::SimpleAtoi(*values.begin(), &seq));
      found[message.row().key()] = seq;
    }
    for (int w = 0; w < kWriters; ++w) {
      for (int r = 0; r < kRows; ++r) {
        if (acked[w][r] < 0) continue;
        ++checked;
        std::string key = absl::StrCat("w", w, "-row", r);
        ASSERT_TRUE(found.count(key)) << key;
        EXPECT_GE(found[key], acked[w][r]) << key;
        EXPECT_LE(found[key], sent[w][r]) << key;
        // The next round continues from what survived.
        sent[w][r] = found[key];
        acked[w][r] = found[key];
      }
    }
    restarted->get()->Kill();
  }
  std::printf(
      "multi-mutation rows: %zu row checks over %d kill -9 rounds, none torn\n",
      checked, kRounds);
  EXPECT_GT(checked, 0u);
}

}  // namespace
}  // namespace kvstore
