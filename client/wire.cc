#include "client/wire.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/status_http.h"
#include "common/status_proto.h"
#include "kvstore/v1/store.pb.h"

namespace kvstore::internal {
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

}  // namespace

std::string TablePath(absl::string_view table, absl::string_view verb) {
  std::string path = absl::StrCat("/v1/tables/", PathSegment(table));
  if (!verb.empty()) absl::StrAppend(&path, ":", verb);
  return path;
}

v1::MutateRowRequest MutateRowRequestFor(absl::string_view row_key,
                                         std::vector<v1::Mutation> mutations) {
  v1::MutateRowRequest request;
  request.set_row_key(std::string(row_key));
  AddMutations(std::move(mutations), request.mutable_mutations());
  return request;
}

v1::CheckAndMutateRowRequest CheckAndMutateRowRequestFor(
    absl::string_view row_key, std::optional<v1::RowFilter> predicate,
    std::vector<v1::Mutation> true_mutations,
    std::vector<v1::Mutation> false_mutations) {
  v1::CheckAndMutateRowRequest request;
  request.set_row_key(std::string(row_key));
  if (predicate.has_value())
    *request.mutable_predicate() = std::move(*predicate);
  AddMutations(std::move(true_mutations), request.mutable_true_mutations());
  AddMutations(std::move(false_mutations), request.mutable_false_mutations());
  return request;
}

v1::ReadModifyWriteRowRequest ReadModifyWriteRowRequestFor(
    absl::string_view row_key, std::vector<v1::ReadModifyWriteRule> rules) {
  v1::ReadModifyWriteRowRequest request;
  request.set_row_key(std::string(row_key));
  for (v1::ReadModifyWriteRule& rule : rules) {
    *request.add_rules() = std::move(rule);
  }
  return request;
}

absl::Status ErrorFromResponse(int http_status, absl::string_view content_type,
                               absl::string_view body) {
  if (absl::StartsWith(content_type, kProtobufType)) {
    v1::Status status;
    if (status.ParseFromArray(body.data(), static_cast<int>(body.size())) &&
        status.code() != 0) {
      return StatusFromProto(status);
    }
  }
  absl::StatusCode code = CodeFromHttpStatus(http_status);
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kUnknown;
  return absl::Status(
      code, absl::StrCat("HTTP ", http_status, ": ", body.substr(0, 200)));
}

void HeadSink::OnHead(const ResponseHead& head) {
  http_status_ = head.http_status;
  content_type_ = std::string(head.content_type);
  retry_after_ = head.retry_after;
}

absl::Status BufferSink::OnBody(absl::string_view bytes) {
  body_.append(bytes.data(), bytes.size());
  return absl::OkStatus();
}

absl::Status RowStreamSink::OnBody(absl::string_view bytes) {
  buffer_.append(bytes.data(), bytes.size());
  if (http_status() != 200) return absl::OkStatus();  // an error body
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
      final_status_ = StatusFromProto(message.status());
    } else if (!on_row_(std::move(*message.mutable_row()))) {
      stopped_ = true;
      return absl::CancelledError("stopped by the caller");
    }
  }
  buffer_.erase(0, pos);
  return absl::OkStatus();
}

absl::Status RowStreamSink::Outcome(const absl::Status& exchanged) const {
  if (stopped_) return absl::OkStatus();
  if (final_status_.has_value() && http_status() == 200) return *final_status_;
  if (!exchanged.ok()) return exchanged;
  if (http_status() != 200) {
    return ErrorFromResponse(http_status(), content_type(), buffer_);
  }
  if (!final_status_.has_value()) {
    return absl::UnavailableError(
        "the readRows stream ended without its final status");
  }
  return *final_status_;
}

}  // namespace kvstore::internal
