#include "client/client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/async_http_transport.h"
#include "client/http_transport.h"
#include "client/retry_rules.h"
#include "client/wire.h"
#include "common/status_macros.h"
#include "common/status_proto.h"

namespace kvstore {
namespace {

using internal::AddMutations;
using internal::BufferSink;
using internal::ErrorFromResponse;
using internal::RowStreamSink;
using internal::TablePath;

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Create(
    const ClientOptions& options) {
  HttpTransportOptions transport_options;
  absl::Status parsed = ParseEndpoint(options.endpoint, &transport_options.host,
                                      &transport_options.port);
  if (!parsed.ok()) return parsed;
  transport_options.connect_timeout = options.connect_timeout;
  transport_options.pool_size = options.pool_size;
  if (options.pool_size >= 1) {
    transport_options.slots = std::make_shared<RequestSlots>(options.pool_size);
  }
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      NewHttpTransport(transport_options);
  if (!transport.ok()) return transport.status();
  absl::StatusOr<std::unique_ptr<AsyncTransport>> async_transport =
      NewAsyncHttpTransport(transport_options);
  if (!async_transport.ok()) return async_transport.status();
  return CreateWithTransport(options, std::move(*transport),
                             std::move(*async_transport));
}

Client::Client(const ClientOptions& options,
               std::unique_ptr<Transport> transport,
               std::unique_ptr<AsyncTransport> async_transport)
    : options_(options),
      transport_(std::move(transport)),
      async_transport_(std::move(async_transport)) {}

// (Members go in reverse order anyway; the async transport's callbacks use
// none of the others.)
Client::~Client() { async_transport_.reset(); }

void Client::CancelAsyncCalls() {
  Close();
  if (async_transport_ != nullptr) async_transport_->CancelAll();
}

absl::StatusOr<std::unique_ptr<Client>> Client::CreateWithTransport(
    const ClientOptions& options, std::unique_ptr<Transport> transport,
    std::unique_ptr<AsyncTransport> async_transport) {
  if (options.attempt_timeout <= absl::ZeroDuration() ||
      options.overall_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeouts must be positive");
  }
  if (options.retry.max_attempts < 1 || options.retry.multiplier < 1.0 ||
      options.retry.initial_backoff < absl::ZeroDuration() ||
      options.retry.max_backoff < options.retry.initial_backoff) {
    return absl::InvalidArgumentError(
        "retry: max_attempts >= 1, multiplier >= 1, 0 <= initial_backoff <= "
        "max_backoff");
  }
  if (transport == nullptr) {
    return absl::InvalidArgumentError("transport must not be null");
  }
  return std::unique_ptr<Client>(
      new Client(options, std::move(transport), std::move(async_transport)));
}

absl::Status Client::CheckOpen() const {
  if (closed_.load()) {
    return absl::FailedPreconditionError("the client is closed");
  }
  return absl::OkStatus();
}

HttpRequestSpec Client::Spec(std::string method, std::string target,
                             std::string body) const {
  HttpRequestSpec spec;
  spec.method = std::move(method);
  spec.target = std::move(target);
  spec.body = std::move(body);
  spec.headers = options_.headers;
  return spec;
}

internal::RetrySchedule Client::Schedule(bool idempotent) const {
  return internal::RetrySchedule(options_.retry, options_.attempt_timeout,
                                 options_.overall_timeout, idempotent,
                                 options_.jitter);
}

absl::Status Client::Run(
    bool idempotent, absl::FunctionRef<Attempt(absl::Time deadline)> attempt) {
  internal::RetrySchedule schedule = Schedule(idempotent);
  while (true) {
    absl::Status final;
    std::optional<absl::Duration> wait =
        schedule.AfterAttempt(attempt(schedule.AttemptDeadline()), &final);
    if (!wait.has_value()) return final;
    if (options_.sleep) {
      options_.sleep(*wait);
    } else {
      absl::SleepFor(*wait);
    }
  }
}

absl::Status Client::Call(const std::string& method, const std::string& target,
                          const google::protobuf::Message* request,
                          google::protobuf::Message* response,
                          bool idempotent) {
  KV_RETURN_IF_ERROR(CheckOpen());
  const HttpRequestSpec spec = Spec(
      method, target, request != nullptr ? request->SerializeAsString() : "");
  return Run(idempotent, [&](absl::Time deadline) -> Attempt {
    BufferSink sink;
    absl::Status exchanged = transport_->Exchange(spec, deadline, sink);
    if (!exchanged.ok()) return {exchanged, std::nullopt};
    if (sink.http_status() != 200) {
      return {ErrorFromResponse(sink.http_status(), sink.content_type(),
                                sink.body()),
              sink.retry_after()};
    }
    if (response != nullptr && !response->ParseFromString(sink.body())) {
      return {absl::DataLossError(absl::StrCat(
                  "unparsable ", response->GetTypeName(), " from ", target)),
              std::nullopt};
    }
    return {absl::OkStatus(), std::nullopt};
  });
}

absl::Status Client::MutateRow(absl::string_view table,
                               absl::string_view row_key,
                               std::vector<v1::Mutation> mutations) {
  const bool idempotent = IdempotentMutations(mutations);
  v1::MutateRowRequest request =
      internal::MutateRowRequestFor(row_key, std::move(mutations));
  v1::MutateRowResponse response;
  return Call("POST", TablePath(table, "mutateRow"), &request, &response,
              idempotent);
}

absl::StatusOr<std::vector<absl::Status>> Client::MutateRows(
    absl::string_view table, std::vector<BulkEntry> entries) {
  KV_RETURN_IF_ERROR(CheckOpen());
  const size_t n = entries.size();
  std::vector<bool> idempotent(n);
  for (size_t i = 0; i < n; ++i) {
    idempotent[i] = IdempotentMutations(entries[i].mutations);
  }
  std::vector<v1::MutateRowsRequest::Entry> protos(n);
  for (size_t i = 0; i < n; ++i) {
    protos[i].set_row_key(std::move(entries[i].row_key));
    AddMutations(std::move(entries[i].mutations),
                 protos[i].mutable_mutations());
  }
  std::vector<absl::Status> results(n, absl::UnknownError("not sent"));
  std::vector<size_t> pending(n);  // entries to send next, by index
  for (size_t i = 0; i < n; ++i) pending[i] = i;
  bool answered = false;  // some attempt got per-entry answers
  const std::string target = TablePath(table, "mutateRows");
  bool first = true;
  absl::Status call = Run(true, [&](absl::Time deadline) -> Attempt {
    if (!first) {  // a retry: only idempotent entries go again
      std::vector<size_t> again;
      for (size_t i : pending) {
        if (idempotent[i]) again.push_back(i);
      }
      pending = std::move(again);
    }
    first = false;
    v1::MutateRowsRequest request;
    for (size_t i : pending) *request.add_entries() = protos[i];
    BufferSink sink;
    absl::Status exchanged = transport_->Exchange(
        Spec("POST", target, request.SerializeAsString()), deadline, sink);
    // Whether a failure of the whole request may be retried: only if some
    // entry could be resent (never an empty request).
    bool any_idempotent = false;
    for (size_t i : pending) any_idempotent = any_idempotent || idempotent[i];
    if (!exchanged.ok()) {
      for (size_t i : pending) results[i] = exchanged;
      return {exchanged, std::nullopt, any_idempotent};
    }
    if (sink.http_status() != 200) {
      absl::Status error = ErrorFromResponse(sink.http_status(),
                                             sink.content_type(), sink.body());
      for (size_t i : pending) results[i] = error;
      return {error, sink.retry_after(), any_idempotent};
    }
    v1::MutateRowsResponse response;
    if (!response.ParseFromString(sink.body())) {
      return {absl::DataLossError("unparsable MutateRowsResponse"),
              std::nullopt};
    }
    answered = true;
    std::vector<bool> seen(pending.size());
    for (const auto& entry : response.entries()) {
      if (entry.index() < 0 ||
          static_cast<size_t>(entry.index()) >= pending.size()) {
        return {
            absl::DataLossError("mutateRows answered an unknown entry index"),
            std::nullopt};
      }
      seen[static_cast<size_t>(entry.index())] = true;
      results[pending[static_cast<size_t>(entry.index())]] =
          StatusFromProto(entry.status());
    }
    std::vector<size_t> failed;  // transient failures, for the next attempt
    for (size_t k = 0; k < pending.size(); ++k) {
      if (!seen[k]) results[pending[k]] = absl::UnknownError("no answer");
      if (IsTransient(results[pending[k]])) failed.push_back(pending[k]);
    }
    pending = std::move(failed);
    bool retryable = false;
    for (size_t i : pending) retryable = retryable || idempotent[i];
    if (!retryable) return {absl::OkStatus(), std::nullopt, false};
    return {results[pending[0]], sink.retry_after(), true};
  });
  if (answered) {
    // Entries that were still to be retried when the call ran out of time end
    // with the call's DEADLINE_EXCEEDED, not their last transient status.
    if (call.code() == absl::StatusCode::kDeadlineExceeded) {
      for (size_t i : pending) {
        if (idempotent[i]) results[i] = call;
      }
    }
    return results;  // per-entry outcomes
  }
  if (!call.ok()) return call;
  return results;
}

absl::Status Client::ReadRows(absl::string_view table,
                              const ReadRowsQuery& query,
                              absl::FunctionRef<bool(v1::Row)> on_row) {
  KV_RETURN_IF_ERROR(CheckOpen());
  std::optional<std::string> last;  // the last row delivered
  int64_t delivered = 0;
  bool done = false;  // the caller stopped, or nothing is left to read
  const std::string target = TablePath(table, "readRows");
  return Run(true, [&](absl::Time deadline) -> Attempt {
    v1::ReadRowsRequest request;
    if (last.has_value()) {  // resuming after a failure
      std::optional<v1::RowSet> rest =
          RowSetAfter(query.rows, *last, query.reversed);
      if (!rest.has_value() ||
          (query.rows_limit > 0 && delivered >= query.rows_limit)) {
        return {absl::OkStatus(), std::nullopt};
      }
      *request.mutable_rows() = std::move(*rest);
    } else {
      *request.mutable_rows() = query.rows;
    }
    if (query.filter.has_value()) *request.mutable_filter() = *query.filter;
    // (A negative limit goes to the store as is: it is the store's to reject.)
    request.set_rows_limit(query.rows_limit > 0 ? query.rows_limit - delivered
                                                : query.rows_limit);
    request.set_reversed(query.reversed);
    auto deliver = [&](v1::Row row) {
      last = row.key();
      ++delivered;
      if (!on_row(std::move(row))) {
        done = true;
        return false;
      }
      return true;
    };
    RowStreamSink sink(deliver);
    absl::Status exchanged = transport_->Exchange(
        Spec("POST", target, request.SerializeAsString()), deadline, sink);
    if (done) return {absl::OkStatus(), std::nullopt};
    return {sink.Outcome(exchanged), sink.retry_after()};
  });
}
absl::StatusOr<std::optional<v1::Row>> Client::ReadRow(
    absl::string_view table, absl::string_view row_key,
    std::optional<v1::RowFilter> filter) {
  ReadRowsQuery query;
  query.rows.add_row_keys(std::string(row_key));
  query.filter = std::move(filter);
  std::optional<v1::Row> found;
  absl::Status status = ReadRows(table, query, [&](v1::Row row) {
    found = std::move(row);
    return true;
  });
  if (!status.ok()) return status;
  return found;
}

absl::StatusOr<bool> Client::CheckAndMutateRow(
    absl::string_view table, absl::string_view row_key,
    std::optional<v1::RowFilter> predicate,
    std::vector<v1::Mutation> true_mutations,
    std::vector<v1::Mutation> false_mutations) {
  v1::CheckAndMutateRowRequest request = internal::CheckAndMutateRowRequestFor(
      row_key, std::move(predicate), std::move(true_mutations),
      std::move(false_mutations));
  v1::CheckAndMutateRowResponse response;
  absl::Status status = Call("POST", TablePath(table, "checkAndMutateRow"),
                             &request, &response, /*idempotent=*/false);
  if (!status.ok()) return status;
  return response.predicate_matched();
}

absl::StatusOr<v1::Row> Client::ReadModifyWriteRow(
    absl::string_view table, absl::string_view row_key,
    std::vector<v1::ReadModifyWriteRule> rules) {
  v1::ReadModifyWriteRowRequest request =
      internal::ReadModifyWriteRowRequestFor(row_key, std::move(rules));
  v1::ReadModifyWriteRowResponse response;
  absl::Status status = Call("POST", TablePath(table, "readModifyWriteRow"),
                             &request, &response, /*idempotent=*/false);
  if (!status.ok()) return status;
  return std::move(*response.mutable_row());
}

absl::StatusOr<std::vector<RowKeySample>> Client::SampleRowKeys(
    absl::string_view table) {
  v1::SampleRowKeysResponse response;
  absl::Status status =
      Call("GET", TablePath(table, "sampleRowKeys"), nullptr, &response,
           /*idempotent=*/true);
  if (!status.ok()) return status;
  std::vector<RowKeySample> samples;
  for (const auto& s : response.samples()) {
    samples.push_back(RowKeySample{s.row_key(), s.offset_bytes()});
  }
  return samples;
}

absl::Status Client::CreateTable(const v1::Table& table) {
  v1::CreateTableRequest request;
  *request.mutable_table() = table;
  v1::Table created;
  return Call("POST", "/v1/tables", &request, &created, /*idempotent=*/false);
}

absl::StatusOr<std::vector<v1::Table>> Client::ListTables() {
  v1::ListTablesResponse response;
  absl::Status status =
      Call("GET", "/v1/tables", nullptr, &response, /*idempotent=*/true);
  if (!status.ok()) return status;
  return std::vector<v1::Table>(response.tables().begin(),
                                response.tables().end());
}

absl::StatusOr<v1::Table> Client::GetTable(absl::string_view table) {
  v1::Table response;
  absl::Status status =
      Call("GET", TablePath(table), nullptr, &response, /*idempotent=*/true);
  if (!status.ok()) return status;
  return response;
}

absl::Status Client::DeleteTable(absl::string_view table) {
  return Call("DELETE", TablePath(table), nullptr, nullptr,
              /*idempotent=*/false);
}

}  // namespace kvstore
