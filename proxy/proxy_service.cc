#include "proxy/proxy_service.h"

#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kvstore::proxy {
namespace {

void SetStatus(const absl::Status& status, v1::Status* out) {
  out->set_code(static_cast<int>(status.code()));
  out->set_message(std::string(status.message()));
}

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

template <typename Repeated>
std::vector<v1::Mutation> Mutations(const Repeated& mutations) {
  return std::vector<v1::Mutation>(mutations.begin(), mutations.end());
}

}  // namespace

size_t ProxyService::ClientCount() const {
  absl::MutexLock lock(&mu_);
  return clients_.size();
}

grpc::Status ProxyService::Find(const std::string& client_id,
                                std::shared_ptr<Entry>* entry) const {
  if (client_id.empty()) return Invalid("client_id is required");
  absl::MutexLock lock(&mu_);
  auto it = clients_.find(client_id);
  if (it == clients_.end()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("no client '", client_id, "'"));
  }
  *entry = it->second;
  return grpc::Status::OK;
}

void ProxyService::Log(absl::string_view method, absl::string_view client_id,
                       const grpc::Status& rpc,
                       const v1::Status* result) const {
  if (!options_.log_requests) return;
  std::string line = absl::StrCat(method, " client=", client_id,
                                  " rpc=", static_cast<int>(rpc.error_code()));
  if (!rpc.ok()) absl::StrAppend(&line, " (", rpc.error_message(), ")");
  if (result != nullptr) {
    absl::StrAppend(&line, " result=",
                    absl::StatusCodeToString(
                        static_cast<absl::StatusCode>(result->code())));
    if (!result->message().empty()) {
      absl::StrAppend(&line, " (", result->message(), ")");
    }
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

template <typename Request, typename Result, typename Call>
grpc::Status ProxyService::RunCall(absl::string_view method,
                                   const Request& request, Result* result,
                                   Call call) {
  std::shared_ptr<Entry> entry;
  grpc::Status rpc = Find(request.client_id(), &entry);
  if (!rpc.ok()) {
    Log(method, request.client_id(), rpc, nullptr);
    return rpc;
  }
  // (A closed client answers FAILED_PRECONDITION itself.)
  absl::Status outcome = call(*entry->client);
  SetStatus(outcome, result->mutable_status());
  Log(method, request.client_id(), rpc, &result->status());
  return grpc::Status::OK;
}

grpc::Status ProxyService::CreateClient(
    grpc::ServerContext*, const tpv1::CreateClientRequest* request,
    tpv1::CreateClientResponse*) {
  const std::string& id = request->client_id();
  if (id.empty()) return Invalid("client_id is required");
  ClientOptions options;
  options.endpoint = request->data_target();
  if (request->has_per_operation_timeout()) {
    absl::Duration timeout =
        absl::Seconds(request->per_operation_timeout().seconds()) +
        absl::Nanoseconds(request->per_operation_timeout().nanos());
    if (timeout <= absl::ZeroDuration()) {
      return Invalid("per_operation_timeout must be positive");
    }
    options.attempt_timeout = timeout;
    options.overall_timeout = timeout;
  }
  if (request->pool_size() < 0) return Invalid("pool_size must be >= 0");
  if (request->pool_size() > 0) options.pool_size = request->pool_size();
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(options);
  if (!client.ok()) {
    grpc::Status rpc = Invalid(std::string(client.status().message()));
    Log("CreateClient", id, rpc, nullptr);
    return rpc;
  }
  auto entry = std::make_shared<Entry>();
  entry->client = std::move(*client);
  grpc::Status rpc = grpc::Status::OK;
  {
    absl::MutexLock lock(&mu_);
    if (!clients_.emplace(id, std::move(entry)).second) {
      rpc = grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                         absl::StrCat("client '", id, "' already exists"));
    }
  }
  Log("CreateClient", id, rpc, nullptr);
  return rpc;
}

grpc::Status ProxyService::CloseClient(grpc::ServerContext*,
                                       const tpv1::CloseClientRequest* request,
                                       tpv1::CloseClientResponse*) {
  std::shared_ptr<Entry> entry;
  grpc::Status rpc = Find(request->client_id(), &entry);
  if (rpc.ok()) entry->client->Close();  // in-flight calls finish
  Log("CloseClient", request->client_id(), rpc, nullptr);
  return rpc;
}

grpc::Status ProxyService::RemoveClient(
    grpc::ServerContext*, const tpv1::RemoveClientRequest* request,
    tpv1::RemoveClientResponse*) {
  const std::string& id = request->client_id();
  grpc::Status rpc = grpc::Status::OK;
  std::shared_ptr<Entry> removed;  // destroyed outside the lock
  if (id.empty()) {
    rpc = Invalid("client_id is required");
  } else {
    absl::MutexLock lock(&mu_);
    auto it = clients_.find(id);
    if (it == clients_.end()) {
      rpc = grpc::Status(grpc::StatusCode::NOT_FOUND,
                         absl::StrCat("no client '", id, "'"));
    } else {
      removed = std::move(it->second);
      removed->client->Close();
      clients_.erase(it);
    }
  }
  Log("RemoveClient", id, rpc, nullptr);
  return rpc;
}

grpc::Status ProxyService::ReadRow(grpc::ServerContext*,
                                   const tpv1::ReadRowRequest* request,
                                   tpv1::RowResult* result) {
  return RunCall("ReadRow", *request, result, [&](Client& client) {
    std::optional<v1::RowFilter> filter;
    if (request->has_filter()) filter = request->filter();
    absl::StatusOr<std::optional<v1::Row>> row =
        client.ReadRow(request->table_name(), request->row_key(), filter);
    if (!row.ok()) return row.status();
    if (row->has_value()) *result->mutable_row() = std::move(**row);
    return absl::OkStatus();
  });
}

grpc::Status ProxyService::ReadRows(grpc::ServerContext*,
                                    const tpv1::ReadRowsRequest* request,
                                    tpv1::RowsResult* result) {
  if (!request->has_request()) return Invalid("request is required");
  if (request->cancel_after_rows() < 0) {
    return Invalid("cancel_after_rows must be >= 0");
  }
  return RunCall("ReadRows", *request, result, [&](Client& client) {
    const v1::ReadRowsRequest& read = request->request();
    ReadRowsQuery query;
    query.rows = read.rows();
    if (read.has_filter()) query.filter = read.filter();
    query.rows_limit = read.rows_limit();
    query.reversed = read.reversed();
    const int cancel_after = request->cancel_after_rows();
    return client.ReadRows(request->table_name(), query, [&](v1::Row row) {
      *result->add_rows() = std::move(row);
      return cancel_after == 0 || result->rows_size() < cancel_after;
    });
  });
}

grpc::Status ProxyService::MutateRow(grpc::ServerContext*,
                                     const tpv1::MutateRowRequest* request,
                                     tpv1::MutateRowResult* result) {
  if (!request->has_request()) return Invalid("request is required");
  return RunCall("MutateRow", *request, result, [&](Client& client) {
    return client.MutateRow(request->table_name(), request->request().row_key(),
                            Mutations(request->request().mutations()));
  });
}

grpc::Status ProxyService::BulkMutateRows(
    grpc::ServerContext*, const tpv1::MutateRowsRequest* request,
    tpv1::MutateRowsResult* result) {
  if (!request->has_request()) return Invalid("request is required");
  return RunCall("BulkMutateRows", *request, result, [&](Client& client) {
    std::vector<BulkEntry> entries;
    for (const auto& e : request->request().entries()) {
      entries.push_back(BulkEntry{e.row_key(), Mutations(e.mutations())});
    }
    const size_t total = entries.size();
    absl::StatusOr<std::vector<absl::Status>> statuses =
        client.MutateRows(request->table_name(), std::move(entries));
    if (!statuses.ok()) return statuses.status();
    absl::Status first_failure;
    int failed = 0;
    for (size_t i = 0; i < statuses->size(); ++i) {
      const absl::Status& s = (*statuses)[i];
      if (s.ok()) continue;
      auto* entry = result->add_entries();
      entry->set_index(static_cast<int64_t>(i));
      SetStatus(s, entry->mutable_status());
      if (failed++ == 0) first_failure = s;
    }
    if (failed == 0) return absl::OkStatus();
    return absl::Status(
        first_failure.code(),
        absl::StrCat(failed, " of ", total,
                     " entries failed; first: ", first_failure.message()));
  });
}

grpc::Status ProxyService::CheckAndMutateRow(
    grpc::ServerContext*, const tpv1::CheckAndMutateRowRequest* request,
    tpv1::CheckAndMutateRowResult* result) {
  if (!request->has_request()) return Invalid("request is required");
  return RunCall("CheckAndMutateRow", *request, result, [&](Client& client) {
    const v1::CheckAndMutateRowRequest& cam = request->request();
    std::optional<v1::RowFilter> predicate;
    if (cam.has_predicate()) predicate = cam.predicate();
    absl::StatusOr<bool> matched = client.CheckAndMutateRow(
        request->table_name(), cam.row_key(), predicate,
        Mutations(cam.true_mutations()), Mutations(cam.false_mutations()));
    if (!matched.ok()) return matched.status();
    result->set_predicate_matched(*matched);
    return absl::OkStatus();
  });
}

grpc::Status ProxyService::SampleRowKeys(
    grpc::ServerContext*, const tpv1::SampleRowKeysRequest* request,
    tpv1::SampleRowKeysResult* result) {
  return RunCall("SampleRowKeys", *request, result, [&](Client& client) {
    absl::StatusOr<std::vector<RowKeySample>> samples =
        client.SampleRowKeys(request->table_name());
    if (!samples.ok()) return samples.status();
    for (const RowKeySample& s : *samples) {
      auto* sample = result->add_samples();
      sample->set_row_key(s.row_key);
      sample->set_offset_bytes(s.offset_bytes);
    }
    return absl::OkStatus();
  });
}

grpc::Status ProxyService::ReadModifyWriteRow(
    grpc::ServerContext*, const tpv1::ReadModifyWriteRowRequest* request,
    tpv1::RowResult* result) {
  if (!request->has_request()) return Invalid("request is required");
  return RunCall("ReadModifyWriteRow", *request, result, [&](Client& client) {
    const v1::ReadModifyWriteRowRequest& rmw = request->request();
    absl::StatusOr<v1::Row> row =
        client.ReadModifyWriteRow(request->table_name(), rmw.row_key(),
                                  std::vector<v1::ReadModifyWriteRule>(
                                      rmw.rules().begin(), rmw.rules().end()));
    if (!row.ok()) return row.status();
    *result->mutable_row() = std::move(*row);
    return absl::OkStatus();
  });
}

}  // namespace kvstore::proxy
