// The RocksDB key layout of the wide-column model.
//
// Every cell of every table is one RocksDB entry whose key sorts exactly as the
// data model orders cells: by table, then row key (unsigned byte order), then
// family name, then column qualifier (byte order), then timestamp, newest
// first. The value is the cell's value.
//
//   cell key = 'c' | table_id (u32, big-endian) | Seg(row) | Seg(family) |
//   Seg(qualifier)
//              | ~timestamp_micros (u64, big-endian)
//
// Seg(bytes) is an order-preserving, self-delimiting encoding: each 0x00 byte
// becomes 0x00 0xFF and the segment ends with 0x00 0x01. So Seg(a) < Seg(b) iff
// a < b, and no segment is a prefix of another, which makes "all cells of row
// r" a key prefix (RowPrefix) even when another row's key begins with r.
//
// Single-version families (max_versions == 1) use another layout: the column's
// one cell is stored under a fixed key whose timestamp part is 8 zero bytes
// (which no real timestamp encodes to, since ~ts of a ts >= 0 has its top bit
// set), and the value is the 8-byte big-endian timestamp followed by the cell's
// value. A write is then one Put, a read one Get, and replacing a cell leaves
// no tombstone behind.
//
// All functions are pure and thread-safe.
#ifndef KVSTORE_STORE_STORAGE_KEY_CODEC_H_
#define KVSTORE_STORE_STORAGE_KEY_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kvstore::store {

// The parts of one cell's key.
struct CellKey {
  uint32_t table_id = 0;
  std::string row;
  std::string family;
  std::string qualifier;
  int64_t timestamp_micros = 0;  // >= 0; -1 for a single-version key
  bool single_version =
      false;  // the single-version layout: timestamp is in the value

  friend bool operator==(const CellKey& a, const CellKey& b) {
    return a.table_id == b.table_id && a.row == b.row && a.family == b.family &&
           a.qualifier == b.qualifier &&
           a.timestamp_micros == b.timestamp_micros;
  }
};

// Appends Seg(bytes) to *out.
void AppendSegment(std::string* out, absl::string_view bytes);

// Parses one Seg() from the front of *in into *out and advances *in past it.
// Returns false (leaving *in unspecified) if *in does not start with a
// well-formed segment.
bool ConsumeSegment(absl::string_view* in, std::string* out);

// Prefix shared by all cells of a table.
std::string TablePrefix(uint32_t table_id);
// Prefix shared by all cells of one row.
std::string RowPrefix(uint32_t table_id, absl::string_view row);
// Prefix shared by all cells of one family of one row.
std::string FamilyPrefix(uint32_t table_id, absl::string_view row,
                         absl::string_view family);
// Prefix shared by all cells (versions) of one column of one row. (`segments` <
// 3 is how RowPrefix and FamilyPrefix share it.)
std::string ColumnPrefix(uint32_t table_id, absl::string_view row,
                         absl::string_view family, absl::string_view qualifier,
                         int segments = 3);

// Appends the encoded timestamp that ends a cell key. Requires timestamp_micros
// >= 0.
void AppendTimestamp(std::string* out, int64_t timestamp_micros);
// What CellKeyTimestamp gives for a single-version key (whose real timestamp
// is in the value).
inline constexpr int64_t kSingleVersionTimestamp = -1;

// The timestamp of a cell key (its last 8 bytes), or kSingleVersionTimestamp.
// Requires a well-formed cell key.
int64_t CellKeyTimestamp(absl::string_view cell_key);

// The full key of one cell. Requires key.timestamp_micros >= 0.
std::string EncodeCellKey(const CellKey& key);

// The key of a single-version column's cell.
std::string SingleVersionKey(uint32_t table_id, absl::string_view row,
                             absl::string_view family,
                             absl::string_view qualifier);
// The stored value of a single-version cell, and its inverse (false if
// malformed).
std::string EncodeSingleVersionValue(int64_t timestamp_micros,
                                     absl::string_view value);
bool DecodeSingleVersionValue(absl::string_view stored,
                              int64_t* timestamp_micros,
                              absl::string_view* value);

// Inverse of EncodeCellKey and SingleVersionKey. InvalidArgument if `encoded`
// is not a cell key.
absl::StatusOr<CellKey> DecodeCellKey(absl::string_view encoded);

// The smallest key greater than every key that starts with `prefix` (the
// exclusive end of a prefix scan). Returns "" if there is none (prefix is all
// 0xFF).
std::string PrefixSuccessor(absl::string_view prefix);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_STORAGE_KEY_CODEC_H_
