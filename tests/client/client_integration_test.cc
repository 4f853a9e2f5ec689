// kvstore::Client against the real store (started on port 0, in memory).
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/server_process.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;
using ::kvstore::testing::StatusIs;

namespace kvstore {
namespace {

using ::testing::ElementsAre;
using testing::ServerProcess;

class ClientIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, {"--in_memory"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ClientOptions options;
    options.endpoint = absl::StrCat("127.0.0.1:", server_->port());
    options.pool_size = 4;
    auto client = Client::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    v1::Table table;
    table.set_name("t");
    auto* family = table.add_column_families();
    family->set_name("f");
    family->mutable_gc_rule()->set_max_versions(3);
    table.add_column_families()->set_name("counters");
    absl::Status created = client_->CreateTable(table);
    ASSERT_TRUE(created.ok()) << created;
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientIntegrationTest, TableAdmin) {
  auto tables = client_->ListTables();
  ASSERT_TRUE(tables.ok()) << tables.status();
  std::vector<std::string> names;
  for (const auto& t : *tables) names.push_back(t.name());
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("default", "t"));
  auto t = client_->GetTable("t");
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->column_families_size(), 2);
  v1::Table again;
  again.set_name("t");
  again.add_column_families()->set_name("f");
  EXPECT_EQ(client_->CreateTable(again).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(client_->DeleteTable("t"), IsOk());
  EXPECT_EQ(client_->GetTable("t").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ClientIntegrationTest, WritesAndReadsRows) {
  const std::string key("k\0\xff", 3);
  ASSERT_THAT(client_->MutateRow(
                  "t", key,
                  {SetCell("f", "q", "old", 10), SetCell("f", "q", "new", 20),
                   SetCell("f", "r", std::string(100000, 'z'), 5)}),
              IsOk());
  auto row = client_->ReadRow("t", key);
  ASSERT_TRUE(row.ok()) << row.status();
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ((*row)->key(), key);
  const v1::Family& f = (*row)->families(0);
  EXPECT_EQ(f.columns(0).cells(0).value(), "new");
  EXPECT_EQ(f.columns(0).cells(1).value(), "old");
  EXPECT_EQ(f.columns(1).cells(0).value(), std::string(100000, 'z'));
  auto newest = client_->ReadRow("t", key, CellsPerColumn(1));
  ASSERT_THAT(newest, IsOk());
  EXPECT_EQ((*newest)->families(0).columns(0).cells_size(), 1);
  auto missing = client_->ReadRow("t", "nope");
  ASSERT_THAT(missing, IsOk());
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(client_->MutateRow("t", "k", {SetCell("nope", "q", "v")}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->MutateRow("t", "", {SetCell("f", "q", "v")}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->ReadRow("missing", "k").status().code(),
            absl::StatusCode::kNotFound);
  std::vector<BulkEntry> bulk;
  bulk.push_back({"k", {SetCell("f", "q", "v")}});
  EXPECT_THAT(client_->MutateRows("missing", std::move(bulk)),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ClientIntegrationTest, ScansStreamInOrderAndCanStopEarly) {
  std::vector<BulkEntry> entries;
  for (int i = 0; i < 3000; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "row%05d", i);
    entries.push_back({key, {SetCell("f", "q", std::string(500, 'v'))}});
  }
  auto results = client_->MutateRows("t", std::move(entries));
  ASSERT_TRUE(results.ok()) << results.status();
  for (const absl::Status& s : *results) ASSERT_TRUE(s.ok()) << s;
  int seen = 0;
  std::string last;
  absl::Status scanned =
      client_->ReadRows("t", ReadRowsQuery{}, [&](v1::Row row) {
        EXPECT_LT(last, row.key());
        last = row.key();
        ++seen;
        return true;
      });
  EXPECT_TRUE(scanned.ok()) << scanned;
  EXPECT_EQ(seen, 3000);
  // Stop after 10 rows of a ~1.5 MB scan; the client stays usable.
  seen = 0;
  EXPECT_THAT(client_->ReadRows("t", ReadRowsQuery{},
                                [&](v1::Row) { return ++seen < 10; }),
              IsOk());
  EXPECT_EQ(seen, 10);
  ReadRowsQuery reversed;
  reversed.reversed = true;
  reversed.rows_limit = 2;
  std::vector<std::string> keys;
  ASSERT_TRUE(client_
                  ->ReadRows("t", reversed,
                             [&](v1::Row row) {
                               keys.push_back(row.key());
                               return true;
                             })
                  .ok());
  EXPECT_THAT(keys, ElementsAre("row02999", "row02998"));
  auto samples = client_->SampleRowKeys("t");
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_FALSE(samples->empty());
  EXPECT_EQ(samples->back().row_key, "");
  EXPECT_GT(samples->back().offset_bytes, 0);
}

TEST_F(ClientIntegrationTest, ConditionalAndReadModifyWrite) {
  auto matched = client_->CheckAndMutateRow("t", "r", std::nullopt,
                                            {SetCell("f", "q", "yes")},
                                            {SetCell("f", "q", "no")});
  ASSERT_TRUE(matched.ok()) << matched.status();
  EXPECT_FALSE(*matched);  // the row did not exist
  matched = client_->CheckAndMutateRow("t", "r", ValueRegex("no"),
                                       {SetCell("f", "q", "yes")}, {});
  ASSERT_THAT(matched, IsOk());
  EXPECT_TRUE(*matched);
  auto row = client_->ReadModifyWriteRow(
      "t", "r", {IncrementBy("counters", "n", 5), AppendValue("f", "q", "!")});
  ASSERT_TRUE(row.ok()) << row.status();
  ASSERT_EQ(row->families_size(), 2);
  EXPECT_EQ(row->families(0).name(), "counters");
  EXPECT_EQ(row->families(1).columns(0).cells(0).value(), "yes!");
  EXPECT_EQ(client_->ReadModifyWriteRow("t", "r", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientIntegrationTest, OneClientServesManyThreads) {
  constexpr int kThreads = 8, kIncrements = 100;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIncrements; ++i) {
        if (!client_
                 ->ReadModifyWriteRow("t", "shared",
                                      {IncrementBy("counters", "n", 1)})
                 .ok()) {
          ++failures;
        }
        if (!client_
                 ->MutateRow("t", absl::StrCat("t", t, "-", i),
                             {SetCell("f", "q", "v")})
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto row = client_->ReadRow("t", "shared");
  ASSERT_TRUE(row.ok() && row->has_value());
  std::string expected(8, '\0');
  expected[7] = static_cast<char>(kThreads * kIncrements % 256);
  expected[6] = static_cast<char>(kThreads * kIncrements / 256);
  EXPECT_EQ((*row)->families(0).columns(0).cells(0).value(), expected);
}

TEST(ClientUnreachableTest, RefusedConnectionIsUnavailable) {
  // Take a free port and leave it closed.
  auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, {"--in_memory"});
  ASSERT_THAT(server, IsOk());
  uint16_t port = (*server)->port();
  ASSERT_THAT((*server)->Stop(), IsOk());
  ClientOptions options;
  options.endpoint = absl::StrCat("127.0.0.1:", port);
  auto client = Client::Create(options);
  ASSERT_THAT(client, IsOk());
  EXPECT_EQ((*client)->DeleteTable("t").code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kvstore
