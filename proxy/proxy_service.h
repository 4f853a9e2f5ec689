// The TestProxy gRPC service (protos/kvstore/testproxy/v1/test_proxy.proto):
// named kvstore::Client objects, each data RPC one call of the named client.
//
// Clients live in a map guarded by a mutex and are copied out as shared_ptr,
// so no lock is held across I/O: a slow call on one client never blocks calls
// on others, nor Create/Remove.
//
// The unary data calls (ReadRow, MutateRow, CheckAndMutateRow,
// ReadModifyWriteRow, SampleRowKeys) are served through a completion queue
// and the client's Async* calls, so no thread waits on the store for them;
// the rest (client lifecycle, ReadRows, BulkMutateRows) are synchronous
// handlers. StartAsyncMethods and AwaitAsyncCallsEnded bracket the queue's
// life (see proxy_server.h, which does both). The RPC's own status reports only
// faults of the proxy request (malformed, unknown or duplicate client_id); the
// library's outcome goes in the result's status (see the proto's header
// comment).
//
// Thread-safe: gRPC calls the handlers from many threads at once.
#ifndef KVSTORE_PROXY_PROXY_SERVICE_H_
#define KVSTORE_PROXY_PROXY_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "client/client.h"
#include "kvstore/testproxy/v1/test_proxy.grpc.pb.h"
#include "proxy/async_unary_call.h"

namespace kvstore::proxy {

namespace tpv1 = ::kvstore::testproxy::v1;

struct ProxyOptions {
  bool log_requests = false;  // one line per RPC on stderr, with its outcome
};

// The generated service with the asynchronous methods marked so.
using ProxyServiceBase = tpv1::TestProxy::WithAsyncMethod_ReadRow<
    tpv1::TestProxy::WithAsyncMethod_MutateRow<
        tpv1::TestProxy::WithAsyncMethod_CheckAndMutateRow<
            tpv1::TestProxy::WithAsyncMethod_ReadModifyWriteRow<
                tpv1::TestProxy::WithAsyncMethod_SampleRowKeys<
                    tpv1::TestProxy::Service>>>>>;

class ProxyService final : public ProxyServiceBase {
 public:
  explicit ProxyService(ProxyOptions options) : options_(options) {}

  // Live clients (created, not yet removed).
  size_t ClientCount() const;

  // Puts the asynchronous methods up for calls on `cq`, which threads must
  // then drain (CompletionTag::Proceed on each event). Once, after the server
  // started.
  void StartAsyncMethods(grpc::ServerCompletionQueue* cq);
  // After the server's Shutdown: ends the async calls of every client (those
  // removed while calls were in flight too) with CANCELLED and closes the
  // clients (CancelAsyncCalls), so AwaitAsyncCallsEnded need not wait for
  // the store.
  void CancelClientCalls();
  // After the server's Shutdown: blocks until every asynchronous call has
  // ended (its client callback included), so `cq` may then be shut down.
  void AwaitAsyncCallsEnded() { calls_.AwaitNone(); }
  // Live asynchronous call objects: one waiting per method, plus the calls
  // in progress (for tests).
  int LiveAsyncCalls() { return calls_.Live(); }

  grpc::Status CreateClient(grpc::ServerContext*,
                            const tpv1::CreateClientRequest* request,
                            tpv1::CreateClientResponse*) override;
  grpc::Status CloseClient(grpc::ServerContext*,
                           const tpv1::CloseClientRequest* request,
                           tpv1::CloseClientResponse*) override;
  grpc::Status RemoveClient(grpc::ServerContext*,
                            const tpv1::RemoveClientRequest* request,
                            tpv1::RemoveClientResponse*) override;
  grpc::Status ReadRows(grpc::ServerContext*,
                        const tpv1::ReadRowsRequest* request,
                        tpv1::RowsResult* result) override;
  grpc::Status BulkMutateRows(grpc::ServerContext*,
                              const tpv1::MutateRowsRequest* request,
                              tpv1::MutateRowsResult* result) override;

 private:
  struct Entry {
    std::unique_ptr<Client> client;  // CloseClient calls its Close()
  };

  // The named client, or the RPC status to return (INVALID_ARGUMENT for an
  // empty id, NOT_FOUND for an unknown one).
  grpc::Status Find(const std::string& client_id,
                    std::shared_ptr<Entry>* entry) const;
  void Log(absl::string_view method, absl::string_view client_id,
           const grpc::Status& rpc, const v1::Status* result) const;
  // Runs one data call of the named client: `call(client)` returns the
  // library's outcome, which goes into result->status; the RPC is OK unless
  // the client_id is bad. A closed client's calls fail FAILED_PRECONDITION.
  template <typename Request, typename Result, typename Call>
  grpc::Status RunCall(absl::string_view method, const Request& request,
                       Result* result, Call call);
  // The same for an asynchronous call: `start(client, finish)` starts the
  // client's Async* call, whose callback fills the result and calls
  // finish(outcome); the RPC is then answered.
  template <typename Request, typename Result, typename Start>
  void RunAsyncCall(absl::string_view method,
                    AsyncUnaryCall<Request, Result>* call, Start start);
  // Registers one asynchronous method.
  template <typename Request, typename Result, typename RequestFn,
            typename Handle>
  void AddAsyncMethod(grpc::ServerCompletionQueue* cq, RequestFn request_fn,
                      Handle handle);

  void HandleReadRow(AsyncUnaryCall<tpv1::ReadRowRequest, tpv1::RowResult>*);
  void HandleMutateRow(
      AsyncUnaryCall<tpv1::MutateRowRequest, tpv1::MutateRowResult>*);
  void HandleCheckAndMutateRow(AsyncUnaryCall<tpv1::CheckAndMutateRowRequest,
                                              tpv1::CheckAndMutateRowResult>*);
  void HandleReadModifyWriteRow(
      AsyncUnaryCall<tpv1::ReadModifyWriteRowRequest, tpv1::RowResult>*);
  void HandleSampleRowKeys(
      AsyncUnaryCall<tpv1::SampleRowKeysRequest, tpv1::SampleRowKeysResult>*);

  const ProxyOptions options_;
  CallCounter calls_;
  std::vector<std::shared_ptr<const void>> methods_;  // AsyncUnaryCall Methods
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Entry>> clients_
      ABSL_GUARDED_BY(mu_);
  // Removed clients that calls in flight may still hold.
  std::vector<std::weak_ptr<Entry>> removed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kvstore::proxy

#endif  // KVSTORE_PROXY_PROXY_SERVICE_H_
