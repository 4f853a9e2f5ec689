#include "store/api/metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kvstore::store {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, CountsByRouteAndStatus) {
  Metrics metrics;
  metrics.RecordRequest(Route::kSeedGet, 200, absl::Microseconds(70));
  metrics.RecordRequest(Route::kSeedGet, 200, absl::Microseconds(30));
  metrics.RecordRequest(Route::kSeedGet, 404, absl::Milliseconds(2));
  EXPECT_EQ(metrics.requests(Route::kSeedGet, 200), 2u);
  EXPECT_EQ(metrics.requests(Route::kSeedGet, 404), 1u);
  EXPECT_EQ(metrics.requests(Route::kSeedSet, 200), 0u);
  std::string text = metrics.RenderPrometheus(EngineStats{});
  EXPECT_THAT(
      text,
      HasSubstr(
          "kvstore_http_requests_total{route=\"/get\",status=\"200\"} 2\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "kvstore_http_requests_total{route=\"/get\",status=\"404\"} 1\n"));
  // Cumulative buckets: 1 request <= 50us, 2 <= 100us, all 3 in +Inf.
  EXPECT_THAT(text, HasSubstr("_bucket{route=\"/get\",le=\"5e-05\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("_bucket{route=\"/get\",le=\"0.0001\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("_bucket{route=\"/get\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "kvstore_http_request_duration_seconds_count{route=\"/get\"} 3\n"));
}

TEST(MetricsTest, ConnectionsAndStorage) {
  Metrics metrics;
  metrics.ConnectionOpened();
  metrics.ConnectionOpened();
  metrics.ConnectionClosed();
  metrics.ConnectionRejected();
  EngineStats stats;
  stats.writes_committed = 12;
  stats.wal_syncs = 3;
  stats.wal_flushes = 5;
  stats.row_cache_hits = 7;
  stats.row_cache_misses = 2;
  stats.row_cache_bytes = 4096;
  std::string text = metrics.RenderPrometheus(stats);
  EXPECT_THAT(text, HasSubstr("kvstore_http_open_connections 1\n"));
  EXPECT_THAT(text, HasSubstr("kvstore_http_rejected_connections_total 1\n"));
  EXPECT_THAT(text, HasSubstr("kvstore_storage_writes_total 12\n"));
  EXPECT_THAT(text, HasSubstr("kvstore_storage_wal_syncs_total 3\n"));
  EXPECT_THAT(text, HasSubstr("kvstore_storage_wal_flushes_total 5\n"));
  EXPECT_THAT(text, HasSubstr("kvstore_row_cache_hits_total 7\n"));
  EXPECT_THAT(text, HasSubstr("kvstore_row_cache_misses_total 2\n"));
  EXPECT_THAT(text, HasSubstr("kvstore_row_cache_bytes 4096\n"));
}

TEST(MetricsTest, OutOfRangeStatusIsCountedAsZero) {
  Metrics metrics;
  metrics.RecordRequest(Route::kOther, 999, absl::ZeroDuration());
  EXPECT_EQ(metrics.requests(Route::kOther, 0), 1u);
}

}  // namespace
}  // namespace kvstore::store
