#include "store/api/read_rows_source.h"

#include <utility>

#include "common/coding.h"
#include "common/status_proto.h"
#include "kvstore/v1/store.pb.h"
#include "store/api/row_wire.h"

namespace kvstore::store {

ReadRowsSource::ReadRowsSource(std::unique_ptr<RowScanner> scanner,
                               std::unique_ptr<CompiledFilter> filter,
                               int64_t rows_limit, Encoding encoding,
                               InjectionRegistry* injection,
                               std::shared_ptr<const RequestInfo> info,
                               int64_t after_rows)
    : scanner_(std::move(scanner)),
      filter_(std::move(filter)),
      rows_limit_(rows_limit),
      encoding_(encoding),
      injection_(injection),
      info_(std::move(info)),
      after_rows_(after_rows) {}

absl::StatusOr<std::optional<std::string>> ReadRowsSource::Next() {
  if (truncated_) {
    return absl::UnavailableError("stream truncated by read_rows.row");
  }
  if (finished_) return std::nullopt;
  std::string piece;
  // A point read's answer is small: only a stream that has already filled a
  // piece gets a whole piece's buffer up front (a 256 KiB allocation per
  // request would go to mmap and page faults).
  piece.reserve(pieces_ == 0 ? 4096 : kPieceBytes + 64 * 1024);
  ++pieces_;
  while (piece.size() < kPieceBytes && !finished_) {
    if (!PassInjectionPoint(&piece)) break;
    if (rows_limit_ > 0 && emitted_ >= rows_limit_) {
      Finish(absl::OkStatus(), &piece);
      break;
    }
    absl::StatusOr<bool> more = scanner_->Next(&row_);
    if (!more.ok() || !*more) {
      Finish(more.status(), &piece);
      break;
    }
    if (filter_ != nullptr) {
      selection_ = filter_->Select(row_.key, row_.cells);
      if (selection_.empty()) continue;  // filtered out: not counted
    } else {
      selection_.resize(row_.cells.size());
      for (size_t i = 0; i < selection_.size(); ++i) {
        selection_[i] = FilteredCell{static_cast<uint32_t>(i), false, nullptr};
      }
    }
    AppendRow(&piece);
    ++emitted_;
  }
  if (truncated_ && piece.empty()) return Next();  // straight to the cut
  return piece;
}

bool ReadRowsSource::PassInjectionPoint(std::string* piece) {
  if (injection_ == nullptr || emitted_ < after_rows_) return true;
  Verdict verdict = injection_->CheckNow(PointId::kReadRowsRow, *info_);
  injection_ = nullptr;  // once per stream
  if (verdict.kind == Verdict::kError) {
    Finish(verdict.error, piece);
    return false;
  }
  if (verdict.kind != Verdict::kProceed) {
    truncated_ = true;  // what is in `piece` goes out, then the cut
    return false;
  }
  return true;
}

void ReadRowsSource::AppendRow(std::string* piece) {
  if (encoding_ == Encoding::kJson) {
    v1::ReadRowsResponse response;
    *response.mutable_row() =
        RowOf(row_.key, Materialize(row_.cells, selection_));
    piece->append(SerializeMessage(response, Encoding::kJson));
    piece->push_back('\n');
  } else {
    AppendDelimitedRowResponse(row_.key, row_.cells, selection_, piece);
  }
}

void ReadRowsSource::Finish(const absl::Status& status, std::string* piece) {
  v1::ReadRowsResponse response;
  StatusToProto(status, response.mutable_status());
  if (encoding_ == Encoding::kJson) {
    piece->append(SerializeMessage(response, Encoding::kJson));
    piece->push_back('\n');
  } else {
    AppendVarint(response.ByteSizeLong(), piece);
    response.AppendToString(piece);
  }
  finished_ = true;
  scanner_.reset();  // releases the snapshot now
}

}  // namespace kvstore::store
