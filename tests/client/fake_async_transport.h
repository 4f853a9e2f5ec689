// A scripted AsyncTransport for kvstore::Client's Async* unit tests: answers
// each Exchange with the next scripted response (its pieces joined, or its
// transport error), records the requests, deadlines and RunAfter delays it
// saw, and runs every callback on its own thread (never inside the call that
// passed it, as the interface promises). RunAfter does not wait: tests read
// the delays instead. Thread-safe.
#ifndef KVSTORE_TESTS_CLIENT_FAKE_ASYNC_TRANSPORT_H_
#define KVSTORE_TESTS_CLIENT_FAKE_ASYNC_TRANSPORT_H_

#include <deque>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "client/async_transport.h"
#include "tests/client/fake_transport.h"

namespace kvstore {

class FakeAsyncTransport final : public AsyncTransport {
 public:
  explicit FakeAsyncTransport(std::vector<ScriptedResponse> script)
      : script_(std::move(script)), worker_([this] { Work(); }) {}

  // Runs what is queued, then stops.
  ~FakeAsyncTransport() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    worker_.join();
  }

  void Exchange(HttpRequestSpec request, absl::Time deadline,
                ExchangeDone done) override {
    absl::StatusOr<HttpResponse> answer;
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(std::move(request));
      deadlines_.push_back(deadline);
      if (cancelled_) {
        answer = absl::CancelledError("fake transport: cancelled");
      } else if (next_ >= script_.size()) {
        answer = absl::InternalError("fake transport: script exhausted");
      } else {
        const ScriptedResponse& scripted = script_[next_++];
        if (!scripted.transport_error.ok()) {
          answer = scripted.transport_error;
        } else {
          HttpResponse response;
          response.http_status = scripted.http_status;
          response.content_type = scripted.content_type;
          response.retry_after = scripted.retry_after;
          for (const std::string& piece : scripted.pieces) {
            response.body += piece;
          }
          answer = std::move(response);
        }
      }
    }
    Queue([done = std::move(done), answer = std::move(answer)]() mutable {
      done(std::move(answer));
    });
  }

  void RunAfter(absl::Duration delay, absl::AnyInvocable<void()> fn) override {
    {
      absl::MutexLock lock(&mu_);
      delays_.push_back(delay);
    }
    Queue(std::move(fn));
  }

  // Answers later exchanges CANCELLED (nothing here is ever in flight).
  void CancelAll() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }

  std::vector<HttpRequestSpec> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<absl::Time> deadlines() {
    absl::MutexLock lock(&mu_);
    return deadlines_;
  }
  std::vector<absl::Duration> delays() {
    absl::MutexLock lock(&mu_);
    return delays_;
  }

 private:
  void Queue(absl::AnyInvocable<void()> task) {
    absl::MutexLock lock(&mu_);
    tasks_.push_back(std::move(task));
  }

  void Work() {
    while (true) {
      absl::AnyInvocable<void()> task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](FakeAsyncTransport* t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(t->mu_) {
              return t->stopping_ || !t->tasks_.empty();
            },
            this));
        if (tasks_.empty()) return;  // stopping, nothing left
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  absl::Mutex mu_;
  std::vector<ScriptedResponse> script_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<HttpRequestSpec> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> delays_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::AnyInvocable<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;  // last: starts once the rest is built
};

}  // namespace kvstore

#endif  // KVSTORE_TESTS_CLIENT_FAKE_ASYNC_TRANSPORT_H_
