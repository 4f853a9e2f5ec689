// The row filter language of kvstore.v1.RowFilter
// (protos/kvstore/v1/data.proto), compiled once per request and applied to one
// row at a time.
//
// Rules beyond the proto comments: regular expressions are RE2 in Latin-1 mode
// with a full match on the raw bytes; chain and interleave need at least two
// filters; pass_all, block_all, sink and strip_value must be true; row_sample
// needs 0 < p < 1; offsets are >= 0 and limits
// >= 1; labels match [a-z0-9-]{1,15}; at most one filter of a chain may contain
// a label transformer; a condition may not contain sink; nesting is at most 20
// deep. Count filters see cells in row order (family name, qualifier, newest
// first), duplicates counted separately.
//
// A CompiledFilter is immutable after Compile and may be shared across threads,
// except that row_sample draws from its own random generator under a mutex.
#ifndef KVSTORE_STORE_FILTER_ROW_FILTER_H_
#define KVSTORE_STORE_FILTER_ROW_FILTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kvstore/v1/data.pb.h"

namespace kvstore::store {

inline constexpr int kMaxFilterDepth = 20;

// One cell as filters see it.
struct FilterCell {
  std::string family;
  std::string qualifier;
  int64_t timestamp_micros = 0;
  std::string value;
  std::vector<std::string> labels;
};

// Flattens a row into cells in row order, and back (cells must be in row order;
// consecutive cells of one family and qualifier are grouped).
std::vector<FilterCell> CellsOf(v1::Row row);
v1::Row RowOf(std::string key, std::vector<FilterCell> cells);

// One cell of a filter's output: which input cell it is, and what the filter
// did to it. Lets a caller encode the output without copying values.
struct FilteredCell {
  uint32_t index = 0;           // into the input cells
  bool value_stripped = false;  // strip_value: the value reads as empty
  // apply_label's label (owned by the CompiledFilter), or null: the input
  // cell's own labels.
  const std::string* label = nullptr;
};

// The cells `selection` designates, copied out and transformed.
std::vector<FilterCell> Materialize(const std::vector<FilterCell>& cells,
                                    const std::vector<FilteredCell>& selection);

class CompiledFilter {
 public:
  // Validates and compiles. InvalidArgument naming the offending element, e.g.
  // "filter.chain.filters[1].cellsPerRowLimit must be >= 1".
  static absl::StatusOr<std::unique_ptr<CompiledFilter>> Compile(
      const v1::RowFilter& filter);

  virtual ~CompiledFilter() = default;

  // The cells the filter yields for a row, in row order (empty: the row is not
  // returned). `cells` must be in row order. Labels point into this filter.
  virtual std::vector<FilteredCell> Select(
      absl::string_view row_key,
      const std::vector<FilterCell>& cells) const = 0;

  // Select, materialized.
  std::vector<FilterCell> Apply(absl::string_view row_key,
                                const std::vector<FilterCell>& cells) const;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_FILTER_ROW_FILTER_H_
