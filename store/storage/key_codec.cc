#include "store/storage/key_codec.h"

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "common/coding.h"

namespace kvstore::store {
namespace {

constexpr char kCellTag = 'c';
constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xff';
constexpr char kTerminator = '\x01';

// The last 8 bytes of a key or the first 8 of a value; callers check sizes.
uint64_t Read64(absl::string_view in) {
  uint64_t v = 0;
  ReadBigEndian64(in, &v);
  return v;
}

}  // namespace

void AppendSegment(std::string* out, absl::string_view bytes) {
  for (char c : bytes) {
    out->push_back(c);
    if (c == kEscape) out->push_back(kEscapedZero);
  }
  out->push_back(kEscape);
  out->push_back(kTerminator);
}

bool ConsumeSegment(absl::string_view* in, std::string* out) {
  out->clear();
  absl::string_view rest = *in;
  while (true) {
    // Copy up to the next escape byte in one go.
    const void* found = std::memchr(rest.data(), kEscape, rest.size());
    if (found == nullptr) return false;
    size_t i =
        static_cast<size_t>(static_cast<const char*>(found) - rest.data());
    out->append(rest.data(), i);
    if (i + 1 >= rest.size()) return false;
    char next = rest[i + 1];
    rest.remove_prefix(i + 2);
    if (next == kTerminator) {
      *in = rest;
      return true;
    }
    if (next != kEscapedZero) return false;
    out->push_back(kEscape);
  }
}

std::string TablePrefix(uint32_t table_id) {
  std::string out;
  out.push_back(kCellTag);
  AppendBigEndian32(table_id, &out);
  return out;
}

std::string RowPrefix(uint32_t table_id, absl::string_view row) {
  return ColumnPrefix(table_id, row, absl::string_view(), absl::string_view(),
                      1);
}

std::string FamilyPrefix(uint32_t table_id, absl::string_view row,
                         absl::string_view family) {
  return ColumnPrefix(table_id, row, family, absl::string_view(), 2);
}

std::string ColumnPrefix(uint32_t table_id, absl::string_view row,
                         absl::string_view family, absl::string_view qualifier,
                         int segments) {
  std::string out;
  // Room for the timestamp too, so EncodeCellKey does not reallocate.
  out.reserve(5 + row.size() + family.size() + qualifier.size() + 6 + 8 + 8);
  out.push_back(kCellTag);
  AppendBigEndian32(table_id, &out);
  AppendSegment(&out, row);
  if (segments > 1) AppendSegment(&out, family);
  if (segments > 2) AppendSegment(&out, qualifier);
  return out;
}

void AppendTimestamp(std::string* out, int64_t timestamp_micros) {
  // Bitwise NOT turns ascending non-negative timestamps into descending keys.
  AppendBigEndian64(~static_cast<uint64_t>(timestamp_micros), out);
}

int64_t CellKeyTimestamp(absl::string_view cell_key) {
  return static_cast<int64_t>(~Read64(cell_key.substr(cell_key.size() - 8)));
}

std::string EncodeCellKey(const CellKey& key) {
  std::string out =
      ColumnPrefix(key.table_id, key.row, key.family, key.qualifier);
  AppendTimestamp(&out, key.timestamp_micros);
  return out;
}

absl::StatusOr<CellKey> DecodeCellKey(absl::string_view encoded) {
  if (encoded.size() < 5 || encoded[0] != kCellTag) {
    return absl::InvalidArgumentError("not a cell key: bad tag or too short");
  }
  CellKey key;
  ReadBigEndian32(encoded.substr(1), &key.table_id);
  encoded.remove_prefix(5);
  if (!ConsumeSegment(&encoded, &key.row) ||
      !ConsumeSegment(&encoded, &key.family) ||
      !ConsumeSegment(&encoded, &key.qualifier)) {
    return absl::InvalidArgumentError("not a cell key: malformed segment");
  }
  if (encoded.size() != 8) {
    return absl::InvalidArgumentError("not a cell key: bad timestamp length");
  }
  uint64_t inverted = Read64(encoded);
  if (inverted == 0) {
    key.single_version = true;
    key.timestamp_micros = -1;
    return key;
  }
  key.timestamp_micros = static_cast<int64_t>(~inverted);
  if (key.timestamp_micros < 0) {
    return absl::InvalidArgumentError("not a cell key: negative timestamp");
  }
  return key;
}

std::string SingleVersionKey(uint32_t table_id, absl::string_view row,
                             absl::string_view family,
                             absl::string_view qualifier) {
  std::string out = ColumnPrefix(table_id, row, family, qualifier);
  out.append(8, '\0');
  return out;
}

std::string EncodeSingleVersionValue(int64_t timestamp_micros,
                                     absl::string_view value) {
  std::string out;
  out.reserve(8 + value.size());
  AppendBigEndian64(static_cast<uint64_t>(timestamp_micros), &out);
  out.append(value.data(), value.size());
  return out;
}

bool DecodeSingleVersionValue(absl::string_view stored,
                              int64_t* timestamp_micros,
                              absl::string_view* value) {
  if (stored.size() < 8) return false;
  *timestamp_micros = static_cast<int64_t>(Read64(stored));
  *value = stored.substr(8);
  return *timestamp_micros >= 0;
}

std::string PrefixSuccessor(absl::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    unsigned char last = static_cast<unsigned char>(out.back());
    if (last != 0xff) {
      out.back() = static_cast<char>(last + 1);
      return out;
    }
    out.pop_back();
  }
  return out;
}

}  // namespace kvstore::store
