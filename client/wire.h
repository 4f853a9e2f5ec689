// kvstore::Client's calls on the wire: the request paths and mutation lists,
// the error mapping (docs/design.md's code <-> HTTP table read backwards), and
// the two ways a response body is consumed. Shared by the synchronous and
// asynchronous call paths of client.cc and client_async.cc; not a public API.
//
// Thread-compatible: each sink belongs to one exchange.
#ifndef KVSTORE_CLIENT_WIRE_H_
#define KVSTORE_CLIENT_WIRE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/transport.h"
#include "kvstore/v1/data.pb.h"
#include "kvstore/v1/store.pb.h"

namespace kvstore::internal {

// "/v1/tables/<table, percent-encoded>[:verb]".
std::string TablePath(absl::string_view table, absl::string_view verb = "");

// Moves `mutations` into a repeated proto field.
template <typename Repeated>
void AddMutations(std::vector<v1::Mutation> mutations, Repeated* out) {
  for (v1::Mutation& m : mutations) *out->Add() = std::move(m);
}

// The requests of the single-row writes, as both call paths send them.
v1::MutateRowRequest MutateRowRequestFor(absl::string_view row_key,
                                         std::vector<v1::Mutation> mutations);
v1::CheckAndMutateRowRequest CheckAndMutateRowRequestFor(
    absl::string_view row_key, std::optional<v1::RowFilter> predicate,
    std::vector<v1::Mutation> true_mutations,
    std::vector<v1::Mutation> false_mutations);
v1::ReadModifyWriteRowRequest ReadModifyWriteRowRequestFor(
    absl::string_view row_key, std::vector<v1::ReadModifyWriteRule> rules);

// The store's answer to a failed call: its {code, message} body when it sent
// one, else the HTTP status read through the design's table.
absl::Status ErrorFromResponse(int http_status, absl::string_view content_type,
                               absl::string_view body);

// Keeps a response's status line and headers.
class HeadSink : public ResponseSink {
 public:
  void OnHead(const ResponseHead& head) override;
  int http_status() const { return http_status_; }
  const std::string& content_type() const { return content_type_; }
  std::optional<absl::Duration> retry_after() const { return retry_after_; }

 private:
  int http_status_ = 0;
  std::string content_type_;
  std::optional<absl::Duration> retry_after_;
};

// Collects a whole (small) response.
class BufferSink final : public HeadSink {
 public:
  absl::Status OnBody(absl::string_view bytes) override;
  const std::string& body() const { return body_; }

 private:
  std::string body_;
};

// Parses :readRows' stream of varint-delimited ReadRowsResponse messages as it
// arrives and hands each row to `on_row` (which returns false to stop: the
// sink then fails the exchange with CANCELLED so the connection is dropped).
class RowStreamSink final : public HeadSink {
 public:
  explicit RowStreamSink(absl::FunctionRef<bool(v1::Row)> on_row)
      : on_row_(on_row) {}

  absl::Status OnBody(absl::string_view bytes) override;

  // The call's outcome once the exchange ended with `exchanged`. A final
  // status that arrived wins over a connection that broke after it.
  absl::Status Outcome(const absl::Status& exchanged) const;

 private:
  absl::FunctionRef<bool(v1::Row)> on_row_;
  std::string buffer_;  // unparsed bytes (or an error body)
  std::optional<absl::Status> final_status_;
  bool stopped_ = false;
};

}  // namespace kvstore::internal

#endif  // KVSTORE_CLIENT_WIRE_H_
