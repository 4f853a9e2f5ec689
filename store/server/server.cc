#include "store/server/server.h"

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "common/status_macros.h"
#include "store/api/seed_table.h"
#include "store/storage/file_faults.h"

namespace kvstore::store {
namespace {

// The storage.write injection point, as the engine's before-write hook. The
// registry outlives the engine (Shutdown closes the engine last). io_error
// and disk_full there make the write-ahead log's next sync fail (with
// --fsync=always, this write's own), so the write meets the failure where a
// real disk would put it.
std::function<absl::Status(absl::string_view, absl::string_view)>
StorageWritePoint(InjectionRegistry* injection, FileFaults* faults) {
  return [injection, faults](absl::string_view table, absl::string_view row) {
    if (!injection->armed(PointId::kStorageWrite)) return absl::OkStatus();
    RequestInfo request;
    request.table = std::string(table);
    request.row_key = std::string(row);
    Verdict verdict = injection->CheckNow(PointId::kStorageWrite, request);
    if (verdict.kind != Verdict::kFileFault) return verdict.error;
    faults->FailNextLogSync(verdict.error);
    return absl::OkStatus();
  };
}

// The storage.sync injection point, as the file system's before-sync hook.
FileFaults::SyncHook StorageSyncPoint(const KvServer* server) {
  return [server](const std::string& file) {
    InjectionRegistry* injection = server->injection();
    if (injection == nullptr || !injection->armed(PointId::kStorageSync)) {
      return absl::OkStatus();
    }
    RequestInfo request;
    request.path = file;
    return injection->CheckNow(PointId::kStorageSync, request).error;
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<KvServer>> KvServer::Start(
    const ServerConfig& config) {
  std::unique_ptr<KvServer> server(new KvServer());
  EngineOptions engine = config.engine;
  engine.builtin_table = SeedTableSchema();
  if (config.error_injection) {
    auto faults = std::make_shared<FileFaults>(StorageSyncPoint(server.get()));
    InjectionOptions injection = config.injection;
    if (!engine.in_memory) {  // (the memory's files cannot lose power)
      injection.power_cut = [faults] { faults->CutPower(); };
    }
    server->injection_ = InjectionRegistry::Create(injection);
    engine.before_write =
        StorageWritePoint(server->injection_.get(), faults.get());
    engine.file_faults = std::move(faults);
  }
  KV_ASSIGN_OR_RETURN(server->engine_, OpenRocksEngine(engine));
  server->router_ = std::make_unique<RequestRouter>(
      server->engine_.get(), &server->metrics_, server->injection_.get(),
      config.cors_origin);
  HttpServerOptions http = config.http;
  if (server->injection_ != nullptr && config.request_journal) {
    server->journal_sink_ =
        std::make_unique<JournalSink>(&server->injection_->journal());
    http.exchange_sink = server->journal_sink_.get();
  }
  KV_ASSIGN_OR_RETURN(
      server->http_,
      HttpServer::Start(http, server->router_.get(), &server->metrics_));
  return server;
}

KvServer::~KvServer() { Shutdown(absl::ZeroDuration()).IgnoreError(); }

absl::Status KvServer::Shutdown(absl::Duration grace) {
  if (injection_ != nullptr) injection_->Shutdown();
  if (http_ != nullptr) http_->Shutdown(grace);
  return engine_ != nullptr ? engine_->Close() : absl::OkStatus();
}

}  // namespace kvstore::store
