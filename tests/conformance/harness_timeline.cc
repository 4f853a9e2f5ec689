// The harness's side of the per-test timeline (timeline.h): what it records
// of each test, and when it writes the files.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/common/http_test_client.h"
#include "tests/conformance/harness.h"
#include "tests/conformance/markup.h"

namespace kvstore::conformance {

ConformanceTest* ConformanceTest::current_ = nullptr;

class TimelineListener final : public ::testing::EmptyTestEventListener {
 public:
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    ConformanceTest* test = ConformanceTest::current_;
    if (test == nullptr || !result.failed()) return;
    test->timeline_.AddFailure(
        {absl::ToUnixMicros(absl::Now()),
         absl::StrCat(result.file_name() == nullptr ? "?" : result.file_name(),
                      ":", result.line_number()),
         result.message()});
  }
};

::testing::TestEventListener* NewTimelineListener() {
  return new TimelineListener();
}

void ConformanceTest::RecordRpc(const std::string& method,
                                const std::string& summary, absl::Time start,
                                const grpc::Status& rpc, int code,
                                const std::string& message) {
  TimelineRpc record;
  record.method = method;
  record.summary = absl::StrCat("client ", caller_, ": ", summary);
  record.start_us = absl::ToUnixMicros(start);
  record.end_us = absl::ToUnixMicros(absl::Now());
  record.rpc_failed = !rpc.ok();
  record.code = rpc.ok() ? code : static_cast<int>(rpc.error_code());
  record.message = rpc.ok() ? message : rpc.error_message();
  timeline_.AddRpc(std::move(record));
}

void ConformanceTest::WriteTimeline() {
  const HarnessConfig& config = GetHarnessConfig();
  if (config.timeline_dir.empty() || events_ == nullptr ||
      !(HasFailure() || config.timeline_all)) {
    return;
  }
  // The stream delivers in seq order: once a request made now shows up,
  // everything the store recorded before it has arrived.
  uint64_t seen = 0;
  for (const auto& e : events_->Events()) seen = std::max(seen, e.seq);
  if (testing::RequestOnce(store_->port(), "GET", "/healthz").ok()) {
    events_->WaitForRequests("/healthz", seen, 1, absl::Seconds(10))
        .status()
        .IgnoreError();
  }
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name =
      absl::StrCat(info->test_suite_name(), ".", info->name());
  const std::string base = absl::StrCat(config.timeline_dir, "/", name);
  const bool failed = HasFailure();
  const std::vector<InjectionEventRecord> store = events_->Events();
  if (!WriteTextFile(base + ".json", timeline_.Json(name, failed, store)) ||
      !WriteTextFile(base + ".html", timeline_.Html(name, failed, store))) {
    ADD_FAILURE() << "cannot write the timeline to " << base << ".html";
    return;
  }
  RecordProperty("timeline", base + ".html");
}

}  // namespace kvstore::conformance
