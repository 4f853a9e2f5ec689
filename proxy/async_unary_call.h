// Unary RPCs served through a completion queue (gRPC's async API), so a
// handler can start a kvstore::Client Async* call and return: the client's
// callback finishes the RPC, and no thread waits on the store meanwhile.
//
// Each call object requests the next call of its method as soon as its own
// arrives, so every method always has one call waiting; it deletes itself when
// its last completion-queue event comes back. CallCounter counts the live ones
// so shutdown can wait for every client callback before the queue goes.
//
// Thread-safety: a call is touched by one thread at a time (the queue's thread
// until it starts the client call, then the client's callback, then the
// queue's thread for its last event). CallCounter is thread-safe.
#ifndef KVSTORE_PROXY_ASYNC_UNARY_CALL_H_
#define KVSTORE_PROXY_ASYNC_UNARY_CALL_H_

#include <functional>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/async_unary_call.h"
#include "grpcpp/support/status.h"

namespace kvstore::proxy {

// What a completion-queue tag points to.
class CompletionTag {
 public:
  virtual ~CompletionTag() = default;
  // The tagged operation ended; `ok` false when it was cancelled or the
  // server is shutting down.
  virtual void Proceed(bool ok) = 0;
};

// Counts live call objects.
class CallCounter {
 public:
  void Add() {
    absl::MutexLock lock(&mu_);
    ++live_;
  }
  void Remove() {
    absl::MutexLock lock(&mu_);
    --live_;
  }
  int Live() {
    absl::MutexLock lock(&mu_);
    return live_;
  }
  // Blocks until none is live.
  void AwaitNone() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* live) { return *live == 0; }, &live_));
  }

 private:
  absl::Mutex mu_;
  int live_ ABSL_GUARDED_BY(mu_) = 0;
};

template <typename Request, typename Result>
class AsyncUnaryCall final : public CompletionTag {
 public:
  // One method: how to request a call of it (the generated RequestXxx, bound
  // to its queues, taking the tag last), and what to do with one that came.
  struct Method {
    std::function<void(grpc::ServerContext*, Request*,
                       grpc::ServerAsyncResponseWriter<Result>*, void*)>
        request;
    std::function<void(AsyncUnaryCall*)> handle;  // must end in Reply()
    CallCounter* counter;
  };

  // Puts a new call object up for the next call of `method` (which must
  // outlive it).
  static void Await(const Method* method) {
    auto* call = new AsyncUnaryCall(method);
    method->request(&call->context_, &call->request_, &call->responder_, call);
  }

  const Request& request() const { return request_; }
  Result* result() { return &result_; }
  // Keeps `what` (e.g. the client the call uses) alive until the call ends.
  void Hold(std::shared_ptr<const void> what) { held_ = std::move(what); }

  // Sends the answer: `result()` when `rpc` is OK, else just the error.
  void Reply(const grpc::Status& rpc) {
    replied_ = true;
    if (rpc.ok()) {
      responder_.Finish(result_, rpc, this);
    } else {
      responder_.FinishWithError(rpc, this);
    }
  }

  void Proceed(bool ok) override {
    if (replied_ || !ok) {  // the answer went (or the server is stopping)
      CallCounter* counter = method_->counter;
      delete this;
      counter->Remove();
      return;
    }
    Await(method_);  // the next call of this method
    method_->handle(this);
  }

 private:
  explicit AsyncUnaryCall(const Method* method)
      : method_(method), responder_(&context_) {
    method_->counter->Add();
  }

  const Method* const method_;
  grpc::ServerContext context_;
  Request request_;
  Result result_;
  grpc::ServerAsyncResponseWriter<Result> responder_;
  std::shared_ptr<const void> held_;
  bool replied_ = false;
};

}  // namespace kvstore::proxy

#endif  // KVSTORE_PROXY_ASYNC_UNARY_CALL_H_
