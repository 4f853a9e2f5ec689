// The storage engine interface: tables of rows of timestamped cells (see
// docs/design.md's data model).
//
// An Engine is created by a factory (OpenRocksEngine in rocks_engine.h) and
// owned by the caller. All methods are thread-safe. Every write to one row is
// atomic: the mutations of one MutateRow call all apply or none do. Writes are
// acknowledged (their callback runs) only once they are as durable as
// EngineOptions::sync asks.
#ifndef KVSTORE_STORE_STORAGE_ENGINE_H_
#define KVSTORE_STORE_STORAGE_ENGINE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kvstore/v1/data.pb.h"
#include "kvstore/v1/store.pb.h"
#include "store/filter/row_filter.h"

namespace kvstore::store {

// Limits of the data model (docs/design.md).
inline constexpr size_t kMaxRowKeyBytes = 4 * 1024;
inline constexpr size_t kMaxQualifierBytes = 16 * 1024;
inline constexpr size_t kMaxFamilyNameBytes = 64;
// SetCell's timestamp meaning "the server's clock at commit time".
inline constexpr int64_t kServerTimestamp = -1;

// A table's name and column families with their GC rules
// (protos/kvstore/v1/store.proto). max_versions: versions kept per column;
// older cells are deleted by the write that makes them excess (1 = the
// single-version layout). max_age_micros: cells older than this are not
// returned.
using TableSchema = kvstore::v1::Table;

inline constexpr size_t kMaxTableNameBytes = 128;

// Checks names ([-_.a-zA-Z0-9]+, table <= 128 and family <= 64 characters),
// that family names are unique, and that GC rules are not negative.
// InvalidArgument naming the field otherwise.
absl::Status ValidateTableSchema(const TableSchema& schema);

// One change to a row. Build with the factory functions.
struct Mutation {
  enum class Kind {
    kSetCell,
    kDeleteFromColumn,
    kDeleteFromFamily,
    kDeleteFromRow
  };

  static Mutation SetCell(std::string family, std::string qualifier,
                          int64_t timestamp_micros, std::string value);
  // Deletes the cells of one column with timestamps in [start, end); end 0
  // means no upper bound.
  static Mutation DeleteFromColumn(std::string family, std::string qualifier,
                                   int64_t start_micros = 0,
                                   int64_t end_micros = 0);
  static Mutation DeleteFromFamily(std::string family);
  static Mutation DeleteFromRow();

  Kind kind = Kind::kSetCell;
  std::string family;
  std::string qualifier;
  int64_t timestamp_micros = kServerTimestamp;  // kSetCell
  std::string value;                            // kSetCell
  int64_t start_micros = 0;                     // kDeleteFromColumn
  int64_t end_micros = 0;                       // kDeleteFromColumn
};

struct Cell {
  std::string family;
  std::string qualifier;
  int64_t timestamp_micros = 0;
  std::string value;

  friend bool operator==(const Cell& a, const Cell& b) {
    return a.family == b.family && a.qualifier == b.qualifier &&
           a.timestamp_micros == b.timestamp_micros && a.value == b.value;
  }
};

// Figures for /metrics.
struct EngineStats {
  uint64_t estimated_keys = 0;
  uint64_t live_sst_bytes = 0;
  uint64_t memtable_bytes = 0;
  // Flushes and compactions running or due (0: storage is settled).
  uint64_t background_jobs = 0;
  uint64_t writes_committed = 0;  // MutateRow calls acknowledged OK
  uint64_t wal_syncs = 0;         // fsyncs of the write-ahead log
  // Hand-offs of the log's buffer to the OS, each shared by one I/O-loop
  // turn's writes (0 with --fsync=always, where each write syncs).
  uint64_t wal_flushes = 0;
  uint64_t row_cache_hits = 0;    // one-row reads served from the row cache
  uint64_t row_cache_misses = 0;  // one-row reads that went to storage
  uint64_t row_cache_bytes = 0;   // bytes the row cache holds now
  bool writes_refused = false;    // see Engine::Writable
  uint64_t refused_writes = 0;    // writes failed because writes were refused
  uint64_t write_recoveries = 0;  // refusals that ended without a restart
};

// Iterates the rows of a scan in order, one at a time: a scan is never held
// whole. Reads a snapshot taken when the scan starts. Not thread-safe; must not
// outlive its engine.
// One row of a scan: its key and its cells in row order (family name,
// qualifier, newest first), without labels. RowScanner::Next refills it, so one
// instance serves a whole scan and its buffers are reused.
struct ScannedRow {
  std::string key;
  std::vector<FilterCell> cells;
};

class RowScanner {
 public:
  virtual ~RowScanner() = default;
  // Fills `row` with the next row that has at least one cell and returns true,
  // or returns false once the scan is done. Internal or DataLoss on a storage
  // error.
  virtual absl::StatusOr<bool> Next(ScannedRow* row) = 0;
};

class Engine {
 public:
  // Receives the outcome of a write; runs on an engine thread, so it must not
  // block.
  using WriteCallback = absl::AnyInvocable<void(absl::Status) &&>;

  virtual ~Engine() = default;

  // Applies `mutations` to one row atomically and calls `done` once the write
  // is durable. Errors (nothing is applied): NotFound for an unknown table or
  // family; InvalidArgument for a bad row key, qualifier, value size or time
  // range (the message names the field); FailedPrecondition once the engine is
  // closing; Internal for a storage failure.
  virtual void MutateRow(absl::string_view table, std::string row,
                         std::vector<Mutation> mutations,
                         WriteCallback done) = 0;

  // Atomically on one row: evaluates `predicate` on the row as it is (null:
  // "the row has any cell"), then applies `if_true` or `if_false` (either may
  // be empty, not both). `done` gets whether the predicate matched. Errors as
  // MutateRow's, for both lists, before anything is read.
  using CheckCallback = absl::AnyInvocable<void(absl::StatusOr<bool>) &&>;
  virtual void CheckAndMutateRow(
      absl::string_view table, std::string row,
      std::shared_ptr<const CompiledFilter> predicate,
      std::vector<Mutation> if_true, std::vector<Mutation> if_false,
      CheckCallback done) = 0;

  // Atomically on one row: applies the rules in order (later rules see earlier
  // results) to the newest cell of each column; the new cell's timestamp is the
  // larger of the server clock and the column's newest timestamp. `done` gets
  // a row holding only the touched columns, one new cell each. InvalidArgument
  // (nothing applied) for no rules, a rule without append or increment, or an
  // increment of a value that is not 8 bytes; NotFound for an unknown family.
  using RowCallback = absl::AnyInvocable<void(absl::StatusOr<v1::Row>) &&>;
  virtual void ReadModifyWriteRow(absl::string_view table, std::string row,
                                  std::vector<v1::ReadModifyWriteRule> rules,
                                  RowCallback done) = 0;

  // Row keys that split the table into pieces of roughly known size, from the
  // storage's own estimates (SST file boundaries and approximate sizes):
  // sorted, offsets (bytes before the key) non-decreasing, the last entry ""
  // with the table's total. NotFound for an unknown table.
  struct RowKeySample {
    std::string row_key;
    int64_t offset_bytes = 0;
  };
  virtual absl::StatusOr<std::vector<RowKeySample>> SampleRowKeys(
      absl::string_view table) = 0;

  // The newest cell of one column, or nullopt if the column has none. NotFound
  // for an unknown table, InvalidArgument for a bad row key.
  virtual absl::StatusOr<std::optional<Cell>> ReadNewestCell(
      absl::string_view table, absl::string_view row, absl::string_view family,
      absl::string_view qualifier) = 0;

  // Starts a scan of `rows` (empty: every row) in ascending key order, or
  // descending when `reversed`. Within a row, families come in name order,
  // qualifiers in byte order, cells newest first; cells older than their
  // family's max_age are left out. NotFound for an unknown table,
  // InvalidArgument for a bad row set.
  virtual absl::StatusOr<std::unique_ptr<RowScanner>> ScanRows(
      absl::string_view table, const v1::RowSet& rows, bool reversed) = 0;

  // Table administration. The engine's built-in table, if it was opened with
  // one (EngineOptions::builtin_table), always exists. CreateTable:
  // InvalidArgument (see ValidateTableSchema), AlreadyExists. DeleteTable
  // removes the table and all its rows: NotFound, or FailedPrecondition for
  // the built-in table. Admin changes are synced before they return.
  virtual absl::Status CreateTable(const TableSchema& schema) = 0;
  virtual absl::StatusOr<std::vector<TableSchema>> ListTables() = 0;
  virtual absl::StatusOr<TableSchema> GetTable(absl::string_view name) = 0;
  virtual absl::Status DeleteTable(absl::string_view name) = 0;
  // Deletes every row of the table and keeps the table (the built-in one
  // included). Writes admitted before the call may still land after it.
  // NotFound for an unknown table.
  virtual absl::Status ClearTable(absl::string_view name) = 0;

  virtual EngineStats GetStats() = 0;

  // OK while writes are accepted, else the error they fail with now:
  // ResourceExhausted (HTTP 507) while the disk is full, Internal after
  // another storage failure. Writes resume by themselves once the storage
  // recovers (space freed), without a restart.
  virtual absl::Status Writable() = 0;

  // Stops accepting writes, finishes the queued ones, syncs and closes the
  // storage. Idempotent.
  virtual absl::Status Close() = 0;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_STORAGE_ENGINE_H_
