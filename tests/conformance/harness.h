// The conformance harness's plumbing: where the proxy is, how to start stores,
// and a fixture that gives each test a fresh store, its table and a proxy
// client. Tests talk to the proxy only over gRPC, and to their store only to
// set it up (HTTP table admin) and to script faults (its error-injection API
// and event stream: each store runs with --error_injection).
#ifndef KVSTORE_TESTS_CONFORMANCE_HARNESS_H_
#define KVSTORE_TESTS_CONFORMANCE_HARNESS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/builders.h"
#include "client/injection_client.h"
#include "client/injection_event_stream.h"
#include "gtest/gtest.h"
#include "kvstore/testproxy/v1/test_proxy.grpc.pb.h"
#include "tests/common/server_process.h"
#include "tests/conformance/timeline.h"

namespace kvstore::conformance {

namespace tpv1 = ::kvstore::testproxy::v1;

// Declares a test and the rules of docs/conformance.md it checks, as
// space-separated ids: CONFORMANCE_TEST(ConformanceTest, Name, "CH-1 LC-3").
// The ids are registered before main (RegisteredRules()), so the harness can
// check them against the spec (--check_rules) and name them in reports.
#define CONFORMANCE_TEST(fixture, name, rules)                          \
  [[maybe_unused]] static const bool kvstore_rules_##fixture##_##name = \
      ::kvstore::conformance::RegisterRules(#name, rules);              \
  TEST_F(fixture, name)

// Records that test `name` checks `rules` (space-separated ids). Returns true.
bool RegisterRules(const char* name, const char* rules);
// Test name -> the rule ids it checks, for every CONFORMANCE_TEST.
const std::map<std::string, std::vector<std::string>>& RegisteredRules();

// Gives an RPC to the proxy a generous deadline (60 s), so a hung proxy fails
// the test, not the run. Every RPC of the harness has one.
void SetRpcDeadline(grpc::ClientContext* context);

// A canonical code as the results carry it.
inline int Code(absl::StatusCode code) { return static_cast<int>(code); }

// Set once by main before the tests run.
struct HarnessConfig {
  std::string proxy_addr;    // host:port of a running proxy; empty: start one
  std::string proxy_binary;  // started on port 0 when proxy_addr is empty
  std::string store_binary;  // each test starts its own store
  // Where to write each test's timeline (timeline.h); empty: nowhere.
  std::string timeline_dir;
  bool timeline_all = false;  // for every test, not only the failed ones
};
void SetHarnessConfig(HarnessConfig config);
const HarnessConfig& GetHarnessConfig();

// A listener that hands each failed assertion to the running test's
// timeline. Owned by GoogleTest's listener list once appended.
::testing::TestEventListener* NewTimelineListener();

// Starts (if needed) and stops the proxy around the whole run.
class ProxyEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;
  static tpv1::TestProxy::Stub& Stub();
  static const std::string& Address();
};

// A store (in memory) with table "t": families "f" and "g" (keep every
// version), "one" (one version), "three" (three versions); and a proxy client
// on it named after the test.
class ConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  tpv1::TestProxy::Stub& stub() { return ProxyEnvironment::Stub(); }
  const std::string& client_id() const { return client_id_; }
  std::string StoreTarget() const;
  // Another client on this test's store; removed at TearDown.
  // `timeout_ms` 0 leaves per_operation_timeout unset; `pool_size` 0 too.
  grpc::Status CreateClient(const std::string& id, int timeout_ms = 0,
                            const std::string& target = "", int pool_size = 0);
  grpc::Status RemoveClient(const std::string& id);
  grpc::Status CloseClient(const std::string& id);
  // Makes the call helpers below use client `id` (default: client_id()).
  void CallWith(const std::string& id) { caller_ = id; }

  // The test store's error injection (set up by SetUp), and its event stream:
  // SubscribeToEvents() (false, with a test failure, if it cannot) before
  // Events(). The stream replays the store's whole history, so no event is
  // missed whenever it subscribes; it carries the request journal too (each
  // request the store answered, as an event of phase "request").
  InjectionClient& Injection() { return *injection_; }
  bool SubscribeToEvents();
  InjectionEventStream& Events() { return *events_; }
  // Arms a point (the test fails if that fails).
  void Arm(const std::string& point,
           const std::map<std::string, std::string>& parameters);
  // Disarms `point` and waits for its `disarmed` event: every earlier event of
  // the point has then arrived. Returns how many `phase` events it had.
  int CountUntilDisarmed(const std::string& point,
                         const std::string& phase = "hit");

  // One call each through the proxy, on client_id() and table "t" unless
  // given. The RPC must succeed (the test fails otherwise); the library's
  // outcome is in the returned result's status.
  tpv1::MutateRowResult Mutate(const std::string& key,
                               std::vector<v1::Mutation> mutations,
                               const std::string& table = "t");
  tpv1::RowResult ReadRow(const std::string& key,
                          const v1::RowFilter* filter = nullptr,
                          const std::string& table = "t");
  tpv1::RowsResult ReadRows(const v1::ReadRowsRequest& request,
                            int cancel_after_rows = 0,
                            const std::string& table = "t");
  tpv1::MutateRowsResult Bulk(const v1::MutateRowsRequest& request,
                              const std::string& table = "t");
  tpv1::CheckAndMutateRowResult CheckAndMutate(
      const v1::CheckAndMutateRowRequest& request,
      const std::string& table = "t");
  tpv1::RowResult ReadModifyWrite(const std::string& key,
                                  std::vector<v1::ReadModifyWriteRule> rules,
                                  const std::string& table = "t");
  tpv1::SampleRowKeysResult Sample(const std::string& table = "t");

  // Keys of a result's rows, in order.
  static std::vector<std::string> Keys(const tpv1::RowsResult& result);
  // Writes one cell per key (family "f", qualifier "q", value = key).
  void Put(const std::vector<std::string>& keys);

  std::unique_ptr<testing::ServerProcess> store_;

 private:
  friend class TimelineListener;
  // Records one proxy RPC on the timeline: started at `start`, answered
  // `rpc`, and (when the RPC succeeded) the library's `code` and `message`.
  void RecordRpc(const std::string& method, const std::string& summary,
                 absl::Time start, const grpc::Status& rpc, int code,
                 const std::string& message);
  // Writes the timeline's files (with --timeline_dir, for a failed test or
  // with --timeline=all) and records their path as a test property.
  void WriteTimeline();

  static ConformanceTest* current_;  // the test running, for the listener
  Timeline timeline_;
  std::string client_id_;
  std::string caller_;  // the client the call helpers use
  std::vector<std::string> extra_clients_;
  std::unique_ptr<InjectionClient> injection_;
  std::unique_ptr<InjectionEventStream> events_;
};

}  // namespace kvstore::conformance

#endif  // KVSTORE_TESTS_CONFORMANCE_HARNESS_H_
