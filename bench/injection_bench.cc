// Error-injection event latency: from a point firing in kvstore_server to a
// subscriber receiving the event, with --subscribers InjectionEventStreams
// subscribed at once. The store stamps each event (ts_us) when the point
// fires; each subscriber stamps it when parsed; both read this machine's
// clock. Prints p50 / p99 / max over every (event, subscriber) pair.
//
// Two kinds of subscriber: kvstore::InjectionEventStream (each with its own
// reader thread, as tests use it), and --raw: plain sockets read by one
// poll() loop, which leaves out the client library and shows the server's
// own delivery time.
//
// Usage: kvstore_injection_bench --store=127.0.0.1:PORT (run with
// --error_injection) [--events=2000] [--subscribers=10] [--raw]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/client.h"
#include "client/http_transport.h"
#include "client/injection_client.h"
#include "client/injection_event_stream.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

ABSL_FLAG(std::string, store, "127.0.0.1:4000", "kvstore_server ip:port");
ABSL_FLAG(int, events, 2000, "events to fire");
ABSL_FLAG(int, subscribers, 10, "event streams subscribed at once");
ABSL_FLAG(bool, raw, false,
          "subscribe with plain sockets read by one poll() loop instead of "
          "InjectionEventStream");

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "kvstore_injection_bench: %s\n", what.c_str());
  return 1;
}

// A subscriber on a plain socket: the raw SSE bytes, scanned for ts_us.
struct RawSubscriber {
  int fd = -1;
  std::string pending;
};

absl::StatusOr<RawSubscriber> RawSubscribe(const std::string& store) {
  std::string host;
  uint16_t port = 0;
  absl::Status parsed = kvstore::ParseEndpoint(store, &host, &port);
  if (!parsed.ok()) return parsed;
  RawSubscriber sub;
  sub.fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (connect(sub.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::UnavailableError("connect failed");
  }
  int one = 1;
  setsockopt(sub.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::string request =
      "GET /v2/error_injection/events?injection=request.parsed&phase=fired "
      "HTTP/1.1\r\nHost: x\r\n\r\n";
  if (send(sub.fd, request.data(), request.size(), 0) !=
      static_cast<ssize_t>(request.size())) {
    return absl::UnavailableError("send failed");
  }
  char buf[4096];
  while (sub.pending.find("event: hello") == std::string::npos) {
    ssize_t got = recv(sub.fd, buf, sizeof(buf), 0);
    if (got <= 0) return absl::UnavailableError("no hello");
    sub.pending.append(buf, static_cast<size_t>(got));
  }
  sub.pending.clear();
  return sub;
}

// Waits until every subscriber has received one more event; appends each
// one's latency (arrival minus the event's ts_us).
absl::Status AwaitRaw(std::vector<RawSubscriber>& subs,
                      std::vector<double>* latencies_us) {
  std::vector<bool> done(subs.size());
  size_t left = subs.size();
  char buf[65536];
  while (left > 0) {
    std::vector<pollfd> fds;
    for (const RawSubscriber& s : subs) fds.push_back({s.fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), 10000) <= 0) {
      return absl::DeadlineExceededError("no event within 10 s");
    }
    for (size_t i = 0; i < subs.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      ssize_t got = recv(subs[i].fd, buf, sizeof(buf), 0);
      absl::Time now = absl::Now();
      if (got <= 0) return absl::UnavailableError("stream closed");
      subs[i].pending.append(buf, static_cast<size_t>(got));
      size_t at = subs[i].pending.find("\"ts_us\":");
      if (done[i] || at == std::string::npos) continue;
      double ts = std::strtod(subs[i].pending.c_str() + at + 8, nullptr);
      latencies_us->push_back(static_cast<double>(absl::ToUnixMicros(now)) -
                              ts);
      subs[i].pending.clear();
      done[i] = true;
      --left;
    }
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string store = absl::GetFlag(FLAGS_store);
  const int n = absl::GetFlag(FLAGS_events);
  const int subscribers = absl::GetFlag(FLAGS_subscribers);

  auto injection = kvstore::InjectionClient::Create(store);
  if (!injection.ok()) return Fail(injection.status().ToString());
  const bool raw = absl::GetFlag(FLAGS_raw);
  std::vector<RawSubscriber> raw_subs;
  std::vector<std::unique_ptr<kvstore::InjectionEventStream>> streams;
  for (int i = 0; raw && i < subscribers; ++i) {
    absl::StatusOr<RawSubscriber> sub = RawSubscribe(store);
    if (!sub.ok()) return Fail(sub.status().ToString());
    raw_subs.push_back(std::move(*sub));
  }
  for (int i = 0; !raw && i < subscribers; ++i) {
    kvstore::InjectionEventStreamOptions options;
    options.endpoint = store;
    options.injections = {"request.parsed"};
    auto stream = kvstore::InjectionEventStream::Connect(options);
    if (!stream.ok()) return Fail(stream.status().ToString());
    streams.push_back(std::move(*stream));
  }
  kvstore::ClientOptions client_options;
  client_options.endpoint = store;
  auto client = kvstore::Client::Create(client_options);
  if (!client.ok()) return Fail(client.status().ToString());
  // Every request fires the point; NOT_FOUND is answered at once, never
  // retried.
  absl::Status armed = (*injection)->Arm("request.parsed", {{"status", "404"}});
  if (!armed.ok()) return Fail(armed.ToString());
  // One event at a time: fire, then wait until every subscriber has it, so
  // the figure is delivery latency, not queueing behind earlier events.
  std::vector<double> latencies_us;
  for (int i = 0; i < n; ++i) {
    (*client)->SampleRowKeys("default").IgnoreError();
    if (raw) {
      absl::Status got = AwaitRaw(raw_subs, &latencies_us);
      if (!got.ok()) return Fail(got.ToString());
    }
    for (auto& stream : streams) {
      auto fired =
          stream->WaitFor("request.parsed", "fired", absl::Seconds(10));
      if (!fired.ok()) return Fail(fired.status().ToString());
      google::protobuf::Struct data;
      if (!google::protobuf::util::JsonStringToMessage(fired->data, &data)
               .ok()) {
        return Fail("unparsable event");
      }
      double fired_us = data.fields().at("ts_us").number_value();
      latencies_us.push_back(
          static_cast<double>(absl::ToUnixMicros(fired->received)) - fired_us);
    }
  }
  (*injection)->Disarm("request.parsed").IgnoreError();
  std::sort(latencies_us.begin(), latencies_us.end());
  auto at = [&](double q) {
    return latencies_us[static_cast<size_t>(q * (latencies_us.size() - 1))];
  };
  std::printf(
      "| event delivery, %d %s subscribers, %d events | p50 %.0f us | p99 "
      "%.0f us | max %.0f us | target p99 < 1000 us |\n",
      subscribers, raw ? "raw-socket" : "InjectionEventStream", n, at(0.5),
      at(0.99), latencies_us.back());
  for (RawSubscriber& sub : raw_subs) close(sub.fd);
  return 0;
}
