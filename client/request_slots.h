// How many of one client's requests may be at the store at once: its
// pool_size (docs/conformance.md PL-1). The client's blocking and asynchronous
// transports each keep their own connections, so they share one RequestSlots:
// a request holds a slot from when it gets a connection until it gives the
// connection back (to the pool, to a waiting request, or closed).
//
// Thread-safe. The listener runs under the slots' lock: it must not block nor
// call back into this object (the async transport only posts a task).
#ifndef KVSTORE_CLIENT_REQUEST_SLOTS_H_
#define KVSTORE_CLIENT_REQUEST_SLOTS_H_

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kvstore {

class RequestSlots {
 public:
  explicit RequestSlots(int capacity) : capacity_(capacity) {}

  // Takes a slot, waiting for one until `deadline`; false if none came.
  bool Acquire(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes a slot if one is free now.
  bool TryAcquire() ABSL_LOCKS_EXCLUDED(mu_);
  // Gives a slot back, then tells the listener.
  void Release() ABSL_LOCKS_EXCLUDED(mu_);
  // Called after every Release (null: none). Replaces an earlier one; once
  // this returns, the earlier listener is not running and will not run.
  void SetListener(std::function<void()> on_release) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const int capacity_;
  absl::Mutex mu_;
  int used_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> listener_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kvstore

#endif  // KVSTORE_CLIENT_REQUEST_SLOTS_H_
