// kvstore::Client's Async* calls (see client.h): the same requests and
// judgements as the synchronous calls in client.cc, driven by callbacks on the
// async transport's I/O thread, with retries scheduled on its timer.
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "client/retry_rules.h"
#include "client/wire.h"

namespace kvstore {
namespace {

using internal::AttemptOutcome;
using internal::ErrorFromResponse;
using internal::TablePath;

// One async call across its attempts.
struct AsyncRun {
  AsyncRun(internal::RetrySchedule s, HttpRequestSpec request,
           absl::AnyInvocable<AttemptOutcome(const HttpResponse&)> j,
           absl::AnyInvocable<void(absl::Status)> d, AsyncTransport* t)
      : schedule(std::move(s)),
        spec(std::move(request)),
        judge(std::move(j)),
        done(std::move(d)),
        transport(t) {}

  internal::RetrySchedule schedule;
  const HttpRequestSpec spec;
  absl::AnyInvocable<AttemptOutcome(const HttpResponse&)> judge;
  absl::AnyInvocable<void(absl::Status)> done;
  AsyncTransport* const transport;
};

void StartAttempt(const std::shared_ptr<AsyncRun>& run) {
  run->transport->Exchange(
      run->spec, run->schedule.AttemptDeadline(),
      [run](absl::StatusOr<HttpResponse> response) {
        AttemptOutcome outcome =
            response.ok() ? run->judge(*response)
                          : AttemptOutcome(std::move(response).status());
        absl::Status final;
        std::optional<absl::Duration> wait =
            run->schedule.AfterAttempt(outcome, &final);
        if (!wait.has_value()) {
          auto done = std::move(run->done);
          done(std::move(final));
          return;
        }
        run->transport->RunAfter(*wait, [run] { StartAttempt(run); });
      });
}

}  // namespace

void Client::RunAsync(bool idempotent, HttpRequestSpec spec, Judge judge,
                      absl::AnyInvocable<void(absl::Status)> done) {
  absl::Status open = CheckOpen();
  if (open.ok() && async_transport_ == nullptr) {
    open = absl::FailedPreconditionError("this client has no async transport");
  }
  if (!open.ok()) {
    done(std::move(open));
    return;
  }
  StartAttempt(std::make_shared<AsyncRun>(Schedule(idempotent), std::move(spec),
                                          std::move(judge), std::move(done),
                                          async_transport_.get()));
}

void Client::CallAsync(const std::string& method, const std::string& target,
                       const google::protobuf::Message* request,
                       std::shared_ptr<google::protobuf::Message> response,
                       bool idempotent,
                       absl::AnyInvocable<void(absl::Status)> done) {
  HttpRequestSpec spec = Spec(
      method, target, request != nullptr ? request->SerializeAsString() : "");
  RunAsync(
      idempotent, std::move(spec),
      [response = std::move(response),
       target](const HttpResponse& answer) -> Attempt {
        if (answer.http_status != 200) {
          return {ErrorFromResponse(answer.http_status, answer.content_type,
                                    answer.body),
                  answer.retry_after};
        }
        if (response != nullptr && !response->ParseFromString(answer.body)) {
          return absl::DataLossError(absl::StrCat(
              "unparsable ", response->GetTypeName(), " from ", target));
        }
        return absl::OkStatus();
      },
      std::move(done));
}

void Client::AsyncMutateRow(absl::string_view table, absl::string_view row_key,
                            std::vector<v1::Mutation> mutations,
                            absl::AnyInvocable<void(absl::Status)> done) {
  const bool idempotent = IdempotentMutations(mutations);
  v1::MutateRowRequest request =
      internal::MutateRowRequestFor(row_key, std::move(mutations));
  CallAsync("POST", TablePath(table, "mutateRow"), &request,
            std::make_shared<v1::MutateRowResponse>(), idempotent,
            std::move(done));
}

void Client::AsyncReadRow(
    absl::string_view table, absl::string_view row_key,
    std::optional<v1::RowFilter> filter,
    absl::AnyInvocable<void(absl::StatusOr<std::optional<v1::Row>>)> done) {
  v1::ReadRowsRequest request;
  request.mutable_rows()->add_row_keys(std::string(row_key));
  if (filter.has_value()) *request.mutable_filter() = std::move(*filter);
  auto found = std::make_shared<std::optional<v1::Row>>();
  RunAsync(
      /*idempotent=*/true,
      Spec("POST", TablePath(table, "readRows"), request.SerializeAsString()),
      [found](const HttpResponse& answer) -> Attempt {
        found->reset();  // what an earlier, failed attempt saw
        auto keep = [&](v1::Row row) {
          *found = std::move(row);
          return true;
        };
        internal::RowStreamSink sink(keep);  // (holds a reference to keep)
        ResponseHead head;
        head.http_status = answer.http_status;
        head.content_type = answer.content_type;
        head.retry_after = answer.retry_after;
        sink.OnHead(head);
        absl::Status parsed = sink.OnBody(answer.body);
        return {sink.Outcome(parsed), sink.retry_after()};
      },
      [found, done = std::move(done)](absl::Status status) mutable {
        if (!status.ok()) {
          done(std::move(status));
        } else {
          done(std::move(*found));
        }
      });
}

void Client::AsyncCheckAndMutateRow(
    absl::string_view table, absl::string_view row_key,
    std::optional<v1::RowFilter> predicate,
    std::vector<v1::Mutation> true_mutations,
    std::vector<v1::Mutation> false_mutations,
    absl::AnyInvocable<void(absl::StatusOr<bool>)> done) {
  v1::CheckAndMutateRowRequest request = internal::CheckAndMutateRowRequestFor(
      row_key, std::move(predicate), std::move(true_mutations),
      std::move(false_mutations));
  auto response = std::make_shared<v1::CheckAndMutateRowResponse>();
  CallAsync("POST", TablePath(table, "checkAndMutateRow"), &request, response,
            /*idempotent=*/false,
            [response, done = std::move(done)](absl::Status status) mutable {
              if (!status.ok()) {
                done(std::move(status));
              } else {
                done(response->predicate_matched());
              }
            });
}

void Client::AsyncReadModifyWriteRow(
    absl::string_view table, absl::string_view row_key,
    std::vector<v1::ReadModifyWriteRule> rules,
    absl::AnyInvocable<void(absl::StatusOr<v1::Row>)> done) {
  v1::ReadModifyWriteRowRequest request =
      internal::ReadModifyWriteRowRequestFor(row_key, std::move(rules));
  auto response = std::make_shared<v1::ReadModifyWriteRowResponse>();
  CallAsync("POST", TablePath(table, "readModifyWriteRow"), &request, response,
            /*idempotent=*/false,
            [response, done = std::move(done)](absl::Status status) mutable {
              if (!status.ok()) {
                done(std::move(status));
              } else {
                done(std::move(*response->mutable_row()));
              }
            });
}

void Client::AsyncSampleRowKeys(
    absl::string_view table,
    absl::AnyInvocable<void(absl::StatusOr<std::vector<RowKeySample>>)> done) {
  auto response = std::make_shared<v1::SampleRowKeysResponse>();
  CallAsync("GET", TablePath(table, "sampleRowKeys"), nullptr, response,
            /*idempotent=*/true,
            [response, done = std::move(done)](absl::Status status) mutable {
              if (!status.ok()) {
                done(std::move(status));
                return;
              }
              std::vector<RowKeySample> samples;
              for (const auto& s : response->samples()) {
                samples.push_back(RowKeySample{s.row_key(), s.offset_bytes()});
              }
              done(std::move(samples));
            });
}

}  // namespace kvstore
