// Helpers for tests that drive a storage Engine directly.
#ifndef KVSTORE_TESTS_STORE_ENGINE_UTIL_H_
#define KVSTORE_TESTS_STORE_ENGINE_UTIL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "store/api/seed_table.h"
#include "store/storage/engine.h"
#include "store/storage/rocks_engine.h"

namespace kvstore::store {

// Engine::MutateRow, waiting for its callback.
inline absl::Status MutateRowAndWait(Engine& engine, absl::string_view table,
                                     std::string row,
                                     std::vector<Mutation> mutations) {
  absl::Notification done;
  absl::Status result;
  engine.MutateRow(table, std::move(row), std::move(mutations),
                   [&](absl::Status status) {
                     result = std::move(status);
                     done.Notify();
                   });
  done.WaitForNotification();
  return result;
}

// EngineOptions with the seed API's table built in, as the server opens the
// engine.
inline EngineOptions WithSeedTable() {
  EngineOptions options;
  options.builtin_table = SeedTableSchema();
  return options;
}

}  // namespace kvstore::store

#endif  // KVSTORE_TESTS_STORE_ENGINE_UTIL_H_
