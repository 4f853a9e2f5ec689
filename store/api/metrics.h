// Server metrics, rendered in the Prometheus text exposition format on
// /metrics.
//
// Counters are relaxed atomics: recording is lock-free and costs a few
// increments, so it sits on every request's path. Thread-safe; one Metrics
// object lives as long as the server.
#ifndef KVSTORE_STORE_API_METRICS_H_
#define KVSTORE_STORE_API_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "store/http/http_server.h"
#include "store/storage/engine.h"

namespace kvstore::store {

// The routes requests are counted by.
enum class Route {
  kSeedGet,
  kSeedSet,
  kHealthz,
  kReadyz,
  kMetrics,
  kTables,              // /v1/tables and /v1/tables/{table}: administration
  kMutateRow,           // /v1/tables/{table}:mutateRow
  kReadRows,            // /v1/tables/{table}:readRows
  kMutateRows,          // /v1/tables/{table}:mutateRows
  kCheckAndMutateRow,   // /v1/tables/{table}:checkAndMutateRow
  kReadModifyWriteRow,  // /v1/tables/{table}:readModifyWriteRow
  kSampleRowKeys,       // /v1/tables/{table}:sampleRowKeys
  kErrorInjection,      // /v2/error_injection/...
  kOther,               // a path the server does not serve
  kInvalid,             // a request that could not be parsed or broke a limit
  kCount,               // number of routes; not a route
};
absl::string_view RouteName(Route route);

class Metrics final : public HttpObserver {
 public:
  // Upper bounds of the latency histogram's buckets, in microseconds (+Inf is
  // implicit).
  static constexpr std::array<int64_t, 14> kLatencyBucketsMicros = {
      50,    100,   250,   500,    1000,   2500,   5000,
      10000, 25000, 50000, 100000, 250000, 500000, 1000000};

  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Counts one answered request. `http_status` outside 100..599 is counted as
  // 0.
  void RecordRequest(Route route, int http_status, absl::Duration latency);
  void ConnectionOpened() override {
    open_connections_.fetch_add(1, std::memory_order_relaxed);
  }
  void ConnectionClosed() override {
    open_connections_.fetch_sub(1, std::memory_order_relaxed);
  }
  void ConnectionRejected() override {
    rejected_connections_.fetch_add(1, std::memory_order_relaxed);
  }
  void AcceptShortage() override {
    accept_shortages_.fetch_add(1, std::memory_order_relaxed);
  }
  // Counted under Route::kInvalid.
  void RequestRefused(int http_status, absl::Duration latency) override {
    RecordRequest(Route::kInvalid, http_status, latency);
  }

  int64_t open_connections() const {
    return open_connections_.load(std::memory_order_relaxed);
  }
  uint64_t requests(Route route, int http_status) const;

  // The whole exposition text, with the storage figures appended.
  std::string RenderPrometheus(const EngineStats& storage) const;

 private:
  // The parts of RenderPrometheus, in order.
  void AppendRequestCounts(std::string* out) const;
  void AppendLatencies(std::string* out) const;
  void AppendConnections(std::string* out) const;
  static void AppendStorage(const EngineStats& storage, std::string* out);

  static constexpr int kStatusSlots = 600;
  static constexpr size_t kRoutes = static_cast<size_t>(Route::kCount);

  struct RouteCounters {
    std::array<std::atomic<uint64_t>, kStatusSlots> by_status{};
    std::array<std::atomic<uint64_t>, kLatencyBucketsMicros.size() + 1>
        latency_buckets{};
    std::atomic<uint64_t> latency_sum_micros{0};
  };

  std::array<RouteCounters, kRoutes> routes_{};
  std::atomic<int64_t> open_connections_{0};
  std::atomic<uint64_t> rejected_connections_{0};
  std::atomic<uint64_t> accept_shortages_{0};
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_METRICS_H_
