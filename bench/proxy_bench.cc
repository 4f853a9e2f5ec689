// kvstore_proxy_bench (issue "client, proxy, conformance", point 11): in one
// run, ReadRow and MutateRow made directly with kvstore::Client and through the
// test proxy, at 1 and 16 concurrent callers, and a no-op gRPC call (the
// health service's Check) on the proxy's server as the ceiling. Prints one
// table with throughput, median and p99 latency, and the two target ratios.
//
// Usage: kvstore_proxy_bench --store=127.0.0.1:P --proxy=127.0.0.1:Q
//        [--seconds=3]   (bench/proxy_bench.sh starts both and runs this)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "kvstore/testproxy/v1/test_proxy.grpc.pb.h"

ABSL_FLAG(std::string, store, "127.0.0.1:4000", "kvstore_server address");
ABSL_FLAG(std::string, proxy, "127.0.0.1:9999", "kvstore_test_proxy address");
ABSL_FLAG(int, seconds, 3, "Duration of each measurement");

namespace {

namespace tpv1 = kvstore::testproxy::v1;
constexpr int kKeys = 1000;

struct Result {
  double rps = 0;
  double median_us = 0;
  double p99_us = 0;
  int errors = 0;
};

// Runs `call(thread, i)` from `callers` threads for `seconds`; a call returns
// false on error.
Result Measure(int callers, int seconds,
               const std::function<bool(int, int)>& call) {
  std::vector<std::vector<double>> latencies(static_cast<size_t>(callers));
  std::atomic<int> errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < callers; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = latencies[static_cast<size_t>(t)];
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        auto before = std::chrono::steady_clock::now();
        if (!call(t, i)) ++errors;
        mine.push_back(std::chrono::duration<double, std::micro>(
                           std::chrono::steady_clock::now() - before)
                           .count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Result r;
  r.errors = errors.load();
  if (all.empty()) return r;
  r.rps = static_cast<double>(all.size()) / elapsed;
  r.median_us = all[all.size() / 2];
  r.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  return r;
}

std::string Key(int t, int i) {
  return absl::StrCat("k", (t * 7919 + i) % kKeys);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Debian's abseil is built with its debug checks on: every Mutex lock (gRPC
  // takes many) would consult a global lock graph.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const int seconds = absl::GetFlag(FLAGS_seconds);

  kvstore::ClientOptions options;
  options.endpoint = absl::GetFlag(FLAGS_store);
  options.pool_size = 16;
  auto direct = kvstore::Client::Create(options);
  if (!direct.ok()) {
    std::fprintf(stderr, "%s\n", direct.status().ToString().c_str());
    return 1;
  }
  for (int i = 0; i < kKeys; ++i) {
    if (!(*direct)
             ->MutateRow("default", absl::StrCat("k", i),
                         {kvstore::SetCell("cf", "", std::string(100, 'v'))})
             .ok()) {
      std::fprintf(stderr, "preload failed\n");
      return 1;
    }
  }

  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_proxy),
                                     grpc::InsecureChannelCredentials());
  auto stub = tpv1::TestProxy::NewStub(channel);
  {
    tpv1::CreateClientRequest create;
    create.set_client_id("bench");
    create.set_data_target(options.endpoint);
    create.set_pool_size(16);
    tpv1::CreateClientResponse created;
    grpc::ClientContext context;
    grpc::Status status = stub->CreateClient(&context, create, &created);
    if (!status.ok()) {
      std::fprintf(stderr, "CreateClient: %s\n",
                   status.error_message().c_str());
      return 1;
    }
  }

  auto direct_read = [&](int t, int i) {
    auto row = (*direct)->ReadRow("default", Key(t, i));
    return row.ok() && row->has_value();
  };
  auto direct_mutate = [&](int t, int i) {
    return (*direct)
        ->MutateRow("default", Key(t, i),
                    {kvstore::SetCell("cf", "", std::string(100, 'w'))})
        .ok();
  };
  auto proxy_read = [&](int t, int i) {
    tpv1::ReadRowRequest request;
    request.set_client_id("bench");
    request.set_table_name("default");
    request.set_row_key(Key(t, i));
    tpv1::RowResult result;
    grpc::ClientContext context;
    return stub->ReadRow(&context, request, &result).ok() &&
           result.status().code() == 0 && result.has_row();
  };
  auto proxy_mutate = [&](int t, int i) {
    tpv1::MutateRowRequest request;
    request.set_client_id("bench");
    request.set_table_name("default");
    request.mutable_request()->set_row_key(Key(t, i));
    *request.mutable_request()->add_mutations() =
        kvstore::SetCell("cf", "", std::string(100, 'w'));
    tpv1::MutateRowResult result;
    grpc::ClientContext context;
    return stub->MutateRow(&context, request, &result).ok() &&
           result.status().code() == 0;
  };
  const grpc::internal::RpcMethod health_check(
      "/grpc.health.v1.Health/Check", grpc::internal::RpcMethod::NORMAL_RPC);
  auto noop = [&](int, int) {
    grpc::Slice empty("");  // HealthCheckRequest{} serializes to no bytes
    grpc::ByteBuffer request(&empty, 1), response;
    grpc::ClientContext context;
    return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer,
                                             grpc::ByteBuffer>(
               channel.get(), health_check, &context, request, &response)
        .ok();
  };

  struct Row {
    std::string label;
    int callers;
    Result direct, proxy;
  };
  std::vector<Row> rows;
  int errors = 0;
  for (int callers : {1, 16}) {
    // Interleaved, so drift on this noisy machine hits both alike.
    Row read{"ReadRow", callers, Measure(callers, seconds, direct_read),
             Measure(callers, seconds, proxy_read)};
    Row mutate{"MutateRow", callers, Measure(callers, seconds, direct_mutate),
               Measure(callers, seconds, proxy_mutate)};
    Row ceiling{"no-op gRPC (health Check)", callers, Result{},
                Measure(callers, seconds, noop)};
    for (const Row* r : {&read, &mutate, &ceiling}) {
      errors += r->direct.errors + r->proxy.errors;
    }
    rows.push_back(read);
    rows.push_back(mutate);
    rows.push_back(ceiling);
  }

  std::printf(
      "| call | callers | direct req/s (median / p99 us) | proxy req/s (median "
      "/ "
      "p99 us) | proxy/direct | added median us "
      "|\n|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    std::string direct_cell =
        r.direct.rps > 0 ? absl::StrFormat("%.0f (%.0f / %.0f)", r.direct.rps,
                                           r.direct.median_us, r.direct.p99_us)
                         : "-";
    std::string ratio =
        r.direct.rps > 0 ? absl::StrFormat("%.2f", r.proxy.rps / r.direct.rps)
                         : "-";
    std::string added =
        r.direct.rps > 0
            ? absl::StrFormat("%.0f", r.proxy.median_us - r.direct.median_us)
            : "-";
    std::printf("| %s | %d | %s | %.0f (%.0f / %.0f) | %s | %s |\n",
                r.label.c_str(), r.callers, direct_cell.c_str(), r.proxy.rps,
                r.proxy.median_us, r.proxy.p99_us, ratio.c_str(),
                added.c_str());
  }
  std::printf(
      "targets: proxy/direct >= 0.6 at 16 callers; added median latency <= 150 "
      "us at 1 caller\nerrors: %d\n",
      errors);
  return errors == 0 ? 0 : 1;
}
