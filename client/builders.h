// Builders for the kvstore.v1 messages a Client sends: mutations, filters,
// row sets and read-modify-write rules. Each returns a plain message, so they
// compose:
//
//   Chain({FamilyRegex("cf"), ColumnRegex("q.*"), CellsPerColumn(1)})
//
// Pure functions; thread-safe.
#ifndef KVSTORE_CLIENT_BUILDERS_H_
#define KVSTORE_CLIENT_BUILDERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "kvstore/v1/data.pb.h"

namespace kvstore {

// The store's clock at commit time, for SetCell.
inline constexpr int64_t kServerTime = -1;

// Mutations.
v1::Mutation SetCell(std::string family, std::string qualifier,
                     std::string value, int64_t timestamp_micros = kServerTime);
// Cells of one column with timestamps in [start, end); end 0: no bound.
v1::Mutation DeleteFromColumn(std::string family, std::string qualifier,
                              int64_t start_micros = 0, int64_t end_micros = 0);
v1::Mutation DeleteFromFamily(std::string family);
v1::Mutation DeleteFromRow();

// Read-modify-write rules.
v1::ReadModifyWriteRule AppendValue(std::string family, std::string qualifier,
                                    std::string suffix);
v1::ReadModifyWriteRule IncrementBy(std::string family, std::string qualifier,
                                    int64_t amount);

// Row sets.
v1::RowSet RowKeys(std::vector<std::string> keys);
// [start, end); an empty end: no upper bound.
v1::RowSet RowRangeClosedOpen(std::string start, std::string end);

// Filters (see data.proto for each one's meaning).
v1::RowFilter PassAll();
v1::RowFilter BlockAll();
v1::RowFilter Chain(std::vector<v1::RowFilter> filters);
v1::RowFilter Interleave(std::vector<v1::RowFilter> filters);
v1::RowFilter Condition(v1::RowFilter predicate, v1::RowFilter if_true,
                        v1::RowFilter if_false);
v1::RowFilter RowKeyRegex(std::string regex);
v1::RowFilter FamilyRegex(std::string regex);
v1::RowFilter ColumnRegex(std::string regex);
v1::RowFilter ValueRegex(std::string regex);
v1::RowFilter TimestampRange(int64_t start_micros, int64_t end_micros);
v1::RowFilter CellsPerRowLimit(int32_t n);
v1::RowFilter CellsPerRowOffset(int32_t n);
v1::RowFilter CellsPerColumn(int32_t n);
v1::RowFilter StripValue();
v1::RowFilter Label(std::string label);

}  // namespace kvstore

#endif  // KVSTORE_CLIENT_BUILDERS_H_
