// kvstore_proxy_bench (issue "client, proxy, conformance", point 11): in one
// run, ReadRow and MutateRow made directly with kvstore::Client and through the
// test proxy, at 1 and 16 concurrent callers, and a no-op gRPC call (the
// health service's Check) on the proxy's server as the ceiling. Prints one
// table with throughput, median and p99 latency, and the two target ratios.
//
// Callers: direct calls come from one thread per caller (kvstore::Client is
// synchronous). Calls to the proxy come from one thread that keeps `callers`
// calls in flight with gRPC's async API, as a harness multiplexing on one
// channel would: the caller's own cost, which shares the 2 cores with the
// proxy, stays small. The same proxy calls from one blocking thread per caller
// are shown too, for comparison.
//
// Usage: kvstore_proxy_bench --store=127.0.0.1:P --proxy=127.0.0.1:Q
//        [--seconds=2] [--rounds=3]
//        (bench/proxy_bench.sh starts both and runs this)
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
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/async_unary_call.h"
#include "grpcpp/support/byte_buffer.h"
#include "kvstore/testproxy/v1/test_proxy.grpc.pb.h"

ABSL_FLAG(std::string, store, "127.0.0.1:4000", "kvstore_server address");
ABSL_FLAG(std::string, proxy, "127.0.0.1:9999", "kvstore_test_proxy address");
ABSL_FLAG(int, seconds, 2, "Duration of each measurement");
ABSL_FLAG(int, rounds, 3,
          "Rounds of every measurement; the table gives medians over them");
ABSL_FLAG(std::vector<std::string>, callers,
          std::vector<std::string>({"1", "16"}),
          "Concurrent caller counts to measure");
ABSL_FLAG(bool, blocking, true,
          "Also measure the proxy with one blocking thread per caller");

namespace {

namespace tpv1 = kvstore::testproxy::v1;
constexpr int kKeys = 1000;

struct Result {
  double rps = 0;
  double median_us = 0;
  double p99_us = 0;
  int errors = 0;
};

// The median of `values` (not empty).
double MedianOf(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Throughput and latency percentiles of `latencies` (us) over `seconds`.
Result Summarize(std::vector<double> latencies, double seconds, int errors) {
  std::sort(latencies.begin(), latencies.end());
  Result r;
  r.errors = errors;
  if (latencies.empty()) return r;
  r.rps = static_cast<double>(latencies.size()) / seconds;
  r.median_us = latencies[latencies.size() / 2];
  r.p99_us =
      latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  return r;
}

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
  return Summarize(std::move(all), elapsed, errors.load());
}

// Prepares (does not start) call `i` of caller `caller` on `cq`.
template <typename Response>
using AsyncCall =
    std::function<std::unique_ptr<grpc::ClientAsyncResponseReader<Response>>(
        int caller, int i, grpc::ClientContext*, grpc::CompletionQueue*)>;

// Keeps `callers` calls in flight from this thread, through gRPC's async API,
// for `seconds`; `ok` judges each answer.
template <typename Response>
Result MeasureAsync(int callers, int seconds,
                    const AsyncCall<Response>& prepare,
                    const std::function<bool(const Response&)>& ok) {
  struct InFlight {
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
    Response response;
    grpc::Status status;
    std::chrono::steady_clock::time_point started;
    int calls = 0;
  };
  grpc::CompletionQueue cq;
  std::vector<InFlight> slots(static_cast<size_t>(callers));
  auto start = [&](size_t s) {
    InFlight& slot = slots[s];
    slot.context = std::make_unique<grpc::ClientContext>();
    slot.response = Response();
    slot.started = std::chrono::steady_clock::now();
    slot.reader =
        prepare(static_cast<int>(s), slot.calls++, slot.context.get(), &cq);
    slot.reader->StartCall();
    slot.reader->Finish(&slot.response, &slot.status,
                        reinterpret_cast<void*>(s));
  };
  std::vector<double> all;
  int errors = 0;
  const auto begin = std::chrono::steady_clock::now();
  const auto end = begin + std::chrono::seconds(seconds);
  for (size_t s = 0; s < slots.size(); ++s) start(s);
  int in_flight = callers;
  void* tag = nullptr;
  bool finished = false;
  while (in_flight > 0 && cq.Next(&tag, &finished)) {
    const auto s = reinterpret_cast<size_t>(tag);
    const InFlight& slot = slots[s];
    const auto now = std::chrono::steady_clock::now();
    all.push_back(
        std::chrono::duration<double, std::micro>(now - slot.started).count());
    if (!finished || !slot.status.ok() || !ok(slot.response)) ++errors;
    if (now < end) {
      start(s);
    } else {
      --in_flight;
    }
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin)
          .count();
  return Summarize(std::move(all), elapsed, errors);
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
  if (seconds < 1 || absl::GetFlag(FLAGS_rounds) < 1) {
    std::fprintf(stderr, "--seconds and --rounds must be >= 1\n");
    return 2;
  }
  std::vector<int> caller_counts;
  for (const std::string& text : absl::GetFlag(FLAGS_callers)) {
    int n = 0;
    if (!absl::SimpleAtoi(text, &n) || n < 1) {
      std::fprintf(stderr, "--callers: '%s' is not a count >= 1\n",
                   text.c_str());
      return 2;
    }
    caller_counts.push_back(n);
  }
  const bool with_blocking = absl::GetFlag(FLAGS_blocking);

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
  auto read_request = [](int t, int i) {
    tpv1::ReadRowRequest request;
    request.set_client_id("bench");
    request.set_table_name("default");
    request.set_row_key(Key(t, i));
    return request;
  };
  auto mutate_request = [](int t, int i) {
    tpv1::MutateRowRequest request;
    request.set_client_id("bench");
    request.set_table_name("default");
    request.mutable_request()->set_row_key(Key(t, i));
    *request.mutable_request()->add_mutations() =
        kvstore::SetCell("cf", "", std::string(100, 'w'));
    return request;
  };
  std::function<bool(const tpv1::RowResult&)> read_ok =
      [](const tpv1::RowResult& result) {
        return result.status().code() == 0 && result.has_row();
      };
  std::function<bool(const tpv1::MutateRowResult&)> mutate_ok =
      [](const tpv1::MutateRowResult& result) {
        return result.status().code() == 0;
      };
  // One blocking thread per caller.
  auto proxy_read = [&](int t, int i) {
    tpv1::RowResult result;
    grpc::ClientContext context;
    return stub->ReadRow(&context, read_request(t, i), &result).ok() &&
           read_ok(result);
  };
  auto proxy_mutate = [&](int t, int i) {
    tpv1::MutateRowResult result;
    grpc::ClientContext context;
    return stub->MutateRow(&context, mutate_request(t, i), &result).ok() &&
           mutate_ok(result);
  };
  const std::string health_check = "/grpc.health.v1.Health/Check";
  const grpc::internal::RpcMethod health_check_method(
      health_check.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::GenericStub generic(channel);
  auto empty_request = [] {
    grpc::Slice empty("");  // HealthCheckRequest{} serializes to no bytes
    return grpc::ByteBuffer(&empty, 1);
  };
  auto noop = [&](int, int) {
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer,
                                             grpc::ByteBuffer>(
               channel.get(), health_check_method, &context, empty_request(),
               &response)
        .ok();
  };
  // Calls kept in flight from one thread.
  AsyncCall<tpv1::RowResult> async_read = [&](int t, int i,
                                              grpc::ClientContext* context,
                                              grpc::CompletionQueue* cq) {
    return stub->PrepareAsyncReadRow(context, read_request(t, i), cq);
  };
  AsyncCall<tpv1::MutateRowResult> async_mutate =
      [&](int t, int i, grpc::ClientContext* context,
          grpc::CompletionQueue* cq) {
        return stub->PrepareAsyncMutateRow(context, mutate_request(t, i), cq);
      };
  AsyncCall<grpc::ByteBuffer> async_noop = [&](int, int,
                                               grpc::ClientContext* context,
                                               grpc::CompletionQueue* cq) {
    return generic.PrepareUnaryCall(context, health_check, empty_request(), cq);
  };
  std::function<bool(const grpc::ByteBuffer&)> noop_ok =
      [](const grpc::ByteBuffer&) { return true; };

  // One table row as measured in one round.
  struct Row {
    std::string label;
    int callers;
    Result direct, proxy, blocking;  // proxy: async caller; blocking: threads
  };
  std::vector<std::vector<Row>> rounds;
  int errors = 0;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    std::vector<Row>& rows = rounds.emplace_back();
    for (int callers : caller_counts) {
      // Interleaved, so drift on this noisy machine hits all alike.
      auto threads = [&](const std::function<bool(int, int)>& call) {
        return with_blocking ? Measure(callers, seconds, call) : Result{};
      };
      rows.push_back({"ReadRow", callers,
                      Measure(callers, seconds, direct_read),
                      MeasureAsync(callers, seconds, async_read, read_ok),
                      threads(proxy_read)});
      rows.push_back({"MutateRow", callers,
                      Measure(callers, seconds, direct_mutate),
                      MeasureAsync(callers, seconds, async_mutate, mutate_ok),
                      threads(proxy_mutate)});
      rows.push_back({"no-op gRPC (health Check)", callers, Result{},
                      MeasureAsync(callers, seconds, async_noop, noop_ok),
                      threads(noop)});
    }
    for (const Row& r : rows) {
      errors += r.direct.errors + r.proxy.errors + r.blocking.errors;
    }
  }

  // Each cell: the median over the rounds. Ratios and added latency: the
  // median of the rounds' own, listed after it.
  std::printf(
      "| call | callers | direct req/s (median / p99 us) | proxy req/s (median "
      "/ p99 us) | proxy/direct (rounds) | added median us (rounds) | proxy, "
      "blocking caller threads: req/s (ratio) |\n"
      "|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < rounds[0].size(); ++i) {
    auto each = [&](auto field) {
      std::vector<double> values;
      for (const auto& rows : rounds) values.push_back(field(rows[i]));
      return values;
    };
    const Row& first = rounds[0][i];
    const bool has_direct = first.direct.rps > 0;
    auto cell = [&](auto result) {
      return absl::StrFormat(
          "%.0f (%.0f / %.0f)",
          MedianOf(each([&](const Row& r) { return result(r).rps; })),
          MedianOf(each([&](const Row& r) { return result(r).median_us; })),
          MedianOf(each([&](const Row& r) { return result(r).p99_us; })));
    };
    auto with_rounds = [](const std::vector<double>& values, int decimals) {
      std::string out =
          absl::StrFormat("%.*f", decimals, MedianOf(values)) + " (";
      for (size_t k = 0; k < values.size(); ++k) {
        out += absl::StrFormat("%.*f", decimals, values[k]);
        out += k + 1 < values.size() ? " " : ")";
      }
      return out;
    };
    std::string direct_cell =
        has_direct ? cell([](const Row& r) { return r.direct; }) : "-";
    std::string proxy_cell = cell([](const Row& r) { return r.proxy; });
    std::string ratio =
        has_direct
            ? with_rounds(
                  each([](const Row& r) { return r.proxy.rps / r.direct.rps; }),
                  2)
            : "-";
    std::string added = has_direct ? with_rounds(each([](const Row& r) {
                                                   return r.proxy.median_us -
                                                          r.direct.median_us;
                                                 }),
                                                 0)
                                   : "-";
    double blocking_rps =
        MedianOf(each([](const Row& r) { return r.blocking.rps; }));
    std::string blocking =
        !with_blocking ? "-"
        : has_direct   ? absl::StrFormat("%.0f (%.2f)", blocking_rps,
                                         MedianOf(each([](const Row& r) {
                                         return r.blocking.rps / r.direct.rps;
                                       })))
                       : absl::StrFormat("%.0f", blocking_rps);
    std::printf("| %s | %d | %s | %s | %s | %s | %s |\n", first.label.c_str(),
                first.callers, direct_cell.c_str(), proxy_cell.c_str(),
                ratio.c_str(), added.c_str(), blocking.c_str());
  }
  std::printf(
      "targets: proxy/direct >= 0.6 at 16 callers; added median latency <= 150 "
      "us at 1 caller\nerrors: %d\n",
      errors);
  return errors == 0 ? 0 : 1;
}
