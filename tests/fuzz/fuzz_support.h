// Shared by the fuzz targets (tests/fuzz/README.md): invariant checks and an
// in-process store (in-memory engine, the real router) to send requests to.
#ifndef KVSTORE_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define KVSTORE_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "store/api/metrics.h"
#include "store/api/request_router.h"
#include "store/http/http_server.h"
#include "store/storage/rocks_engine.h"

namespace kvstore::fuzz {

// Aborts (a finding) with `what` unless `ok`.
inline void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

// An in-memory store behind the real request router, with table "t"
// (families "f" and "g", the latter keeping one version) beside the seed's
// "default". Rebuilt every `kInputsPerStore` inputs so that data written by
// earlier inputs stays small. Not thread-safe.
class InProcessStore {
 public:
  static constexpr int kInputsPerStore = 2000;

  // Counts one input; true when the store should be rebuilt before it.
  bool NextInputRebuilds() {
    return router_ == nullptr || ++inputs_ % kInputsPerStore == 0;
  }
  // A fresh store. Nothing may still use the old one's router.
  void Rebuild();
  store::RequestRouter& router() { return *router_; }

  // Counts an input (rebuilding when due), sends one request to the router
  // and waits for its whole answer (a streamed body is drained); aborts if no
  // answer comes. Returns the HTTP status.
  int Send(store::HttpRequest request);

 private:
  int inputs_ = 0;
  std::unique_ptr<store::Engine> engine_;
  std::unique_ptr<store::Metrics> metrics_;
  std::unique_ptr<store::RequestRouter> router_;
};

}  // namespace kvstore::fuzz

#endif  // KVSTORE_TESTS_FUZZ_FUZZ_SUPPORT_H_
