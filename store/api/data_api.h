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
#ifndef KVSTORE_STORE_API_DATA_API_H_
#define KVSTORE_STORE_API_DATA_API_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_field.h"
#include "kvstore/v1/data.pb.h"
#include "kvstore/v1/store.pb.h"
#include "store/api/api_codec.h"
#include "store/api/metrics.h"
#include "store/api/responses.h"
#include "store/http/http_server.h"
#include "store/injection/injection_registry.h"
#include "store/storage/engine.h"

namespace kvstore::store {

// Upper bound on the mutations of one request (docs/design.md).
inline constexpr int kMaxMutationsPerRequest = 100000;

// Converts request mutations to the engine's, checking what the engine cannot
// (a mutation with no kind, a missing family name). `field` names the list in
// error messages, e.g. "mutations". InvalidArgument on the first bad entry.
absl::StatusOr<std::vector<Mutation>> MutationsFromProto(
    const google::protobuf::RepeatedPtrField<v1::Mutation>& mutations,
    absl::string_view field);

// What a /v1/tables... path names.
struct DataPath {
  std::string table;  // empty for /v1/tables itself
  std::string verb;   // after ':' (mutateRow, ...); empty for the table itself
};

// Parses a path that starts with /v1/. NotFound for one the API does not
// serve.
absl::StatusOr<DataPath> ParseDataPath(absl::string_view path);

// The metrics route of a parsed path (kOther for a path that did not parse or
// an unknown verb).
Route RouteOf(const absl::StatusOr<DataPath>& path);

class DataApi {
 public:
  // `injection` may be null (error injection off).
  DataApi(Engine* engine, InjectionRegistry* injection)
      : engine_(engine), injection_(injection) {}

  // Serves one request whose path starts with /v1/, parsed by ParseDataPath.
  void Handle(const HttpRequest& request, absl::string_view path,
              absl::StatusOr<DataPath> target, HttpHandler::Respond respond);

 private:
  struct Call;
  using Info = std::shared_ptr<const RequestInfo>;
  using VerbHandler = void (DataApi::*)(Call call);
  // Called once a single-row write has finished: `committed` says whether it
  // was applied, `reply` is its answer.
  using Finish = absl::AnyInvocable<void(bool committed, HttpReply reply) &&>;

  // The handler of `target`'s verb for `method`, or null; `allowed` gets the
  // methods the verb takes ("GET, POST"), empty for an unknown verb.
  static VerbHandler HandlerOf(const DataPath& target,
                               boost::beast::http::verb method,
                               std::string* allowed);

  // One function per verb; each parses its body and answers `call.respond`.
  void ListTables(Call call);
  void CreateTable(Call call);
  void GetTable(Call call);
  void DeleteTable(Call call);
  void MutateRow(Call call);
  void MutateRows(Call call);
  void SampleRowKeys(Call call);
  void CheckAndMutateRow(Call call);
  void ReadModifyWriteRow(Call call);
  void ReadRows(Call call);

  // mutateRows' entries, once past request.parsed.
  void ApplyBulk(const std::string& table, v1::MutateRowsRequest bulk,
                 const Info& info, Encoding encoding,
                 HttpHandler::Respond respond);
  // Starts a readRows scan, once past request.parsed.
  void StartScan(const std::string& table, const v1::ReadRowsRequest& read,
                 std::unique_ptr<CompiledFilter> filter, const Info& info,
                 Encoding encoding, HttpHandler::Respond respond);
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

#endif  // KVSTORE_STORE_API_DATA_API_H_
