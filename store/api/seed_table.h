// The built-in table behind the seed API (/set, /get): `default`, with one
// column family `cf` that keeps one version per column. The server opens the
// engine with it as the built-in table (EngineOptions::builtin_table), so it
// always exists and cannot be deleted.
//
// Thread-safe (constants and a pure function).
#ifndef KVSTORE_STORE_API_SEED_TABLE_H_
#define KVSTORE_STORE_API_SEED_TABLE_H_

#include "absl/strings/string_view.h"
#include "store/storage/engine.h"

namespace kvstore::store {

inline constexpr absl::string_view kDefaultTable = "default";
inline constexpr absl::string_view kDefaultFamily = "cf";

// The schema of kDefaultTable.
TableSchema SeedTableSchema();

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_SEED_TABLE_H_
