// The TestProxy gRPC service (protos/kvstore/testproxy/v1/test_proxy.proto):
// named kvstore::Client objects, each data RPC one call of the named client.
//
// Clients live in a map guarded by a mutex and are copied out as shared_ptr,
// so no lock is held across I/O: a slow call on one client never blocks calls
// on others, nor Create/Remove. The RPC's own status reports only faults of the
// proxy request (malformed, unknown or duplicate client_id); the library's
// outcome goes in the result's status (see the proto's header comment).
//
// Thread-safe: gRPC calls the handlers from many threads at once.
#ifndef KVSTORE_PROXY_PROXY_SERVICE_H_
#define KVSTORE_PROXY_PROXY_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "client/client.h"
#include "kvstore/testproxy/v1/test_proxy.grpc.pb.h"

namespace kvstore::proxy {

namespace tpv1 = ::kvstore::testproxy::v1;

struct ProxyOptions {
  bool log_requests = false;  // one line per RPC on stderr, with its outcome
};

class ProxyService final : public tpv1::TestProxy::Service {
 public:
  explicit ProxyService(ProxyOptions options) : options_(options) {}

  // Live clients (created, not yet removed).
  size_t ClientCount() const;

  grpc::Status CreateClient(grpc::ServerContext*,
                            const tpv1::CreateClientRequest* request,
                            tpv1::CreateClientResponse*) override;
  grpc::Status CloseClient(grpc::ServerContext*,
                           const tpv1::CloseClientRequest* request,
                           tpv1::CloseClientResponse*) override;
  grpc::Status RemoveClient(grpc::ServerContext*,
                            const tpv1::RemoveClientRequest* request,
                            tpv1::RemoveClientResponse*) override;
  grpc::Status ReadRow(grpc::ServerContext*,
                       const tpv1::ReadRowRequest* request,
                       tpv1::RowResult* result) override;
  grpc::Status ReadRows(grpc::ServerContext*,
                        const tpv1::ReadRowsRequest* request,
                        tpv1::RowsResult* result) override;
  grpc::Status MutateRow(grpc::ServerContext*,
                         const tpv1::MutateRowRequest* request,
                         tpv1::MutateRowResult* result) override;
  grpc::Status BulkMutateRows(grpc::ServerContext*,
                              const tpv1::MutateRowsRequest* request,
                              tpv1::MutateRowsResult* result) override;
  grpc::Status CheckAndMutateRow(
      grpc::ServerContext*, const tpv1::CheckAndMutateRowRequest* request,
      tpv1::CheckAndMutateRowResult* result) override;
  grpc::Status SampleRowKeys(grpc::ServerContext*,
                             const tpv1::SampleRowKeysRequest* request,
                             tpv1::SampleRowKeysResult* result) override;
  grpc::Status ReadModifyWriteRow(
      grpc::ServerContext*, const tpv1::ReadModifyWriteRowRequest* request,
      tpv1::RowResult* result) override;

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

  const ProxyOptions options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Entry>> clients_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace kvstore::proxy

#endif  // KVSTORE_PROXY_PROXY_SERVICE_H_
