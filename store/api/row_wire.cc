#include "store/api/row_wire.h"

#include <cstddef>
#include <cstdint>

#include "common/coding.h"

namespace kvstore::store {
namespace {

// Wire types and field tags of store.proto / data.proto (field << 3 | type).
constexpr uint8_t kLengthDelimited = 2;
constexpr uint8_t kVarint = 0;
constexpr uint8_t Tag(int field, uint8_t type) {
  return static_cast<uint8_t>(field << 3 | type);
}
// ReadRowsResponse.row = 1
constexpr uint8_t kResponseRow = Tag(1, kLengthDelimited);
// Row.key = 1, Row.families = 2
constexpr uint8_t kRowKey = Tag(1, kLengthDelimited);
constexpr uint8_t kRowFamilies = Tag(2, kLengthDelimited);
// Family.name = 1, Family.columns = 2
constexpr uint8_t kFamilyName = Tag(1, kLengthDelimited);
constexpr uint8_t kFamilyColumns = Tag(2, kLengthDelimited);
// Column.qualifier = 1, Column.cells = 2
constexpr uint8_t kColumnQualifier = Tag(1, kLengthDelimited);
constexpr uint8_t kColumnCells = Tag(2, kLengthDelimited);
// Cell.timestamp_micros = 1, Cell.value = 2, Cell.labels = 3
constexpr uint8_t kCellTimestamp = Tag(1, kVarint);
constexpr uint8_t kCellValue = Tag(2, kLengthDelimited);
constexpr uint8_t kCellLabels = Tag(3, kLengthDelimited);

// A length-delimited field of `size` bytes, tag included.
size_t FieldSize(size_t size) { return 1 + VarintSize(size) + size; }
// Same, but proto3 leaves an empty bytes/string field out.
size_t OptionalFieldSize(size_t size) {
  return size == 0 ? 0 : FieldSize(size);
}

struct CellView {
  int64_t timestamp;
  absl::string_view value;
  const std::vector<std::string>* labels;  // the input cell's, or null
  const std::string* label;                // a filter's label, or null
};

CellView ViewOf(const std::vector<FilterCell>& cells, const FilteredCell& ref) {
  const FilterCell& c = cells[ref.index];
  return CellView{c.timestamp_micros,
                  ref.value_stripped ? absl::string_view() : c.value,
                  ref.label != nullptr ? nullptr : &c.labels, ref.label};
}

size_t CellBodySize(const CellView& cell) {
  size_t size = 0;
  if (cell.timestamp != 0) {
    size += 1 + VarintSize(static_cast<uint64_t>(cell.timestamp));
  }
  size += OptionalFieldSize(cell.value.size());
  if (cell.label != nullptr) size += FieldSize(cell.label->size());
  if (cell.labels != nullptr) {
    for (const std::string& l : *cell.labels) size += FieldSize(l.size());
  }
  return size;
}

void AppendBytesField(uint8_t tag, absl::string_view bytes, std::string* out) {
  out->push_back(static_cast<char>(tag));
  AppendVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

void AppendCell(const CellView& cell, size_t body_size, std::string* out) {
  out->push_back(static_cast<char>(kColumnCells));
  AppendVarint(body_size, out);
  if (cell.timestamp != 0) {
    out->push_back(static_cast<char>(kCellTimestamp));
    AppendVarint(static_cast<uint64_t>(cell.timestamp), out);
  }
  if (!cell.value.empty()) AppendBytesField(kCellValue, cell.value, out);
  if (cell.label != nullptr) AppendBytesField(kCellLabels, *cell.label, out);
  if (cell.labels != nullptr) {
    for (const std::string& l : *cell.labels) {
      AppendBytesField(kCellLabels, l, out);
    }
  }
}

bool SameFamily(const FilterCell& a, const FilterCell& b) {
  return a.family == b.family;
}
bool SameColumn(const FilterCell& a, const FilterCell& b) {
  return a.family == b.family && a.qualifier == b.qualifier;
}

}  // namespace

void AppendDelimitedRowResponse(absl::string_view key,
                                const std::vector<FilterCell>& cells,
                                const std::vector<FilteredCell>& selection,
                                std::string* out) {
  // Pass 1: the size of every nested message, since each is written after its
  // length. Cell, column and family sizes are kept in order of appearance.
  thread_local std::vector<size_t> cell_sizes, column_sizes, family_sizes;
  cell_sizes.clear();
  column_sizes.clear();
  family_sizes.clear();
  const size_t n = selection.size();
  size_t row_size = OptionalFieldSize(key.size());
  for (size_t i = 0; i < n;) {
    const FilterCell& family_cell = cells[selection[i].index];
    size_t family_size = OptionalFieldSize(family_cell.family.size());
    while (i < n && SameFamily(cells[selection[i].index], family_cell)) {
      const FilterCell& column_cell = cells[selection[i].index];
      size_t column_size = OptionalFieldSize(column_cell.qualifier.size());
      while (i < n && SameColumn(cells[selection[i].index], column_cell)) {
        size_t cell_size = CellBodySize(ViewOf(cells, selection[i]));
        cell_sizes.push_back(cell_size);
        column_size += FieldSize(cell_size);
        ++i;
      }
      column_sizes.push_back(column_size);
      family_size += FieldSize(column_size);
    }
    family_sizes.push_back(family_size);
    row_size += FieldSize(family_size);
  }
  const size_t response_size = FieldSize(row_size);

  // Pass 2: write.
  // No reserve(): std::string's own geometric growth keeps appends amortized,
  // where an exact reserve per row would reallocate on every row.
  AppendVarint(response_size, out);
  out->push_back(static_cast<char>(kResponseRow));
  AppendVarint(row_size, out);
  if (!key.empty()) AppendBytesField(kRowKey, key, out);
  size_t next_cell = 0, next_column = 0, next_family = 0;
  for (size_t i = 0; i < n;) {
    const FilterCell& family_cell = cells[selection[i].index];
    out->push_back(static_cast<char>(kRowFamilies));
    AppendVarint(family_sizes[next_family++], out);
    if (!family_cell.family.empty()) {
      AppendBytesField(kFamilyName, family_cell.family, out);
    }
    while (i < n && SameFamily(cells[selection[i].index], family_cell)) {
      const FilterCell& column_cell = cells[selection[i].index];
      out->push_back(static_cast<char>(kFamilyColumns));
      AppendVarint(column_sizes[next_column++], out);
      if (!column_cell.qualifier.empty()) {
        AppendBytesField(kColumnQualifier, column_cell.qualifier, out);
      }
      while (i < n && SameColumn(cells[selection[i].index], column_cell)) {
        AppendCell(ViewOf(cells, selection[i]), cell_sizes[next_cell++], out);
        ++i;
      }
    }
  }
}

}  // namespace kvstore::store
