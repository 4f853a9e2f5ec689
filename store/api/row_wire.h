// Encodes scanned rows straight into protobuf's binary wire format, for the
// :readRows stream's hot path.
//
// AppendDelimitedRowResponse writes exactly the bytes that serializing the
// equivalent kvstore.v1.ReadRowsResponse{row} with protobuf would give (a unit
// test holds it to that), preceded by its varint length, without building the
// message: a scan then copies each value once, from RocksDB into the row
// buffer, and once more into the output.
//
// Pure functions; thread-safe.
#ifndef KVSTORE_STORE_API_ROW_WIRE_H_
#define KVSTORE_STORE_API_ROW_WIRE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "store/filter/row_filter.h"

namespace kvstore::store {

// Appends varint(size) then ReadRowsResponse{row: Row{key, cells}} for the
// cells `selection` designates (in row order; consecutive cells of one family
// and qualifier are grouped into one Family and Column, as RowOf does).
void AppendDelimitedRowResponse(absl::string_view key,
                                const std::vector<FilterCell>& cells,
                                const std::vector<FilteredCell>& selection,
                                std::string* out);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_ROW_WIRE_H_
