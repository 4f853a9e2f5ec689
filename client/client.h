// kvstore::Client: the C++ client of the store's data API (docs/design.md,
// "Client").
//
//   kvstore::ClientOptions options;
//   options.endpoint = "127.0.0.1:4000";
//   auto client = kvstore::Client::Create(options);
//   absl::Status s = (*client)->MutateRow(
//       "default", "row-1", {kvstore::SetCell("cf", "q", "value")});
//   (*client)->ReadRows("default", kvstore::ReadRowsQuery{},
//                       [](kvstore::v1::Row row) { ...; return true; });
//
// Requests and answers are kvstore.v1 messages (protos/kvstore/v1/), sent as
// binary protobuf over a pool of keep-alive HTTP connections. Every call
// returns the store's outcome as an absl::Status with the store's code (the
// design's code <-> HTTP table read backwards when a body cannot be parsed);
// transport failures are UNAVAILABLE, and a call past its deadline is
// DEADLINE_EXCEEDED.
//
// Retries: a transient failure (UNAVAILABLE, which includes a refused or
// broken connection, or an attempt that ran past attempt_timeout) is retried
// with exponential backoff and jitter, waiting at least what a Retry-After
// header asks, for idempotent calls only: reads, SampleRowKeys, GetTable,
// ListTables, and MutateRow / MutateRows entries whose SetCells all carry an
// explicit timestamp (not -1). CheckAndMutateRow, ReadModifyWriteRow,
// CreateTable and DeleteTable are never retried. ReadRows resumes after the
// last row it delivered (before it, when reversed), so no row is delivered
// twice or skipped; MutateRows retries only its entries that failed
// transiently. overall_timeout bounds a call with all its attempts and
// backoffs; a call that runs out of it ends with DEADLINE_EXCEEDED.
//
// Asynchronous calls: the unary data calls also come as Async* methods, for
// callers that keep many calls in flight from few threads (the test proxy
// does). They have the same semantics, retries and timeouts; each calls its
// `done` exactly once, on the client's I/O thread (started on the first async
// call), so `done` must not block. A call that cannot start (a closed client)
// calls `done` at once, on the calling thread. They keep their own
// connections, but share pool_size with the blocking calls: at most pool_size
// requests of a client are in flight at once, whichever path they take.
// CancelAsyncCalls, or destroying the client, ends the
// async calls in flight with CANCELLED; the destructor returns once their
// `done` have run, and must not be called from a `done`.
//
// Close() makes every later call fail with FAILED_PRECONDITION; calls already
// running finish normally.
//
// Thread-safe: one Client serves any number of threads. Owns its transport.
#ifndef KVSTORE_CLIENT_CLIENT_H_
#define KVSTORE_CLIENT_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/async_transport.h"
#include "client/builders.h"
#include "client/retry_schedule.h"
#include "client/transport.h"
#include "kvstore/v1/data.pb.h"
#include "kvstore/v1/store.pb.h"

namespace kvstore {

struct ClientOptions {
  std::string endpoint = "127.0.0.1:4000";  // "ip:port" of a kvstore_server
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration attempt_timeout = absl::Seconds(30);  // one HTTP exchange
  absl::Duration overall_timeout = absl::Seconds(60);  // a call, all attempts
  int pool_size = 16;  // requests in flight at most, all calls; >= 1
  RetryOptions retry;
  // Sent with every request, e.g. {"X-Test-Tag", "t1"} to scope injected
  // faults to this client.
  std::vector<std::pair<std::string, std::string>> headers;
  // Test hooks. `sleep` waits between attempts (default absl::SleepFor);
  // `jitter` returns a number in [0, 1) (default: random). A backoff of B
  // waits B/2 + jitter() * B/2.
  std::function<void(absl::Duration)> sleep;
  std::function<double()> jitter;
};

// What :readRows selects; see kvstore.v1.ReadRowsRequest.
struct ReadRowsQuery {
  v1::RowSet rows;  // empty: every row
  std::optional<v1::RowFilter> filter;
  int64_t rows_limit = 0;  // 0: no limit
  bool reversed = false;
};

// One entry of a MutateRows call.
struct BulkEntry {
  std::string row_key;
  std::vector<v1::Mutation> mutations;
};

struct RowKeySample {
  std::string row_key;
  int64_t offset_bytes = 0;
};

class Client {
 public:
  // InvalidArgument for a malformed endpoint or option. Connects lazily.
  static absl::StatusOr<std::unique_ptr<Client>> Create(
      const ClientOptions& options);
  // The same over any transports (tests use fakes). Without an
  // `async_transport`, Async* calls fail with FAILED_PRECONDITION.
  static absl::StatusOr<std::unique_ptr<Client>> CreateWithTransport(
      const ClientOptions& options, std::unique_ptr<Transport> transport,
      std::unique_ptr<AsyncTransport> async_transport = nullptr);

  // Ends async calls in flight (see the header comment).
  ~Client();

  // Applies `mutations` to one row atomically.
  absl::Status MutateRow(absl::string_view table, absl::string_view row_key,
                         std::vector<v1::Mutation> mutations);

  // Applies each entry atomically and independently. The call's own status is
  // OK when the store answered; each entry's outcome is in the result, by
  // index.
  absl::StatusOr<std::vector<absl::Status>> MutateRows(
      absl::string_view table, std::vector<BulkEntry> entries);

  // Streams the selected rows to `on_row` in order as they arrive (a scan is
  // never buffered whole). `on_row` returns false to stop early: the call then
  // returns OK and the rest of the scan is abandoned.
  absl::Status ReadRows(absl::string_view table, const ReadRowsQuery& query,
                        absl::FunctionRef<bool(v1::Row)> on_row);

  // One row, or nullopt if it has no cells (after `filter`, if given).
  absl::StatusOr<std::optional<v1::Row>> ReadRow(
      absl::string_view table, absl::string_view row_key,
      std::optional<v1::RowFilter> filter = std::nullopt);

  // Applies `true_mutations` if the row has a cell passing `predicate` (or any
  // cell, without one), else `false_mutations`. Returns whether it matched.
  absl::StatusOr<bool> CheckAndMutateRow(
      absl::string_view table, absl::string_view row_key,
      std::optional<v1::RowFilter> predicate,
      std::vector<v1::Mutation> true_mutations,
      std::vector<v1::Mutation> false_mutations);

  // Applies the rules atomically; returns the new cells of the touched
  // columns.
  absl::StatusOr<v1::Row> ReadModifyWriteRow(
      absl::string_view table, absl::string_view row_key,
      std::vector<v1::ReadModifyWriteRule> rules);

  // Approximate split points, ending with "" and the table's total size.
  absl::StatusOr<std::vector<RowKeySample>> SampleRowKeys(
      absl::string_view table);

  // Asynchronous forms of the calls above (see the header comment).
  void AsyncMutateRow(absl::string_view table, absl::string_view row_key,
                      std::vector<v1::Mutation> mutations,
                      absl::AnyInvocable<void(absl::Status)> done);
  void AsyncReadRow(
      absl::string_view table, absl::string_view row_key,
      std::optional<v1::RowFilter> filter,
      absl::AnyInvocable<void(absl::StatusOr<std::optional<v1::Row>>)> done);
  void AsyncCheckAndMutateRow(
      absl::string_view table, absl::string_view row_key,
      std::optional<v1::RowFilter> predicate,
      std::vector<v1::Mutation> true_mutations,
      std::vector<v1::Mutation> false_mutations,
      absl::AnyInvocable<void(absl::StatusOr<bool>)> done);
  void AsyncReadModifyWriteRow(
      absl::string_view table, absl::string_view row_key,
      std::vector<v1::ReadModifyWriteRule> rules,
      absl::AnyInvocable<void(absl::StatusOr<v1::Row>)> done);
  void AsyncSampleRowKeys(
      absl::string_view table,
      absl::AnyInvocable<void(absl::StatusOr<std::vector<RowKeySample>>)> done);

  // Table administration.
  absl::Status CreateTable(const v1::Table& table);
  absl::StatusOr<std::vector<v1::Table>> ListTables();
  absl::StatusOr<v1::Table> GetTable(absl::string_view table);
  absl::Status DeleteTable(absl::string_view table);

  // Rejects every later call with FAILED_PRECONDITION; calls in flight go on.
  // Idempotent.
  void Close() { closed_.store(true); }
  bool closed() const { return closed_.load(); }

  // Closes the client and ends its async calls in flight with CANCELLED
  // (their `done` run on the I/O thread, possibly after this returns), for a
  // prompt shutdown. Blocking calls in flight go on.
  void CancelAsyncCalls();

 private:
  using Attempt = internal::AttemptOutcome;
  // Judges one async attempt's whole response (parsing what it needs into
  // the call's own state).
  using Judge = absl::AnyInvocable<Attempt(const HttpResponse&)>;

  Client(const ClientOptions& options, std::unique_ptr<Transport> transport,
         std::unique_ptr<AsyncTransport> async_transport);

  internal::RetrySchedule Schedule(bool idempotent) const;

  // Runs `attempt` (given its deadline) until it succeeds or fails for good:
  // only idempotent calls retry, only transient failures, within the overall
  // timeout and max_attempts. `attempt` may be called again after a failure.
  absl::Status Run(bool idempotent,
                   absl::FunctionRef<Attempt(absl::Time deadline)> attempt);
  // A unary call: a 200 body parsed into `response` (may be null), any other
  // answer turned into the store's status.
  absl::Status Call(const std::string& method, const std::string& target,
                    const google::protobuf::Message* request,
                    google::protobuf::Message* response, bool idempotent);
  // The async form of Run: sends `spec` until `judge` finds an attempt final
  // (or retries run out), then calls `done` with the call's status.
  void RunAsync(bool idempotent, HttpRequestSpec spec, Judge judge,
                absl::AnyInvocable<void(absl::Status)> done);
  // The async form of Call.
  void CallAsync(const std::string& method, const std::string& target,
                 const google::protobuf::Message* request,
                 std::shared_ptr<google::protobuf::Message> response,
                 bool idempotent, absl::AnyInvocable<void(absl::Status)> done);
  HttpRequestSpec Spec(std::string method, std::string target,
                       std::string body) const;
  absl::Status CheckOpen() const;

  const ClientOptions options_;
  const std::unique_ptr<Transport> transport_;
  std::unique_ptr<AsyncTransport> async_transport_;  // may be null
  std::atomic<bool> closed_{false};
};

}  // namespace kvstore

#endif  // KVSTORE_CLIENT_CLIENT_H_
