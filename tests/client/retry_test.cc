// kvstore::Client's retries, resumption and Close() against a scripted fake
// transport, with sleeping and jitter injected (no real waiting), plus the pure
// rules of retry_rules.h.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "client/builders.h"
#include "client/client.h"
#include "client/retry_rules.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_transport.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::StatusCode kUnavailable = absl::StatusCode::kUnavailable;

ScriptedResponse Unavailable503(
    std::optional<absl::Duration> retry_after = std::nullopt) {
  ScriptedResponse r;
  r.http_status = 503;
  r.pieces = {StatusBody(kUnavailable, "injected")};
  r.retry_after = retry_after;
  return r;
}

ScriptedResponse Ok(std::string body = "") {
  ScriptedResponse r;
  r.pieces = {std::move(body)};
  return r;
}

class RetryTest : public ::testing::Test {
 protected:
  Client& Make(std::vector<ScriptedResponse> script,
               ClientOptions options = ClientOptions()) {
    options.sleep = [this](absl::Duration d) { sleeps_.push_back(d); };
    options.jitter = [this] { return jitter_; };  // 0: waits are backoff / 2
    auto transport = std::make_unique<FakeTransport>(std::move(script));
    transport_ = transport.get();
    auto client = Client::CreateWithTransport(options, std::move(transport));
    EXPECT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    return *client_;
  }

  double jitter_ = 0.0;
  std::vector<absl::Duration> sleeps_;
  FakeTransport* transport_ = nullptr;
  std::unique_ptr<Client> client_;
};

TEST_F(RetryTest, TransientErrorsAreRetriedWithGrowingBackoff) {
  Client& client =
      Make({Unavailable503(), Unavailable503(), Unavailable503(), Ok()});
  EXPECT_THAT(client.MutateRow("t", "r", {SetCell("f", "q", "v", 5)}), IsOk());
  EXPECT_EQ(transport_->requests().size(), 4u);
  // initial 10ms, x2 each time, half of it with jitter 0.
  EXPECT_THAT(sleeps_,
              ElementsAre(absl::Milliseconds(5), absl::Milliseconds(10),
                          absl::Milliseconds(20)));
}

TEST_F(RetryTest, BackoffStopsGrowingAtItsMaximum) {
  ClientOptions options;
  options.retry.max_backoff = absl::Milliseconds(30);
  Client& client = Make({Unavailable503(), Unavailable503(), Unavailable503(),
                         Unavailable503(), Ok()},
                        options);
  EXPECT_THAT(client.SampleRowKeys("t"), IsOk());
  EXPECT_THAT(sleeps_,
              ElementsAre(absl::Milliseconds(5), absl::Milliseconds(10),
                          absl::Milliseconds(15), absl::Milliseconds(15)));
}

TEST_F(RetryTest, JitterSpreadsTheWaitOverTheUpperHalf) {
  jitter_ = 0.999;
  Client& client = Make({Unavailable503(), Ok()});
  EXPECT_THAT(client.SampleRowKeys("t"), IsOk());
  ASSERT_EQ(sleeps_.size(), 1u);
  EXPECT_GT(sleeps_[0], absl::Microseconds(9900));
  EXPECT_LE(sleeps_[0], absl::Milliseconds(10));
}

TEST_F(RetryTest, RetryAfterIsHonoured) {
  Client& client = Make({Unavailable503(absl::Seconds(2)), Ok()});
  EXPECT_THAT(client.SampleRowKeys("t"), IsOk());
  ASSERT_EQ(sleeps_.size(), 1u);
  EXPECT_EQ(sleeps_[0], absl::Seconds(2));
}

TEST_F(RetryTest, NonIdempotentCallsAreNeverRetried) {
  Client& client = Make({Unavailable503(), Unavailable503(), Unavailable503()});
  EXPECT_EQ(client
                .CheckAndMutateRow("t", "r", std::nullopt,
                                   {SetCell("f", "q", "v", 1)}, {})
                .status()
                .code(),
            kUnavailable);
  EXPECT_EQ(client.ReadModifyWriteRow("t", "r", {IncrementBy("f", "q", 1)})
                .status()
                .code(),
            kUnavailable);
  // Server time: applying twice would write two cells.
  EXPECT_EQ(client.MutateRow("t", "r", {SetCell("f", "q", "v")}).code(),
            kUnavailable);
  EXPECT_EQ(transport_->requests().size(), 3u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(RetryTest, PermanentErrorsAreNotRetried) {
  ScriptedResponse missing;
  missing.http_status = 404;
  missing.pieces = {StatusBody(absl::StatusCode::kNotFound, "no table")};
  Client& client = Make({missing});
  EXPECT_EQ(client.SampleRowKeys("t").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(transport_->requests().size(), 1u);
}

TEST_F(RetryTest, RefusedConnectionsAreRetried) {
  ScriptedResponse refused;
  refused.pieces = {};
  refused.transport_error = absl::UnavailableError("connection refused");
  v1::SampleRowKeysResponse samples;
  samples.add_samples()->set_offset_bytes(7);
  Client& client = Make({refused, refused, Ok(samples.SerializeAsString())});
  absl::StatusOr<std::vector<RowKeySample>> got = client.SampleRowKeys("t");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->at(0).offset_bytes, 7);
}

TEST_F(RetryTest, MaxAttemptsEndsWithTheLastError) {
  ClientOptions options;
  options.retry.max_attempts = 2;
  Client& client = Make({Unavailable503(), Unavailable503(), Ok()}, options);
  EXPECT_EQ(client.SampleRowKeys("t").status().code(), kUnavailable);
  EXPECT_EQ(transport_->requests().size(), 2u);
}

TEST_F(RetryTest, TheOverallTimeoutEndsRetriesWithDeadlineExceeded) {
  ClientOptions options;
  options.overall_timeout = absl::Seconds(1);
  // A Retry-After past the overall deadline: no point in waiting for it.
  Client& client = Make({Unavailable503(absl::Seconds(5)), Ok()}, options);
  absl::Status status = client.SampleRowKeys("t").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(status.message()), HasSubstr("injected"));
  EXPECT_EQ(transport_->requests().size(), 1u);
}

TEST_F(RetryTest, ReadRowsResumesAfterTheLastDeliveredRow) {
  ScriptedResponse cut;  // two rows, then the connection breaks
  cut.pieces = {RowMessage("a", "1") + RowMessage("b", "2")};
  cut.transport_error = absl::UnavailableError("connection reset");
  ScriptedResponse rest;
  rest.pieces = {RowMessage("c", "3") +
                 StatusMessage(absl::StatusCode::kOk, "")};
  Client& client = Make({cut, rest});
  std::vector<std::string> keys;
  ReadRowsQuery query;
  query.rows_limit = 10;
  ASSERT_TRUE(client
                  .ReadRows("t", query,
                            [&](v1::Row row) {
                              keys.push_back(row.key());
                              return true;
                            })
                  .ok());
  EXPECT_THAT(keys, ElementsAre("a", "b", "c"));
  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 2u);
  v1::ReadRowsRequest resumed;
  ASSERT_TRUE(resumed.ParseFromString(requests[1].body));
  ASSERT_EQ(resumed.rows().row_ranges_size(), 1);
  EXPECT_EQ(resumed.rows().row_ranges(0).start_open(), "b");
  EXPECT_EQ(resumed.rows_limit(), 8);  // 10 minus the 2 delivered
}

TEST_F(RetryTest, ReversedReadRowsResumesBeforeTheLastRow) {
  ScriptedResponse cut;  // an in-band UNAVAILABLE ends the first stream
  cut.pieces = {RowMessage("z", "1") + StatusMessage(kUnavailable, "cut")};
  ScriptedResponse rest;
  rest.pieces = {RowMessage("y", "2") +
                 StatusMessage(absl::StatusCode::kOk, "")};
  Client& client = Make({cut, rest});
  std::vector<std::string> keys;
  ReadRowsQuery query;
  query.reversed = true;
  ASSERT_TRUE(client
                  .ReadRows("t", query,
                            [&](v1::Row row) {
                              keys.push_back(row.key());
                              return true;
                            })
                  .ok());
  EXPECT_THAT(keys, ElementsAre("z", "y"));
  v1::ReadRowsRequest resumed;
  ASSERT_TRUE(resumed.ParseFromString(transport_->requests().at(1).body));
  EXPECT_EQ(resumed.rows().row_ranges(0).end_open(), "z");
  EXPECT_TRUE(resumed.reversed());
}

TEST_F(RetryTest, MutateRowsRetriesOnlyItsTransientlyFailedEntries) {
  v1::MutateRowsResponse first;
  const absl::StatusCode codes[] = {absl::StatusCode::kOk, kUnavailable,
                                    absl::StatusCode::kInvalidArgument,
                                    kUnavailable};
  for (int i = 0; i < 4; ++i) {
    auto* e = first.add_entries();
    e->set_index(i);
    e->mutable_status()->set_code(static_cast<int>(codes[i]));
  }
  v1::MutateRowsResponse second;  // indexes into the retried request
  second.add_entries()->set_index(0);
  Client& client =
      Make({Ok(first.SerializeAsString()), Ok(second.SerializeAsString())});
  std::vector<BulkEntry> entries;
  entries.push_back({"a", {SetCell("f", "q", "v", 1)}});
  entries.push_back({"b", {SetCell("f", "q", "v", 1)}});
  entries.push_back({"c", {SetCell("f", "q", "v", 1)}});
  entries.push_back({"d", {SetCell("f", "q", "v")}});  // server time: no retry
  absl::StatusOr<std::vector<absl::Status>> results =
      client.MutateRows("t", std::move(entries));
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT((*results)[0], IsOk());
  EXPECT_THAT((*results)[1], IsOk());
  EXPECT_EQ((*results)[2].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*results)[3].code(), kUnavailable);
  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 2u);
  v1::MutateRowsRequest retried;
  ASSERT_TRUE(retried.ParseFromString(requests[1].body));
  ASSERT_EQ(retried.entries_size(), 1);
  EXPECT_EQ(retried.entries(0).row_key(), "b");
}

TEST_F(RetryTest, AFailedBulkOfServerTimeEntriesIsNotResentEmpty) {
  Client& client = Make({Unavailable503(), Ok()});
  std::vector<BulkEntry> entries;
  entries.push_back({"a", {SetCell("f", "q", "v")}});  // server time
  entries.push_back({"b", {SetCell("f", "q", "v")}});
  absl::StatusOr<std::vector<absl::Status>> results =
      client.MutateRows("t", std::move(entries));
  EXPECT_EQ(results.status().code(), kUnavailable);
  EXPECT_EQ(transport_->requests().size(), 1u);
}

TEST_F(RetryTest, AFinalStatusWinsOverALaterBrokenConnection) {
  ScriptedResponse done;  // the whole stream, then the connection breaks
  done.pieces = {RowMessage("a", "1") +
                 StatusMessage(absl::StatusCode::kOk, "")};
  done.transport_error = absl::UnavailableError("reset after the last byte");
  Client& client = Make({done});
  int rows = 0;
  EXPECT_TRUE(client
                  .ReadRows("t", ReadRowsQuery{},
                            [&](v1::Row) {
                              ++rows;
                              return true;
                            })
                  .ok());
  EXPECT_EQ(rows, 1);
  EXPECT_EQ(transport_->requests().size(), 1u);  // no resume
}

TEST_F(RetryTest, CloseRejectsNewCalls) {
  Client& client = Make({Ok()});
  client.Close();
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(client.MutateRow("t", "r", {DeleteFromRow()}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client.ReadRow("t", "r").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client.MutateRows("t", {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(transport_->requests().empty());
}

TEST(RetryRulesTest, ServerTimeSetCellsAreNotIdempotent) {
  EXPECT_TRUE(
      IdempotentMutations({SetCell("f", "q", "v", 0), DeleteFromRow()}));
  EXPECT_FALSE(IdempotentMutations({SetCell("f", "q", "v")}));
}

TEST(RetryRulesTest, RowSetAfterCutsKeysAndRanges) {
  v1::RowSet rows;
  rows.add_row_keys("a");
  rows.add_row_keys("m");
  v1::RowRange* r1 = rows.add_row_ranges();  // [c, f)
  r1->set_start_closed("c");
  r1->set_end_open("f");
  v1::RowRange* r2 = rows.add_row_ranges();  // (p, z]
  r2->set_start_open("p");
  r2->set_end_closed("z");

  std::optional<v1::RowSet> after = RowSetAfter(rows, "d", false);
  ASSERT_TRUE(after.has_value());
  EXPECT_THAT(after->row_keys(), ElementsAre("m"));
  ASSERT_EQ(after->row_ranges_size(), 2);
  EXPECT_EQ(after->row_ranges(0).start_open(), "d");  // (d, f)
  EXPECT_EQ(after->row_ranges(0).end_open(), "f");
  EXPECT_EQ(after->row_ranges(1).start_open(), "p");  // untouched

  std::optional<v1::RowSet> before = RowSetAfter(rows, "d", true);
  ASSERT_TRUE(before.has_value());
  EXPECT_THAT(before->row_keys(), ElementsAre("a"));
  ASSERT_EQ(before->row_ranges_size(), 1);
  EXPECT_EQ(before->row_ranges(0).start_closed(), "c");  // [c, d)
  EXPECT_EQ(before->row_ranges(0).end_open(), "d");

  EXPECT_FALSE(RowSetAfter(rows, "zz", false).has_value());  // nothing left
  EXPECT_FALSE(RowSetAfter(rows, "a", true).has_value());
}

TEST(RetryRulesTest, AnEmptyEndKeyMeansToTheLastRow) {
  v1::RowSet rows;
  v1::RowRange* open_end = rows.add_row_ranges();  // [a, "") = [a, end)
  open_end->set_start_closed("a");
  open_end->set_end_open("");
  std::optional<v1::RowSet> after = RowSetAfter(rows, "r13", false);
  ASSERT_TRUE(after.has_value());  // not dropped: rows after r13 remain
  EXPECT_EQ(after->row_ranges(0).start_open(), "r13");
  EXPECT_EQ(after->row_ranges(0).end_open(), "");
  std::optional<v1::RowSet> before = RowSetAfter(rows, "r13", true);
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->row_ranges(0).start_closed(), "a");
  EXPECT_EQ(before->row_ranges(0).end_open(), "r13");  // not to the end again
}

TEST(RetryRulesTest, AnEmptyRowSetResumesAsAnOpenRange) {
  std::optional<v1::RowSet> after = RowSetAfter(v1::RowSet(), "k", false);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->row_ranges(0).start_open(), "k");
  EXPECT_FALSE(after->row_ranges(0).has_end_open());
  std::optional<v1::RowSet> before = RowSetAfter(v1::RowSet(), "k", true);
  EXPECT_EQ(before->row_ranges(0).end_open(), "k");
}

TEST(RetryRulesTest, TransientCodes) {
  EXPECT_TRUE(IsTransient(absl::UnavailableError("")));
  EXPECT_TRUE(IsTransient(absl::DeadlineExceededError("")));
  EXPECT_FALSE(IsTransient(absl::InvalidArgumentError("")));
  EXPECT_FALSE(IsTransient(absl::OkStatus()));
}

}  // namespace
}  // namespace kvstore
