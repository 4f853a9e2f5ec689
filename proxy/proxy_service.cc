#include "proxy/proxy_service.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/quote.h"
#include "common/status_proto.h"

namespace kvstore::proxy {
namespace {

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

template <typename Repeated>
std::vector<v1::Mutation> Mutations(const Repeated& mutations) {
  return std::vector<v1::Mutation>(mutations.begin(), mutations.end());
}

}  // namespace

void ProxyService::CancelClientCalls() {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, entry] : clients_) entries.push_back(entry);
    for (const auto& weak : removed_) {
      if (auto entry = weak.lock()) entries.push_back(std::move(entry));
    }
  }
  for (const auto& entry : entries) entry->client->CancelAsyncCalls();
}

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
                        absl::StrCat("no client ", Quote(client_id)));
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
  StatusToProto(outcome, result->mutable_status());
  Log(method, request.client_id(), rpc, &result->status());
  return grpc::Status::OK;
}

template <typename Request, typename Result, typename Start>
void ProxyService::RunAsyncCall(absl::string_view method,
                                AsyncUnaryCall<Request, Result>* call,
                                Start start) {
  std::shared_ptr<Entry> entry;
  grpc::Status rpc = Find(call->request().client_id(), &entry);
  if (!rpc.ok()) {
    Log(method, call->request().client_id(), rpc, nullptr);
    call->Reply(rpc);
    return;
  }
  // The call holds the client, not the callback, so the last reference never
  // goes on the client's own I/O thread (whose join would then wait on
  // itself): it goes where the call ends, on the queue's thread, or in
  // RemoveClient or the service's destructor.
  call->Hold(entry);
  start(*entry->client, [this, method, call](const absl::Status& outcome) {
    StatusToProto(outcome, call->result()->mutable_status());
    Log(method, call->request().client_id(), grpc::Status::OK,
        &call->result()->status());
    call->Reply(grpc::Status::OK);
  });
}

template <typename Request, typename Result, typename RequestFn,
          typename Handle>
void ProxyService::AddAsyncMethod(grpc::ServerCompletionQueue* cq,
                                  RequestFn request_fn, Handle handle) {
  using Call = AsyncUnaryCall<Request, Result>;
  auto method = std::make_shared<typename Call::Method>();
  method->request = [this, cq, request_fn](
                        grpc::ServerContext* context, Request* request,
                        grpc::ServerAsyncResponseWriter<Result>* responder,
                        void* tag) {
    (this->*request_fn)(context, request, responder, cq, cq, tag);
  };
  method->handle = [this, handle](Call* call) { (this->*handle)(call); };
  method->counter = &calls_;
  methods_.push_back(method);
  Call::Await(method.get());
}

void ProxyService::StartAsyncMethods(grpc::ServerCompletionQueue* cq) {
  AddAsyncMethod<tpv1::ReadRowRequest, tpv1::RowResult>(
      cq, &ProxyService::RequestReadRow, &ProxyService::HandleReadRow);
  AddAsyncMethod<tpv1::MutateRowRequest, tpv1::MutateRowResult>(
      cq, &ProxyService::RequestMutateRow, &ProxyService::HandleMutateRow);
  AddAsyncMethod<tpv1::CheckAndMutateRowRequest, tpv1::CheckAndMutateRowResult>(
      cq, &ProxyService::RequestCheckAndMutateRow,
      &ProxyService::HandleCheckAndMutateRow);
  AddAsyncMethod<tpv1::ReadModifyWriteRowRequest, tpv1::RowResult>(
      cq, &ProxyService::RequestReadModifyWriteRow,
      &ProxyService::HandleReadModifyWriteRow);
  AddAsyncMethod<tpv1::SampleRowKeysRequest, tpv1::SampleRowKeysResult>(
      cq, &ProxyService::RequestSampleRowKeys,
      &ProxyService::HandleSampleRowKeys);
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
    options.overall_timeout = timeout;
  }
  // An attempt may use all the time the call has left (docs/conformance.md
  // DL-1), whether the timeout was given or is the default.
  options.attempt_timeout = options.overall_timeout;
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
                         absl::StrCat("client ", Quote(id), " already exists"));
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
                         absl::StrCat("no client ", Quote(id)));
    } else {
      removed = std::move(it->second);
      removed->client->Close();
      clients_.erase(it);
      removed_.erase(std::remove_if(removed_.begin(), removed_.end(),
                                    [](const std::weak_ptr<Entry>& w) {
                                      return w.expired();
                                    }),
                     removed_.end());
      removed_.push_back(removed);
    }
  }
  Log("RemoveClient", id, rpc, nullptr);
  return rpc;
}

void ProxyService::HandleReadRow(
    AsyncUnaryCall<tpv1::ReadRowRequest, tpv1::RowResult>* call) {
  RunAsyncCall("ReadRow", call, [call](Client& client, auto finish) {
    const tpv1::ReadRowRequest& request = call->request();
    std::optional<v1::RowFilter> filter;
    if (request.has_filter()) filter = request.filter();
    client.AsyncReadRow(
        request.table_name(), request.row_key(), std::move(filter),
        [call, finish](absl::StatusOr<std::optional<v1::Row>> row) {
          if (row.ok() && row->has_value()) {
            *call->result()->mutable_row() = std::move(**row);
          }
          finish(row.status());
        });
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

void ProxyService::HandleMutateRow(
    AsyncUnaryCall<tpv1::MutateRowRequest, tpv1::MutateRowResult>* call) {
  if (!call->request().has_request()) {
    return call->Reply(Invalid("request is required"));
  }
  RunAsyncCall("MutateRow", call, [call](Client& client, auto finish) {
    const tpv1::MutateRowRequest& request = call->request();
    client.AsyncMutateRow(request.table_name(), request.request().row_key(),
                          Mutations(request.request().mutations()),
                          std::move(finish));
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
      StatusToProto(s, entry->mutable_status());
      if (failed++ == 0) first_failure = s;
    }
    if (failed == 0) return absl::OkStatus();
    return absl::Status(
        first_failure.code(),
        absl::StrCat(failed, " of ", total,
                     " entries failed; first: ", first_failure.message()));
  });
}

void ProxyService::HandleCheckAndMutateRow(
    AsyncUnaryCall<tpv1::CheckAndMutateRowRequest,
                   tpv1::CheckAndMutateRowResult>* call) {
  if (!call->request().has_request()) {
    return call->Reply(Invalid("request is required"));
  }
  RunAsyncCall("CheckAndMutateRow", call, [call](Client& client, auto finish) {
    const tpv1::CheckAndMutateRowRequest& request = call->request();
    const v1::CheckAndMutateRowRequest& cam = request.request();
    std::optional<v1::RowFilter> predicate;
    if (cam.has_predicate()) predicate = cam.predicate();
    client.AsyncCheckAndMutateRow(
        request.table_name(), cam.row_key(), std::move(predicate),
        Mutations(cam.true_mutations()), Mutations(cam.false_mutations()),
        [call, finish](absl::StatusOr<bool> matched) {
          if (matched.ok()) call->result()->set_predicate_matched(*matched);
          finish(matched.status());
        });
  });
}

void ProxyService::HandleSampleRowKeys(
    AsyncUnaryCall<tpv1::SampleRowKeysRequest, tpv1::SampleRowKeysResult>*
        call) {
  RunAsyncCall("SampleRowKeys", call, [call](Client& client, auto finish) {
    client.AsyncSampleRowKeys(
        call->request().table_name(),
        [call, finish](absl::StatusOr<std::vector<RowKeySample>> samples) {
          if (samples.ok()) {
            for (const RowKeySample& s : *samples) {
              auto* sample = call->result()->add_samples();
              sample->set_row_key(s.row_key);
              sample->set_offset_bytes(s.offset_bytes);
            }
          }
          finish(samples.status());
        });
  });
}

void ProxyService::HandleReadModifyWriteRow(
    AsyncUnaryCall<tpv1::ReadModifyWriteRowRequest, tpv1::RowResult>* call) {
  if (!call->request().has_request()) {
    return call->Reply(Invalid("request is required"));
  }
  RunAsyncCall("ReadModifyWriteRow", call, [call](Client& client, auto finish) {
    const tpv1::ReadModifyWriteRowRequest& request = call->request();
    const v1::ReadModifyWriteRowRequest& rmw = request.request();
    client.AsyncReadModifyWriteRow(request.table_name(), rmw.row_key(),
                                   std::vector<v1::ReadModifyWriteRule>(
                                       rmw.rules().begin(), rmw.rules().end()),
                                   [call, finish](absl::StatusOr<v1::Row> row) {
                                     if (row.ok())
                                       *call->result()->mutable_row() =
                                           std::move(*row);
                                     finish(row.status());
                                   });
  });
}

}  // namespace kvstore::proxy
