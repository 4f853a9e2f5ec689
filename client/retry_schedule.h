// One call's retry schedule: attempt deadlines, which failures are tried again,
// and how long to wait before the next attempt (exponential backoff with
// jitter, at least what a Retry-After asked), all within the call's overall
// timeout. kvstore::Client's synchronous path sleeps the waits; its
// asynchronous path schedules them on the transport's timer. Not a public API.
//
// Thread-compatible: one call's state, used by one thread at a time.
#ifndef KVSTORE_CLIENT_RETRY_SCHEDULE_H_
#define KVSTORE_CLIENT_RETRY_SCHEDULE_H_

#include <functional>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace kvstore {

struct RetryOptions {
  int max_attempts = 10;  // per call, the first included; 1: no retries
  absl::Duration initial_backoff = absl::Milliseconds(10);
  absl::Duration max_backoff = absl::Seconds(1);
  double multiplier = 2.0;
};

namespace internal {

// One attempt's outcome.
struct AttemptOutcome {
  AttemptOutcome(absl::Status s,  // NOLINT: implicit, so `return status;` works
                 std::optional<absl::Duration> after = std::nullopt,
                 bool may_retry = true)
      : status(std::move(s)), retry_after(after), retryable(may_retry) {}
  absl::Status status;
  std::optional<absl::Duration> retry_after;
  bool retryable;  // false: nothing in it may be tried again
};

class RetrySchedule {
 public:
  // The overall clock starts now. `jitter` returns a number in [0, 1) (null:
  // random); only `idempotent` calls retry.
  RetrySchedule(const RetryOptions& retry, absl::Duration attempt_timeout,
                absl::Duration overall_timeout, bool idempotent,
                std::function<double()> jitter);

  // The deadline of the attempt about to start.
  absl::Time AttemptDeadline() const;

  // Counts a finished attempt. Returns the wait before the next attempt, or
  // nullopt when the call ends, with `*final` set to its outcome: the
  // attempt's own status, or DEADLINE_EXCEEDED once the overall timeout leaves
  // no room for another attempt.
  std::optional<absl::Duration> AfterAttempt(const AttemptOutcome& outcome,
                                             absl::Status* final);

 private:
  const RetryOptions retry_;
  const absl::Duration attempt_timeout_;
  const absl::Duration overall_timeout_;
  const bool idempotent_;
  const std::function<double()> jitter_;
  const absl::Time overall_;
  absl::Duration backoff_;
  int attempts_ = 0;
};

}  // namespace internal
}  // namespace kvstore

#endif  // KVSTORE_CLIENT_RETRY_SCHEDULE_H_
