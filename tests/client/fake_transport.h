// A scripted Transport for kvstore::Client unit tests: answers each Exchange
// with the next scripted response (head, body pieces, then a transport error if
// any) and records the requests and deadlines it saw. Thread-safe.
#ifndef KVSTORE_TESTS_CLIENT_FAKE_TRANSPORT_H_
#define KVSTORE_TESTS_CLIENT_FAKE_TRANSPORT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/transport.h"
#include "google/protobuf/message.h"
#include "kvstore/v1/data.pb.h"
#include "kvstore/v1/store.pb.h"

namespace kvstore {

struct ScriptedResponse {
  int http_status = 200;
  std::string content_type = "application/x-protobuf";
  std::vector<std::string> pieces;  // the body, as delivered
  absl::Status transport_error;     // returned after delivering the pieces
  std::optional<absl::Duration> retry_after;
};

// Answers each Exchange with the next scripted response and records the
// requests and deadlines it saw.
class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(std::vector<ScriptedResponse> script)
      : script_(std::move(script)) {}

  absl::Status Exchange(const HttpRequestSpec& request, absl::Time deadline,
                        ResponseSink& sink) override {
    ScriptedResponse response;
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(request);
      deadlines_.push_back(deadline);
      if (next_ >= script_.size()) {
        return absl::InternalError("fake transport: script exhausted");
      }
      response = script_[next_++];
    }
    ResponseHead head;
    head.http_status = response.http_status;
    head.content_type = response.content_type;
    head.retry_after = response.retry_after;
    sink.OnHead(head);
    for (const std::string& piece : response.pieces) {
      absl::Status consumed = sink.OnBody(piece);
      if (!consumed.ok()) {
        absl::MutexLock lock(&mu_);
        ++abandoned_;
        return consumed;
      }
    }
    return response.transport_error;
  }

  std::vector<HttpRequestSpec> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<absl::Time> deadlines() {
    absl::MutexLock lock(&mu_);
    return deadlines_;
  }
  int abandoned() {
    absl::MutexLock lock(&mu_);
    return abandoned_;
  }

 private:
  absl::Mutex mu_;
  std::vector<ScriptedResponse> script_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<HttpRequestSpec> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  int abandoned_ ABSL_GUARDED_BY(mu_) = 0;
};

inline std::string Delimited(const google::protobuf::Message& m) {
  std::string body = m.SerializeAsString();
  std::string out;
  for (uint64_t v = body.size();; v >>= 7) {
    if (v < 0x80) {
      out.push_back(static_cast<char>(v));
      break;
    }
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  }
  return out + body;
}

inline std::string RowMessage(const std::string& key,
                              const std::string& value) {
  v1::ReadRowsResponse response;
  response.mutable_row()->set_key(key);
  auto* cell =
      response.mutable_row()->add_families()->add_columns()->add_cells();
  cell->set_value(value);
  return Delimited(response);
}

inline std::string StatusMessage(absl::StatusCode code,
                                 const std::string& message) {
  v1::ReadRowsResponse response;
  response.mutable_status()->set_code(static_cast<int>(code));
  response.mutable_status()->set_message(message);
  return Delimited(response);
}

inline std::string StatusBody(absl::StatusCode code,
                              const std::string& message) {
  v1::Status status;
  status.set_code(static_cast<int>(code));
  status.set_message(message);
  return status.SerializeAsString();
}

}  // namespace kvstore

#endif  // KVSTORE_TESTS_CLIENT_FAKE_TRANSPORT_H_
