// kvstore::Client's Async* calls over the real transport: against the real
// store (port 0, in memory), and against a listener that never answers, for
// deadlines, the connection pool's queue, and destruction with calls in
// flight.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "client/builders.h"
#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/async_result.h"
#include "tests/common/server_process.h"
#include "tests/common/silent_listener.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore {
namespace {

using ::testing::HasSubstr;
using testing::ServerProcess;
using testing::SilentListener;

std::unique_ptr<Client> MakeClient(uint16_t port, ClientOptions options = {}) {
  options.endpoint = absl::StrCat("127.0.0.1:", port);
  auto client = Client::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(*client) : nullptr;
}

class AsyncClientIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, {"--in_memory"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::unique_ptr<ServerProcess> server_;
};

TEST_F(AsyncClientIntegrationTest, EveryAsyncCallAgainstTheStore) {
  auto client = MakeClient(server_->port());
  ASSERT_NE(client, nullptr);
  Result<absl::Status> written;
  client->AsyncMutateRow("default", "row\x01\xff",
                         {SetCell("cf", "q", std::string("v\0w", 3), 10)},
                         written.Callback());
  ASSERT_TRUE(written.Get().ok()) << written.Get();

  Result<absl::StatusOr<std::optional<v1::Row>>> read, missing;
  client->AsyncReadRow("default", "row\x01\xff", std::nullopt, read.Callback());
  ASSERT_TRUE(read.Get().ok()) << read.Get().status();
  ASSERT_TRUE(read.Get()->has_value());
  EXPECT_EQ((*read.Get())->families(0).columns(0).cells(0).value(),
            std::string("v\0w", 3));
  client->AsyncReadRow("default", "nobody", std::nullopt, missing.Callback());
  ASSERT_THAT(missing.Get(), IsOk());
  EXPECT_FALSE(missing.Get()->has_value());

  Result<absl::StatusOr<bool>> matched;
  client->AsyncCheckAndMutateRow("default", "row\x01\xff", ValueRegex("v.*"),
                                 {SetCell("cf", "hit", "1", 1)}, {},
                                 matched.Callback());
  ASSERT_TRUE(matched.Get().ok()) << matched.Get().status();
  EXPECT_TRUE(*matched.Get());

  Result<absl::StatusOr<v1::Row>> counted;
  client->AsyncReadModifyWriteRow(
      "default", "counter", {IncrementBy("cf", "n", 5)}, counted.Callback());
  ASSERT_TRUE(counted.Get().ok()) << counted.Get().status();
  EXPECT_EQ(counted.Get()->families(0).columns(0).cells(0).value(),
            std::string("\0\0\0\0\0\0\0\x05", 8));

  Result<absl::StatusOr<std::vector<RowKeySample>>> samples;
  client->AsyncSampleRowKeys("default", samples.Callback());
  ASSERT_TRUE(samples.Get().ok()) << samples.Get().status();
  ASSERT_FALSE(samples.Get()->empty());
  EXPECT_EQ(samples.Get()->back().row_key, "");

  Result<absl::Status> no_table;
  client->AsyncMutateRow("no-such-table", "r", {SetCell("cf", "q", "v", 1)},
                         no_table.Callback());
  EXPECT_EQ(no_table.Get().code(), absl::StatusCode::kNotFound);
}

TEST_F(AsyncClientIntegrationTest, ManyCallsInFlightShareASmallPool) {
  ClientOptions options;
  options.pool_size = 2;  // most calls queue for a connection
  auto client = MakeClient(server_->port(), options);
  ASSERT_NE(client, nullptr);
  constexpr int kCalls = 300;
  std::atomic<int> failures{0};
  absl::BlockingCounter written(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    client->AsyncMutateRow("default", absl::StrCat("k", i),
                           {SetCell("cf", "q", absl::StrCat("v", i), 1)},
                           [&](absl::Status s) {
                             if (!s.ok()) ++failures;
                             written.DecrementCount();
                           });
  }
  written.Wait();
  absl::BlockingCounter read(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    client->AsyncReadRow(
        "default", absl::StrCat("k", i), std::nullopt,
        [&, i](absl::StatusOr<std::optional<v1::Row>> row) {
          if (!row.ok() || !row->has_value() ||
              (*row)->families(0).columns(0).cells(0).value() !=
                  absl::StrCat("v", i)) {
            ++failures;
          }
          read.DecrementCount();
        });
  }
  read.Wait();
  EXPECT_EQ(failures.load(), 0);
}

TEST(AsyncClientSilentStoreTest, AttemptsEndAtTheirDeadline) {
  SilentListener silent;
  ASSERT_NE(silent.port(), 0);
  ClientOptions options;
  options.attempt_timeout = absl::Milliseconds(100);
  options.overall_timeout = absl::Milliseconds(350);
  auto client = MakeClient(silent.port(), options);
  ASSERT_NE(client, nullptr);
  Result<absl::StatusOr<bool>> once;  // not idempotent: one attempt
  client->AsyncCheckAndMutateRow("t", "r", std::nullopt, {}, {},
                                 once.Callback());
  EXPECT_EQ(once.Get().status().code(), absl::StatusCode::kDeadlineExceeded);
  Result<absl::StatusOr<std::optional<v1::Row>>> retried;
  client->AsyncReadRow("t", "r", std::nullopt, retried.Callback());
  EXPECT_EQ(retried.Get().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(retried.Get().status().message(), HasSubstr("overall timeout"));
}

TEST(AsyncClientSilentStoreTest, AQueuedCallEndsAtItsDeadline) {
  SilentListener silent;
  ASSERT_NE(silent.port(), 0);
  ClientOptions options;
  options.pool_size = 1;
  options.attempt_timeout = absl::Milliseconds(200);
  options.overall_timeout = absl::Milliseconds(200);
  auto client = MakeClient(silent.port(), options);
  ASSERT_NE(client, nullptr);
  Result<absl::StatusOr<bool>> first, queued;
  client->AsyncCheckAndMutateRow("t", "a", std::nullopt, {}, {},
                                 first.Callback());
  client->AsyncCheckAndMutateRow("t", "b", std::nullopt, {}, {},
                                 queued.Callback());
  EXPECT_EQ(first.Get().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(queued.Get().status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(AsyncClientSilentStoreTest, DestroyingTheClientEndsCallsInFlight) {
  SilentListener silent;
  ASSERT_NE(silent.port(), 0);
  ClientOptions options;
  options.pool_size = 2;  // two calls sent, the others queued
  auto client = MakeClient(silent.port(), options);
  ASSERT_NE(client, nullptr);
  constexpr int kCalls = 5;
  std::vector<Result<absl::StatusOr<std::optional<v1::Row>>>> results(kCalls);
  for (auto& result : results) {
    client->AsyncReadRow("t", "r", std::nullopt, result.Callback());
  }
  client.reset();  // every callback has run when this returns
  for (auto& result : results) {
    EXPECT_EQ(result.Get().status().code(), absl::StatusCode::kCancelled);
  }
}

TEST(AsyncClientSilentStoreTest, CancelAsyncCallsEndsCallsInFlight) {
  SilentListener silent;
  ASSERT_NE(silent.port(), 0);
  auto client = MakeClient(silent.port());
  ASSERT_NE(client, nullptr);
  Result<absl::StatusOr<std::optional<v1::Row>>> read;
  Result<absl::StatusOr<bool>> conditional;
  client->AsyncReadRow("t", "r", std::nullopt, read.Callback());
  client->AsyncCheckAndMutateRow("t", "r", std::nullopt, {}, {},
                                 conditional.Callback());
  client->CancelAsyncCalls();  // the silent store would hold them for 30 s
  EXPECT_EQ(read.Get().status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(conditional.Get().status().code(), absl::StatusCode::kCancelled);
  Result<absl::Status> later;
  client->AsyncMutateRow("t", "r", {}, later.Callback());
  EXPECT_EQ(later.Get().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace kvstore
