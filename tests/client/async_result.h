// Result<T>: catches what a kvstore::Client Async* callback receives, for
// tests to wait on. Thread-safe: the callback may run on any thread.
#ifndef KVSTORE_TESTS_CLIENT_ASYNC_RESULT_H_
#define KVSTORE_TESTS_CLIENT_ASYNC_RESULT_H_

#include <optional>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/notification.h"

namespace kvstore {

template <typename T>
class Result {
 public:
  // The callback to pass; it may be called once.
  absl::AnyInvocable<void(T)> Callback() {
    return [this](T value) {
      value_.emplace(std::move(value));
      done_.Notify();
    };
  }
  // Blocks until the callback has run; then its value.
  T& Get() {
    done_.WaitForNotification();
    return *value_;
  }

 private:
  absl::Notification done_;
  std::optional<T> value_;
};

}  // namespace kvstore

#endif  // KVSTORE_TESTS_CLIENT_ASYNC_RESULT_H_
