// Private to the storage library: the RocksDB engine's RowScanner (see
// engine.h). Scans rows interval by interval on one snapshot; a read of one row
// needs no snapshot (one iterator is a consistent view) and is served by the
// row cache, or else read with a pooled prefix-mode iterator.
//
// Not thread-safe, like every RowScanner.
#ifndef KVSTORE_STORE_STORAGE_ROCKS_ROW_SCANNER_H_
#define KVSTORE_STORE_STORAGE_ROCKS_ROW_SCANNER_H_

#include <memory>
#include <vector>

#include "rocksdb/db.h"
#include "store/storage/engine.h"
#include "store/storage/rocks_support.h"
#include "store/storage/row_cache.h"
#include "store/storage/row_set.h"

namespace kvstore::store::rocks {

// A scan of `intervals` (normalized, ascending) of `table`, descending when
// `reversed`. `db`, `pool` and `cache` (null: none) must outlive the scanner.
std::unique_ptr<RowScanner> NewRocksRowScanner(
    rocksdb::DB* db, IteratorPool* pool, RowCache* cache,
    std::shared_ptr<const TableInfo> table, std::vector<KeyInterval> intervals,
    bool reversed);

}  // namespace kvstore::store::rocks

#endif  // KVSTORE_STORE_STORAGE_ROCKS_ROW_SCANNER_H_
