// The body of a readRows answer: a scan streamed as ReadRowsResponse messages
// (store.proto), one per row that passes the filter, then one holding only the
// final status. Binary: each message preceded by its varint length; JSON: one
// per line (application/x-ndjson). Produced as the client reads it, so a scan
// is never held whole.
//
// With an injection registry the stream passes read_rows.row once it has sent
// `after_rows` rows (once per stream): an error ends the stream with that
// status, a drop/reset/truncate cuts it off.
//
// Owns the scanner and the filter; the registry is not owned and must outlive
// the source. Not thread-safe: the HTTP server drives it from one I/O thread.
#ifndef KVSTORE_STORE_API_READ_ROWS_SOURCE_H_
#define KVSTORE_STORE_API_READ_ROWS_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/api/api_codec.h"
#include "store/filter/row_filter.h"
#include "store/http/http_server.h"
#include "store/injection/injection_registry.h"
#include "store/storage/engine.h"

namespace kvstore::store {

class ReadRowsSource final : public ChunkSource {
 public:
  // Pieces are cut at about this size: big enough to amortize writes, small
  // enough that a piece never holds much of a scan.
  static constexpr size_t kPieceBytes = 256 * 1024;

  // `filter` may be null (every cell passes); `rows_limit` 0 means no limit.
  // `injection` may be null (no read_rows.row check).
  ReadRowsSource(std::unique_ptr<RowScanner> scanner,
                 std::unique_ptr<CompiledFilter> filter, int64_t rows_limit,
                 Encoding encoding, InjectionRegistry* injection,
                 std::shared_ptr<const RequestInfo> info, int64_t after_rows);

  absl::StatusOr<std::optional<std::string>> Next() override;

 private:
  // Checks read_rows.row if due. Returns false once the piece is done: the
  // stream ended with the verdict's error, or is cut off (`truncated_`).
  bool PassInjectionPoint(std::string* piece);
  // Appends the current row's selected cells as one message.
  void AppendRow(std::string* piece);
  // Appends the final status message and releases the scanner.
  void Finish(const absl::Status& status, std::string* piece);

  std::unique_ptr<RowScanner> scanner_;
  const std::unique_ptr<CompiledFilter> filter_;
  const int64_t rows_limit_;
  const Encoding encoding_;
  InjectionRegistry* injection_;  // null once read_rows.row has been passed
  const std::shared_ptr<const RequestInfo> info_;
  const int64_t after_rows_;
  int64_t emitted_ = 0;
  int64_t pieces_ = 0;  // pieces produced so far
  bool finished_ = false;
  bool truncated_ = false;
  // Reused across rows to save allocations.
  ScannedRow row_;
  std::vector<FilteredCell> selection_;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_READ_ROWS_SOURCE_H_
