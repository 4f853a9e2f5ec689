#include "client/client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/http_transport.h"
#include "store/status_http.h"

namespace kvstore {
namespace {

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
  void OnHead(int http_status, absl::string_view content_type) override {
    http_status_ = http_status;
    content_type_ = std::string(content_type);
  }
  absl::Status OnBody(absl::string_view bytes) override {
    body_.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  }
  int http_status() const { return http_status_; }
  const std::string& content_type() const { return content_type_; }
  const std::string& body() const { return body_; }

 private:
  int http_status_ = 0;
  std::string content_type_;
  std::string body_;
};

// Parses :readRows' stream of varint-delimited ReadRowsResponse messages as it
// arrives and hands each row on.
class RowStreamSink final : public ResponseSink {
 public:
  explicit RowStreamSink(absl::FunctionRef<bool(v1::Row)> on_row)
      : on_row_(on_row) {}

  void OnHead(int http_status, absl::string_view content_type) override {
    http_status_ = http_status;
    content_type_ = std::string(content_type);
  }

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

  // The call's outcome once the exchange ended with `exchanged`.
  absl::Status Outcome(const absl::Status& exchanged) const {
    if (stopped_) return absl::OkStatus();
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
  size_t colon = options.endpoint.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(options.endpoint.substr(colon + 1), &port) ||
      port == 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint '", options.endpoint, "' is not ip:port"));
  }
  HttpTransportOptions transport_options;
  transport_options.host = options.endpoint.substr(0, colon);
  transport_options.port = static_cast<uint16_t>(port);
  transport_options.connect_timeout = options.connect_timeout;
  transport_options.pool_size = options.pool_size;
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      NewHttpTransport(transport_options);
  if (!transport.ok()) return transport.status();
  return CreateWithTransport(options, std::move(*transport));
}

absl::StatusOr<std::unique_ptr<Client>> Client::CreateWithTransport(
    const ClientOptions& options, std::unique_ptr<Transport> transport) {
  if (options.attempt_timeout <= absl::ZeroDuration() ||
      options.overall_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeouts must be positive");
  }
  if (transport == nullptr) {
    return absl::InvalidArgumentError("transport must not be null");
  }
  return std::unique_ptr<Client>(new Client(options, std::move(transport)));
}

absl::Time Client::Deadline() const {
  return absl::Now() +
         std::min(options_.attempt_timeout, options_.overall_timeout);
}

absl::Status Client::Call(const std::string& method, const std::string& target,
                          const google::protobuf::Message* request,
                          google::protobuf::Message* response) {
  HttpRequestSpec spec{method, target, ""};
  if (request != nullptr) spec.body = request->SerializeAsString();
  BufferSink sink;
  absl::Status exchanged = transport_->Exchange(spec, Deadline(), sink);
  if (!exchanged.ok()) return exchanged;
  if (sink.http_status() != 200) {
    return ErrorFromResponse(sink.http_status(), sink.content_type(),
                             sink.body());
  }
  if (response != nullptr && !response->ParseFromString(sink.body())) {
    return absl::DataLossError(
        absl::StrCat("unparsable ", response->GetTypeName(), " from ", target));
  }
  return absl::OkStatus();
}

absl::Status Client::MutateRow(absl::string_view table,
                               absl::string_view row_key,
                               std::vector<v1::Mutation> mutations) {
  v1::MutateRowRequest request;
  request.set_row_key(std::string(row_key));
  AddMutations(std::move(mutations), request.mutable_mutations());
  v1::MutateRowResponse response;
  return Call("POST", TablePath(table, "mutateRow"), &request, &response);
}

absl::StatusOr<std::vector<absl::Status>> Client::MutateRows(
    absl::string_view table, std::vector<BulkEntry> entries) {
  v1::MutateRowsRequest request;
  for (BulkEntry& e : entries) {
    auto* entry = request.add_entries();
    entry->set_row_key(std::move(e.row_key));
    AddMutations(std::move(e.mutations), entry->mutable_mutations());
  }
  v1::MutateRowsResponse response;
  absl::Status status =
      Call("POST", TablePath(table, "mutateRows"), &request, &response);
  if (!status.ok()) return status;
  std::vector<absl::Status> results(entries.size(),
                                    absl::UnknownError("no answer"));
  for (const auto& entry : response.entries()) {
    if (entry.index() < 0 ||
        static_cast<size_t>(entry.index()) >= results.size()) {
      return absl::DataLossError("mutateRows answered an unknown entry index");
    }
    results[static_cast<size_t>(entry.index())] =
        absl::Status(static_cast<absl::StatusCode>(entry.status().code()),
                     entry.status().message());
  }
  return results;
}

absl::Status Client::ReadRows(absl::string_view table,
                              const ReadRowsQuery& query,
                              absl::FunctionRef<bool(v1::Row)> on_row) {
  v1::ReadRowsRequest request;
  *request.mutable_rows() = query.rows;
  if (query.filter.has_value()) *request.mutable_filter() = *query.filter;
  request.set_rows_limit(query.rows_limit);
  request.set_reversed(query.reversed);
  HttpRequestSpec spec{"POST", TablePath(table, "readRows"),
                       request.SerializeAsString()};
  RowStreamSink sink(on_row);
  absl::Status exchanged = transport_->Exchange(spec, Deadline(), sink);
  return sink.Outcome(exchanged);
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
  absl::Status status =
      Call("POST", TablePath(table, "checkAndMutateRow"), &request, &response);
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
  absl::Status status =
      Call("POST", TablePath(table, "readModifyWriteRow"), &request, &response);
  if (!status.ok()) return status;
  return std::move(*response.mutable_row());
}

absl::StatusOr<std::vector<RowKeySample>> Client::SampleRowKeys(
    absl::string_view table) {
  v1::SampleRowKeysResponse response;
  absl::Status status =
      Call("GET", TablePath(table, "sampleRowKeys"), nullptr, &response);
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
  return Call("POST", "/v1/tables", &request, &created);
}

absl::StatusOr<std::vector<v1::Table>> Client::ListTables() {
  v1::ListTablesResponse response;
  absl::Status status = Call("GET", "/v1/tables", nullptr, &response);
  if (!status.ok()) return status;
  return std::vector<v1::Table>(response.tables().begin(),
                                response.tables().end());
}

absl::StatusOr<v1::Table> Client::GetTable(absl::string_view table) {
  v1::Table response;
  absl::Status status = Call("GET", TablePath(table), nullptr, &response);
  if (!status.ok()) return status;
  return response;
}

absl::Status Client::DeleteTable(absl::string_view table) {
  return Call("DELETE", TablePath(table), nullptr, nullptr);
}

}  // namespace kvstore
