// One conformance test's history on one time axis, for its author to look at
// when it fails: the proxy RPCs the harness made, the store's journal entries
// (each request the client library sent) and injection events, and the
// failing assertions at their moments. Written as JSON (for tools) and as one
// self-contained HTML page (no scripts, fonts or links: it opens offline, from
// a CI artifact).
//
// Times are Unix microseconds: the harness's clock for RPCs and assertions,
// the store's for its entries and events (one machine, one clock).
//
// Thread-safe: a test's calls may come from several threads.
#ifndef KVSTORE_TESTS_CONFORMANCE_TIMELINE_H_
#define KVSTORE_TESTS_CONFORMANCE_TIMELINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/injection_client.h"

namespace kvstore::conformance {

// One RPC to the proxy: what was asked, how long it took, what it answered
// (the library's code from the result, or the RPC's own when it failed).
struct TimelineRpc {
  std::string method;   // e.g. "ReadRow"
  std::string summary;  // e.g. "client T.N, table t, row a"
  int64_t start_us = 0;
  int64_t end_us = 0;
  int code = 0;
  std::string message;
  bool rpc_failed = false;  // the RPC itself failed (code is gRPC's)
};

struct TimelineFailure {
  int64_t at_us = 0;
  std::string where;  // file:line
  std::string message;
};

class Timeline {
 public:
  void AddRpc(TimelineRpc rpc) ABSL_LOCKS_EXCLUDED(mu_);
  void AddFailure(TimelineFailure failure) ABSL_LOCKS_EXCLUDED(mu_);

  // The test's history as JSON: {"test", "failed", "rpcs": [...],
  // "requests": [journal entries as the store sent them], "events":
  // [injection events as sent], "failures": [...]}. `store` is what the
  // test's event stream received (journal entries have phase "request").
  std::string Json(const std::string& test, bool failed,
                   const std::vector<InjectionEventRecord>& store) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The same as an HTML page: four lanes on one time axis, then every item
  // in time order.
  std::string Html(const std::string& test, bool failed,
                   const std::vector<InjectionEventRecord>& store) const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::vector<TimelineRpc> rpcs_ ABSL_GUARDED_BY(mu_);
  std::vector<TimelineFailure> failures_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kvstore::conformance

#endif  // KVSTORE_TESTS_CONFORMANCE_TIMELINE_H_
