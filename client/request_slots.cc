#include "client/request_slots.h"

#include <utility>

namespace kvstore {

bool RequestSlots::Acquire(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return used_ < capacity_;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&free), deadline)) return false;
  ++used_;
  return true;
}

bool RequestSlots::TryAcquire() {
  absl::MutexLock lock(&mu_);
  if (used_ >= capacity_) return false;
  ++used_;
  return true;
}

void RequestSlots::Release() {
  absl::MutexLock lock(&mu_);
  --used_;
  if (listener_) listener_();
}

void RequestSlots::SetListener(std::function<void()> on_release) {
  absl::MutexLock lock(&mu_);
  listener_ = std::move(on_release);
}

}  // namespace kvstore
