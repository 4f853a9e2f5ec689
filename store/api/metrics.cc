#include "store/api/metrics.h"

#include "absl/strings/str_cat.h"

namespace kvstore::store {

absl::string_view RouteName(Route route) {
  switch (route) {
    case Route::kSeedGet:
      return "/get";
    case Route::kSeedSet:
      return "/set";
    case Route::kHealthz:
      return "/healthz";
    case Route::kReadyz:
      return "/readyz";
    case Route::kMetrics:
      return "/metrics";
    case Route::kTables:
      return "/v1/tables";
    case Route::kMutateRow:
      return ":mutateRow";
    case Route::kReadRows:
      return ":readRows";
    case Route::kMutateRows:
      return ":mutateRows";
    case Route::kCheckAndMutateRow:
      return ":checkAndMutateRow";
    case Route::kReadModifyWriteRow:
      return ":readModifyWriteRow";
    case Route::kSampleRowKeys:
      return ":sampleRowKeys";
    case Route::kOther:
      return "other";
    case Route::kErrorInjection:
      return "error_injection";
    case Route::kInvalid:
      return "invalid";
    case Route::kCount:
      break;
  }
  return "unknown";
}

void Metrics::RecordRequest(Route route, int http_status,
                            absl::Duration latency) {
  RouteCounters& r = routes_[static_cast<size_t>(route)];
  int slot = http_status >= 100 && http_status < kStatusSlots ? http_status : 0;
  r.by_status[slot].fetch_add(1, std::memory_order_relaxed);
  int64_t micros = absl::ToInt64Microseconds(latency);
  size_t bucket = 0;
  while (bucket < kLatencyBucketsMicros.size() &&
         micros > kLatencyBucketsMicros[bucket]) {
    ++bucket;
  }
  r.latency_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  r.latency_sum_micros.fetch_add(static_cast<uint64_t>(micros),
                                 std::memory_order_relaxed);
}

uint64_t Metrics::requests(Route route, int http_status) const {
  if (http_status < 0 || http_status >= kStatusSlots) return 0;
  return routes_[static_cast<size_t>(route)].by_status[http_status].load(
      std::memory_order_relaxed);
}

std::string Metrics::RenderPrometheus(const EngineStats& storage) const {
  std::string out;
  AppendRequestCounts(&out);
  AppendLatencies(&out);
  AppendConnections(&out);
  AppendStorage(storage, &out);
  return out;
}

void Metrics::AppendRequestCounts(std::string* out) const {
  absl::StrAppend(
      out,
      "# HELP kvstore_http_requests_total HTTP requests answered, by route and "
      "status.\n# TYPE kvstore_http_requests_total counter\n");
  for (size_t i = 0; i < kRoutes; ++i) {
    absl::string_view name = RouteName(static_cast<Route>(i));
    for (int status = 0; status < kStatusSlots; ++status) {
      uint64_t n = routes_[i].by_status[status].load(std::memory_order_relaxed);
      if (n == 0) continue;
      absl::StrAppend(out, "kvstore_http_requests_total{route=\"", name,
                      "\",status=\"", status, "\"} ", n, "\n");
    }
  }
}

void Metrics::AppendLatencies(std::string* out) const {
  absl::StrAppend(out,
                  "# HELP kvstore_http_request_duration_seconds Time from a "
                  "request being read "
                  "to its response being queued.\n"
                  "# TYPE kvstore_http_request_duration_seconds histogram\n");
  for (size_t i = 0; i < kRoutes; ++i) {
    const RouteCounters& r = routes_[i];
    uint64_t cumulative = 0;
    absl::string_view name = RouteName(static_cast<Route>(i));
    for (size_t b = 0; b <= kLatencyBucketsMicros.size(); ++b) {
      cumulative += r.latency_buckets[b].load(std::memory_order_relaxed);
    }
    if (cumulative == 0) continue;
    cumulative = 0;
    for (size_t b = 0; b <= kLatencyBucketsMicros.size(); ++b) {
      cumulative += r.latency_buckets[b].load(std::memory_order_relaxed);
      std::string le =
          b < kLatencyBucketsMicros.size()
              ? absl::StrCat(static_cast<double>(kLatencyBucketsMicros[b]) /
                             1e6)
              : "+Inf";
      absl::StrAppend(out,
                      "kvstore_http_request_duration_seconds_bucket{route=\"",
                      name, "\",le=\"", le, "\"} ", cumulative, "\n");
    }
    absl::StrAppend(
        out, "kvstore_http_request_duration_seconds_sum{route=\"", name, "\"} ",
        static_cast<double>(
            r.latency_sum_micros.load(std::memory_order_relaxed)) /
            1e6,
        "\n", "kvstore_http_request_duration_seconds_count{route=\"", name,
        "\"} ", cumulative, "\n");
  }
}

void Metrics::AppendConnections(std::string* out) const {
  absl::StrAppend(
      out,
      "# HELP kvstore_http_open_connections Client connections open now.\n"
      "# TYPE kvstore_http_open_connections "
      "gauge\nkvstore_http_open_connections ",
      open_connections(), "\n",
      "# HELP kvstore_http_rejected_connections_total Connections refused at "
      "the limit.\n"
      "# TYPE kvstore_http_rejected_connections_total counter\n"
      "kvstore_http_rejected_connections_total ",
      rejected_connections_.load(std::memory_order_relaxed), "\n",
      "# HELP kvstore_http_accept_shortages_total Accepts that failed for want "
      "of file descriptors or memory.\n"
      "# TYPE kvstore_http_accept_shortages_total counter\n"
      "kvstore_http_accept_shortages_total ",
      accept_shortages_.load(std::memory_order_relaxed), "\n");
}

void Metrics::AppendStorage(const EngineStats& storage, std::string* out) {
  absl::StrAppend(
      out,
      "# HELP kvstore_storage_estimated_keys RocksDB's estimate of stored "
      "cells.\n"
      "# TYPE kvstore_storage_estimated_keys "
      "gauge\nkvstore_storage_estimated_keys ",
      storage.estimated_keys, "\n",
      "# HELP kvstore_storage_sst_bytes Bytes in live SST files.\n"
      "# TYPE kvstore_storage_sst_bytes gauge\nkvstore_storage_sst_bytes ",
      storage.live_sst_bytes, "\n",
      "# HELP kvstore_storage_memtable_bytes Bytes in memtables.\n"
      "# TYPE kvstore_storage_memtable_bytes "
      "gauge\nkvstore_storage_memtable_bytes ",
      storage.memtable_bytes, "\n",
      "# HELP kvstore_storage_background_jobs Flushes and compactions running "
      "or due.\n"
      "# TYPE kvstore_storage_background_jobs gauge\n"
      "kvstore_storage_background_jobs ",
      storage.background_jobs, "\n",
      "# HELP kvstore_storage_writes_total Row writes acknowledged.\n"
      "# TYPE kvstore_storage_writes_total "
      "counter\nkvstore_storage_writes_total ",
      storage.writes_committed, "\n",
      "# HELP kvstore_storage_wal_syncs_total Write-ahead log fsyncs (shared "
      "by grouped "
      "writes).\n# TYPE kvstore_storage_wal_syncs_total counter\n"
      "kvstore_storage_wal_syncs_total ",
      storage.wal_syncs, "\n",
      "# HELP kvstore_storage_wal_flushes_total Write-ahead log buffer "
      "flushes to the OS (one per I/O-loop turn with writes, without "
      "--fsync=always).\n# TYPE kvstore_storage_wal_flushes_total counter\n"
      "kvstore_storage_wal_flushes_total ",
      storage.wal_flushes, "\n",
      "# HELP kvstore_storage_writes_refused 1 while writes are refused (a "
      "full disk or another storage failure), else 0.\n"
      "# TYPE kvstore_storage_writes_refused gauge\n"
      "kvstore_storage_writes_refused ",
      storage.writes_refused ? 1 : 0, "\n",
      "# HELP kvstore_storage_refused_writes_total Writes failed because "
      "writes were refused.\n"
      "# TYPE kvstore_storage_refused_writes_total counter\n"
      "kvstore_storage_refused_writes_total ",
      storage.refused_writes, "\n",
      "# HELP kvstore_storage_write_recoveries_total Refusals that ended "
      "without a restart.\n"
      "# TYPE kvstore_storage_write_recoveries_total counter\n"
      "kvstore_storage_write_recoveries_total ",
      storage.write_recoveries, "\n",
      "# HELP kvstore_row_cache_hits_total One-row reads served by the row "
      "cache.\n# TYPE kvstore_row_cache_hits_total counter\n"
      "kvstore_row_cache_hits_total ",
      storage.row_cache_hits, "\n",
      "# HELP kvstore_row_cache_misses_total One-row reads that went to "
      "storage.\n# TYPE kvstore_row_cache_misses_total counter\n"
      "kvstore_row_cache_misses_total ",
      storage.row_cache_misses, "\n",
      "# HELP kvstore_row_cache_bytes Bytes charged to cached rows.\n"
      "# TYPE kvstore_row_cache_bytes gauge\nkvstore_row_cache_bytes ",
      storage.row_cache_bytes, "\n");
}

}  // namespace kvstore::store
