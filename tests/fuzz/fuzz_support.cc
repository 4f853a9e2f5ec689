#include "tests/fuzz/fuzz_support.h"

#include <optional>
#include <utility>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "store/api/seed_table.h"

namespace kvstore::fuzz {

void InProcessStore::Rebuild() {
  router_.reset();
  metrics_.reset();
  if (engine_ != nullptr) Check(engine_->Close().ok(), "close");
  engine_.reset();
  store::EngineOptions options;
  options.in_memory = true;
  options.builtin_table = store::SeedTableSchema();
  options.max_value_bytes = 64 * 1024;
  auto engine = store::OpenRocksEngine(options);
  Check(engine.ok(), "open the in-memory engine");
  engine_ = std::move(*engine);
  store::TableSchema t;
  t.set_name("t");
  t.add_column_families()->set_name("f");
  auto* g = t.add_column_families();
  g->set_name("g");
  g->mutable_gc_rule()->set_max_versions(1);
  Check(engine_->CreateTable(t).ok(), "create table t");
  metrics_ = std::make_unique<store::Metrics>();
  router_ = std::make_unique<store::RequestRouter>(engine_.get(),
                                                   metrics_.get(), nullptr);
}

int InProcessStore::Send(store::HttpRequest request) {
  absl::Notification answered;
  std::optional<store::HttpReply> reply;
  if (NextInputRebuilds()) Rebuild();
  router_->Handle(std::move(request), [&](store::HttpReply r) {
    reply.emplace(std::move(r));
    answered.Notify();
  });
  Check(answered.WaitForNotificationWithTimeout(absl::Seconds(30)),
        "no answer within 30 s");
  const int status = static_cast<int>(reply->response.result_int());
  Check(reply->drop || (status >= 100 && status <= 599), "bad HTTP status");
  if (reply->stream != nullptr) {
    for (int pieces = 0; pieces < 100000; ++pieces) {
      store::ChunkSource::Piece piece = reply->stream->Next();
      if (!piece.ok() || !piece->has_value()) break;
      Check(!(*piece)->empty(), "an empty stream piece");
    }
  }
  return status;
}

}  // namespace kvstore::fuzz
