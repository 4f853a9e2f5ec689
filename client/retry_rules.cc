#include "client/retry_rules.h"

#include <string>

namespace kvstore {

bool IdempotentMutations(const std::vector<v1::Mutation>& mutations) {
  for (const v1::Mutation& m : mutations) {
    if (m.has_set_cell() && m.set_cell().timestamp_micros() == -1) return false;
  }
  return true;
}

bool IsTransient(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

namespace {

// An end bound of "" means "to the last row" (as the store reads it).
bool EndUnbounded(const v1::RowRange& range) {
  return (!range.has_end_open() && !range.has_end_closed()) ||
         (range.has_end_open() && range.end_open().empty()) ||
         (range.has_end_closed() && range.end_closed().empty());
}

// `range` cut to keys > last (forward) or < last (reversed); false if empty.
bool CutRange(v1::RowRange* range, const std::string& last, bool reversed) {
  const bool unbounded_end = EndUnbounded(*range);
  if (!reversed) {
    if (!unbounded_end &&
        ((range->has_end_open() && range->end_open() <= last) ||
         (range->has_end_closed() && range->end_closed() <= last))) {
      return false;
    }
    bool keep_start =
        (range->has_start_closed() && range->start_closed() > last) ||
        (range->has_start_open() && range->start_open() >= last);
    if (!keep_start) range->set_start_open(last);
    return true;
  }
  if ((range->has_start_closed() && range->start_closed() >= last) ||
      (range->has_start_open() && range->start_open() >= last)) {
    return false;
  }
  bool keep_end = !unbounded_end &&
                  ((range->has_end_closed() && range->end_closed() < last) ||
                   (range->has_end_open() && range->end_open() <= last));
  if (!keep_end) range->set_end_open(last);
  return true;
}

}  // namespace

std::optional<v1::RowSet> RowSetAfter(const v1::RowSet& rows,
                                      absl::string_view last_view,
                                      bool reversed) {
  const std::string last(last_view);
  v1::RowSet out;
  if (rows.row_keys().empty() && rows.row_ranges().empty()) {  // every row
    v1::RowRange* all = out.add_row_ranges();
    if (reversed) {
      all->set_end_open(last);
    } else {
      all->set_start_open(last);
    }
    return out;
  }
  for (const std::string& key : rows.row_keys()) {
    if (reversed ? key < last : key > last) out.add_row_keys(key);
  }
  for (const v1::RowRange& range : rows.row_ranges()) {
    v1::RowRange cut = range;
    if (CutRange(&cut, last, reversed)) *out.add_row_ranges() = std::move(cut);
  }
  if (out.row_keys().empty() && out.row_ranges().empty()) return std::nullopt;
  return out;
}

}  // namespace kvstore
