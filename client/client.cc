#include "client/client.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/http_transport.h"
#include "client/retry_rules.h"
#include "store/status_http.h"

namespace kvstore {
namespace {

#define KV_CLIENT_RETURN_IF_ERROR(expr)      \
  do {                                       \
    absl::Status kv_status_ = (expr);        \
    if (!kv_status_.ok()) return kv_status_; \
  } while (0)

constexpr absl::string_view kProtobufType = "application/x-protobuf";

// Percent-encodes all but RFC 3986's unreserved characters.
std::string PathSegment(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

std::string TablePath(absl::string_view table, absl::string_view verb = "") {
  std::string path = absl::StrCat("/v1/tables/", PathSegment(table));
  if (!verb.empty()) absl::StrAppend(&path, ":", verb);
  return path;
}

// The store's answer to a failed call: its {code, message} body when it sent
// one, else the HTTP status read through the design's table.
absl::Status ErrorFromResponse(int http_status, absl::string_view content_type,
                               absl::string_view body) {
  if (absl::StartsWith(content_type, kProtobufType)) {
    v1::Status status;
    if (status.ParseFromArray(body.data(), static_cast<int>(body.size())) &&
        status.code() != 0) {
      return absl::Status(static_cast<absl::StatusCode>(status.code()),
                          status.message());
    }
  }
  absl::StatusCode code = store::CodeFromHttpStatus(http_status);
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kUnknown;
  return absl::Status(
      code, absl::StrCat("HTTP ", http_status, ": ", body.substr(0, 200)));
}

// Collects a whole (small) response.
class BufferSink final : public ResponseSink {
 public:
  void OnHead(const ResponseHead& head) override {
    http_status_ = head.http_status;
    content_type_ = std::string(head.content_type);
    retry_after_ = head.retry_after;
  }
  absl::Status OnBody(absl::string_view bytes) override {
    body_.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  }
  int http_status() const { return http_status_; }
  const std::string& content_type() const { return content_type_; }
  const std::string& body() const { return body_; }
  std::optional<absl::Duration> retry_after() const { return retry_after_; }

 private:
  int http_status_ = 0;
  std::string content_type_;
  std::string body_;
  std::optional<absl::Duration> retry_after_;
};

// Parses :readRows' stream of varint-delimited ReadRowsResponse messages as it
// arrives and hands each row on.
class RowStreamSink final : public ResponseSink {
 public:
  explicit RowStreamSink(absl::FunctionRef<bool(v1::Row)> on_row)
      : on_row_(on_row) {}

  void OnHead(const ResponseHead& head) override {
    http_status_ = head.http_status;
    content_type_ = std::string(head.content_type);
    retry_after_ = head.retry_after;
  }
  std::optional<absl::Duration> retry_after() const { return retry_after_; }

  absl::Status OnBody(absl::string_view bytes) override {
    buffer_.append(bytes.data(), bytes.size());
    if (http_status_ != 200) return absl::OkStatus();  // an error body
    size_t pos = 0;
    while (true) {
      uint64_t size = 0;
      size_t header = 0;
      if (!ReadVarint(absl::string_view(buffer_).substr(pos), &size, &header)) {
        break;  // the length is not all here yet
      }
      if (buffer_.size() - pos - header < size) break;
      v1::ReadRowsResponse message;
      if (!message.ParseFromArray(buffer_.data() + pos + header,
                                  static_cast<int>(size))) {
        return absl::DataLossError("unparsable message in the readRows stream");
      }
      pos += header + size;
      if (message.has_status()) {
        final_status_ =
            absl::Status(static_cast<absl::StatusCode>(message.status().code()),
                         message.status().message());
      } else if (!on_row_(std::move(*message.mutable_row()))) {
        stopped_ = true;
        return absl::CancelledError("stopped by the caller");
      }
    }
    buffer_.erase(0, pos);
    return absl::OkStatus();
  }

  // The call's outcome once the exchange ended with `exchanged`. A final
  // status that arrived wins over a connection that broke after it.
  absl::Status Outcome(const absl::Status& exchanged) const {
    if (stopped_) return absl::OkStatus();
    if (final_status_.has_value() && http_status_ == 200) return *final_status_;
    if (!exchanged.ok()) return exchanged;
    if (http_status_ != 200) {
      return ErrorFromResponse(http_status_, content_type_, buffer_);
    }
    if (!final_status_.has_value()) {
      return absl::UnavailableError(
          "the readRows stream ended without its final status");
    }
    return *final_status_;
  }

 private:
  // A varint at the front of `in`: false if incomplete.
  static bool ReadVarint(absl::string_view in, uint64_t* value,
                         size_t* length) {
    uint64_t v = 0;
    for (size_t i = 0; i < in.size() && i < 10; ++i) {
      v |= uint64_t{static_cast<uint8_t>(in[i]) & 0x7fu} << (7 * i);
      if ((static_cast<uint8_t>(in[i]) & 0x80u) == 0) {
        *value = v;
        *length = i + 1;
        return true;
      }
    }
    return false;
  }

  absl::FunctionRef<bool(v1::Row)> on_row_;
  std::optional<absl::Duration> retry_after_;
  int http_status_ = 0;
  std::string content_type_;
  std::string buffer_;  // unparsed bytes (or an error body)
  std::optional<absl::Status> final_status_;
  bool stopped_ = false;
};

template <typename Container>
void AddMutations(std::vector<v1::Mutation> mutations, Container* out) {
  for (v1::Mutation& m : mutations) *out->Add() = std::move(m);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Create(
    const ClientOptions& options) {
  HttpTransportOptions transport_options;
  absl::Status parsed = ParseEndpoint(options.endpoint, &transport_options.host,
                                      &transport_options.port);
  if (!parsed.ok()) return parsed;
  transport_options.connect_timeout = options.connect_timeout;
  transport_options.pool_size = options.pool_size;
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      NewHttpTransport(transport_options);
  if (!transport.ok()) return transport.status();
  return CreateWithTransport(options, std::move(*transport));
}

Client::Client(const ClientOptions& options,
               std::unique_ptr<Transport> transport)
    : options_(options), transport_(std::move(transport)) {}

absl::StatusOr<std::unique_ptr<Client>> Client::CreateWithTransport(
    const ClientOptions& options, std::unique_ptr<Transport> transport) {
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
  return std::unique_ptr<Client>(new Client(options, std::move(transport)));
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

absl::Status Client::Run(
    bool idempotent, absl::FunctionRef<Attempt(absl::Time deadline)> attempt) {
  const absl::Time overall = absl::Now() + options_.overall_timeout;
  absl::Duration backoff = options_.retry.initial_backoff;
  for (int n = 1;; ++n) {
    absl::Time deadline =
        std::min(overall, absl::Now() + options_.attempt_timeout);
    Attempt result = attempt(deadline);
    if (result.status.ok() || !idempotent || !result.retryable ||
        !IsTransient(result.status)) {
      return result.status;
    }
    if (absl::Now() >= overall) {
      return absl::DeadlineExceededError(absl::StrCat(
          "overall timeout of ", absl::FormatDuration(options_.overall_timeout),
          " exceeded after ", n,
          " attempt(s); last: ", result.status.ToString()));
    }
    if (n >= options_.retry.max_attempts) return result.status;
    thread_local absl::BitGen bitgen;
    double jitter =
        options_.jitter ? options_.jitter() : absl::Uniform(bitgen, 0.0, 1.0);
    absl::Duration wait = backoff / 2 + backoff / 2 * jitter;
    if (result.retry_after.has_value() && *result.retry_after > wait) {
      wait = *result.retry_after;
    }
    if (absl::Now() + wait >= overall) {
      return absl::DeadlineExceededError(absl::StrCat(
          "overall timeout of ", absl::FormatDuration(options_.overall_timeout),
          " leaves no time to retry after ", n,
          " attempt(s); last: ", result.status.ToString()));
    }
    if (options_.sleep) {
      options_.sleep(wait);
    } else {
      absl::SleepFor(wait);
    }
    backoff = std::min(options_.retry.max_backoff,
                       backoff * options_.retry.multiplier);
  }
}

absl::Status Client::Call(const std::string& method, const std::string& target,
                          const google::protobuf::Message* request,
                          google::protobuf::Message* response,
                          bool idempotent) {
  KV_CLIENT_RETURN_IF_ERROR(CheckOpen());
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
  v1::MutateRowRequest request;
  request.set_row_key(std::string(row_key));
  AddMutations(std::move(mutations), request.mutable_mutations());
  v1::MutateRowResponse response;
  return Call("POST", TablePath(table, "mutateRow"), &request, &response,
              idempotent);
}

absl::StatusOr<std::vector<absl::Status>> Client::MutateRows(
    absl::string_view table, std::vector<BulkEntry> entries) {
  KV_CLIENT_RETURN_IF_ERROR(CheckOpen());
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
          absl::Status(static_cast<absl::StatusCode>(entry.status().code()),
                       entry.status().message());
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
  if (answered) return results;  // per-entry outcomes, the call's included
  if (!call.ok()) return call;
  return results;
}

absl::Status Client::ReadRows(absl::string_view table,
                              const ReadRowsQuery& query,
                              absl::FunctionRef<bool(v1::Row)> on_row) {
  KV_CLIENT_RETURN_IF_ERROR(CheckOpen());
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
  v1::CheckAndMutateRowRequest request;
  request.set_row_key(std::string(row_key));
  if (predicate.has_value()) *request.mutable_predicate() = *predicate;
  AddMutations(std::move(true_mutations), request.mutable_true_mutations());
  AddMutations(std::move(false_mutations), request.mutable_false_mutations());
  v1::CheckAndMutateRowResponse response;
  absl::Status status = Call("POST", TablePath(table, "checkAndMutateRow"),
                             &request, &response, /*idempotent=*/false);
  if (!status.ok()) return status;
  return response.predicate_matched();
}

absl::StatusOr<v1::Row> Client::ReadModifyWriteRow(
    absl::string_view table, absl::string_view row_key,
    std::vector<v1::ReadModifyWriteRule> rules) {
  v1::ReadModifyWriteRowRequest request;
  request.set_row_key(std::string(row_key));
  for (v1::ReadModifyWriteRule& rule : rules) {
    *request.add_rules() = std::move(rule);
  }
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
