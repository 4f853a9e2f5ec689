#include "client/retry_schedule.h"

#include <algorithm>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/retry_rules.h"

namespace kvstore::internal {

RetrySchedule::RetrySchedule(const RetryOptions& retry,
                             absl::Duration attempt_timeout,
                             absl::Duration overall_timeout, bool idempotent,
                             std::function<double()> jitter)
    : retry_(retry),
      attempt_timeout_(attempt_timeout),
      overall_timeout_(overall_timeout),
      idempotent_(idempotent),
      jitter_(std::move(jitter)),
      overall_(absl::Now() + overall_timeout),
      backoff_(retry.initial_backoff) {}

absl::Time RetrySchedule::AttemptDeadline() const {
  return std::min(overall_, absl::Now() + attempt_timeout_);
}

std::optional<absl::Duration> RetrySchedule::AfterAttempt(
    const AttemptOutcome& outcome, absl::Status* final) {
  const int n = ++attempts_;
  if (outcome.status.ok() || !idempotent_ || !outcome.retryable ||
      !IsTransient(outcome.status)) {
    *final = outcome.status;
    return std::nullopt;
  }
  if (absl::Now() >= overall_) {
    *final = absl::DeadlineExceededError(
        absl::StrCat("overall timeout of ",
                     absl::FormatDuration(overall_timeout_), " exceeded after ",
                     n, " attempt(s); last: ", outcome.status.ToString()));
    return std::nullopt;
  }
  if (n >= retry_.max_attempts) {
    *final = outcome.status;
    return std::nullopt;
  }
  thread_local absl::BitGen bitgen;
  double jitter = jitter_ ? jitter_() : absl::Uniform(bitgen, 0.0, 1.0);
  absl::Duration wait = backoff_ / 2 + backoff_ / 2 * jitter;
  if (outcome.retry_after.has_value() && *outcome.retry_after > wait) {
    wait = *outcome.retry_after;
  }
  if (absl::Now() + wait >= overall_) {
    *final = absl::DeadlineExceededError(absl::StrCat(
        "overall timeout of ", absl::FormatDuration(overall_timeout_),
        " leaves no time to retry after ", n,
        " attempt(s); last: ", outcome.status.ToString()));
    return std::nullopt;
  }
  backoff_ = std::min(retry_.max_backoff, backoff_ * retry_.multiplier);
  return wait;
}

}  // namespace kvstore::internal
