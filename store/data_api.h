// The store's data API over HTTP (/v1/tables...): table administration and row
// calls. Bodies are kvstore.v1 messages (store.proto) as binary protobuf or
// proto3 JSON (api_codec.h); errors are a kvstore.v1.Status body with the HTTP
// status of status_http.h.
//
//   POST   /v1/tables                    CreateTableRequest -> Table
//   GET    /v1/tables                    -> ListTablesResponse
//   GET    /v1/tables/{table}            -> Table
//   DELETE /v1/tables/{table}            -> {} (an empty Status)
//   POST   /v1/tables/{table}:mutateRow  MutateRowRequest -> MutateRowResponse
//   POST   /v1/tables/{table}:mutateRows MutateRowsRequest ->
//   MutateRowsResponse
//          (entries independent, each atomic; a status per entry, by index)
//   POST   /v1/tables/{table}:checkAndMutateRow  CheckAndMutateRowRequest
//          -> CheckAndMutateRowResponse (atomic on the row)
//   POST   /v1/tables/{table}:readModifyWriteRow ReadModifyWriteRowRequest
//          -> ReadModifyWriteRowResponse (atomic on the row)
//   GET    /v1/tables/{table}:sampleRowKeys -> SampleRowKeysResponse
//   POST   /v1/tables/{table}:readRows   ReadRowsRequest -> a stream of
//          ReadRowsResponse (length-delimited binary, or newline-delimited
//          JSON as application/x-ndjson), produced as the client reads it,
//          with the filter language of row_filter.h.
//
// Error injection (with a registry): every request passes request.parsed once
// its body is parsed; single-row writes pass mutation.before_commit and, once
// committed, mutation.after_commit; each mutateRows entry passes
// mutate_rows.entry; a readRows stream passes read_rows.row (see
// injection_registry.h).
//
// The engine and registry are not owned and must outlive the DataApi.
// Thread-safe.
#ifndef KVSTORE_STORE_DATA_API_H_
#define KVSTORE_STORE_DATA_API_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_field.h"
#include "kvstore/v1/data.pb.h"
#include "kvstore/v1/store.pb.h"
#include "store/api_codec.h"
#include "store/engine.h"
#include "store/http_server.h"
#include "store/injection_registry.h"
#include "store/metrics.h"

namespace kvstore::store {

// Upper bound on the mutations of one request (docs/design.md).
inline constexpr int kMaxMutationsPerRequest = 100000;

// Converts request mutations to the engine's, checking what the engine cannot
// (a mutation with no kind, a missing family name). `field` names the list in
// error messages, e.g. "mutations". InvalidArgument on the first bad entry.
absl::StatusOr<std::vector<Mutation>> MutationsFromProto(
    const google::protobuf::RepeatedPtrField<v1::Mutation>& mutations,
    absl::string_view field);

class DataApi {
 public:
  // `injection` may be null (error injection off).
  DataApi(Engine* engine, InjectionRegistry* injection)
      : engine_(engine), injection_(injection) {}

  // The metrics route of a /v1 path.
  static Route RouteOf(absl::string_view path);

  // Serves one request whose path starts with /v1/.
  void Handle(const HttpRequest& request, absl::string_view path,
              HttpHandler::Respond respond);

 private:
  using Info = std::shared_ptr<const RequestInfo>;
  // Called once a single-row write has finished: `committed` says whether it
  // was applied, `reply` is its answer.
  using Finish = absl::AnyInvocable<void(bool committed, HttpReply reply) &&>;

  void MutateRows(const std::string& table, v1::MutateRowsRequest bulk,
                  const Info& info, Encoding encoding,
                  HttpHandler::Respond respond);
  // Calls `next` with the point's verdict: at once if injection is off or the
  // point is disarmed.
  void Gate(PointId point, const Info& info,
            absl::AnyInvocable<void(Verdict) &&> next);
  // Runs `start` behind request.parsed.
  void Gated(const Info& info, Encoding encoding, HttpHandler::Respond respond,
             absl::AnyInvocable<void(HttpHandler::Respond) &&> start);
  // Runs a single-row write behind request.parsed and
  // mutation.before_commit, and answers behind mutation.after_commit.
  void GatedWrite(const Info& info, Encoding encoding,
                  HttpHandler::Respond respond,
                  absl::AnyInvocable<void(Finish) &&> start);

  Engine* const engine_;
  InjectionRegistry* const injection_;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_DATA_API_H_
