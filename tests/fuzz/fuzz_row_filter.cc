// libFuzzer target: the row filter language (store/filter/row_filter.h) on
// generated rows. The input is [filter length: 2 bytes][filter][row bytes]:
// the filter is a binary RowFilter (first filter byte even) or its proto3
// JSON form (odd), compiled and, if valid, applied to a row the remaining
// bytes describe. Invalid filters must be InvalidArgument; valid ones must
// select only input cells (indices in range), in row order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/string_view.h"
#include "kvstore/v1/data.pb.h"
#include "store/api/api_codec.h"
#include "store/filter/row_filter.h"

namespace {

using kvstore::store::FilterCell;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "row filter invariant broken: %s\n", what);
    std::abort();
  }
}

// Up to 64 cells: each takes 4 bytes (family, qualifier, timestamp, value
// length) and then its value.
std::vector<FilterCell> RowFrom(absl::string_view bytes) {
  static const char* const kFamilies[] = {"a", "b", "cf", "zz"};
  std::vector<FilterCell> cells;
  while (bytes.size() >= 4 && cells.size() < 64) {
    FilterCell cell;
    cell.family = kFamilies[static_cast<uint8_t>(bytes[0]) % 4];
    cell.qualifier = std::string(static_cast<uint8_t>(bytes[1]) % 3, 'q');
    if (static_cast<uint8_t>(bytes[1]) & 0x80) cell.qualifier += bytes[1];
    cell.timestamp_micros = static_cast<uint8_t>(bytes[2]) * 1000;
    size_t length =
        std::min<size_t>(static_cast<uint8_t>(bytes[3]) % 16, bytes.size() - 4);
    cell.value = std::string(bytes.substr(4, length));
    bytes.remove_prefix(4 + length);
    cells.push_back(std::move(cell));
  }
  // Row order: family, qualifier, newest first; one cell per timestamp.
  auto key = [](const FilterCell& c) {
    return std::make_tuple(c.family, c.qualifier, -c.timestamp_micros);
  };
  std::sort(cells.begin(), cells.end(),
            [&](const FilterCell& x, const FilterCell& y) {
              return key(x) < key(y);
            });
  cells.erase(std::unique(cells.begin(), cells.end(),
                          [&](const FilterCell& x, const FilterCell& y) {
                            return key(x) == key(y);
                          }),
              cells.end());
  return cells;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  size_t length = std::min<size_t>(
      (static_cast<uint8_t>(input[0]) << 8) | static_cast<uint8_t>(input[1]),
      input.size() - 2);
  absl::string_view spec = input.substr(2, length);
  absl::string_view row_bytes = input.substr(2 + length);

  kvstore::v1::RowFilter filter;
  const bool json = !spec.empty() && (static_cast<uint8_t>(spec[0]) & 1);
  if (json) {
    if (!kvstore::store::ParseMessage(spec, kvstore::store::Encoding::kJson,
                                      &filter)
             .ok()) {
      return 0;
    }
  } else if (!filter.ParseFromArray(spec.data(),
                                    static_cast<int>(spec.size()))) {
    return 0;
  }
  auto compiled = kvstore::store::CompiledFilter::Compile(filter);
  if (!compiled.ok()) {
    Check(absl::IsInvalidArgument(compiled.status()), "not InvalidArgument");
    return 0;
  }
  const std::vector<FilterCell> cells = RowFrom(row_bytes);
  std::vector<kvstore::store::FilteredCell> selected =
      (*compiled)->Select("row-key", cells);
  for (size_t i = 0; i < selected.size(); ++i) {
    Check(selected[i].index < cells.size(), "index out of range");
    if (i > 0) Check(selected[i - 1].index <= selected[i].index, "order");
  }
  std::vector<FilterCell> out = kvstore::store::Materialize(cells, selected);
  for (const FilterCell& cell : out) {
    Check(cell.labels.size() <= 1, "more than one label on a cell");
  }
  return 0;
}
