#include "store/storage/rocks_support.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/coding.h"
#include "common/status_macros.h"

namespace kvstore::store::rocks {

std::string CeilingKey(absl::string_view kind, int shard) {
  return absl::StrCat(kCeilingKeyPrefix, kind, shard);
}

std::string EncodeInt64(int64_t v) {
  std::string out;
  AppendBigEndian64(static_cast<uint64_t>(v), &out);
  return out;
}

std::string EncodeUint32(uint32_t v) {
  std::string out;
  AppendBigEndian32(v, &out);
  return out;
}

uint32_t DecodeUint32(absl::string_view in) {
  uint32_t v = 0;
  ReadBigEndian32(in, &v);
  return v;
}

size_t RowPrefixLength(const rocksdb::Slice& key) {
  if (key.size() < 5 || key[0] != 'c') return 0;
  for (size_t i = 5; i + 1 < key.size(); ++i) {
    if (key[i] != '\0') continue;
    if (key[i + 1] == '\x01') return i + 2;  // the segment's terminator
    ++i;                                     // an escaped zero byte
  }
  return 0;
}

rocksdb::ReadOptions TotalOrder(const rocksdb::Slice* upper_bound) {
  rocksdb::ReadOptions options;
  options.total_order_seek = true;
  options.iterate_upper_bound = upper_bound;
  return options;
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNoSpace()) {
    return absl::ResourceExhaustedError(absl::StrCat(what, ": ", s.ToString()));
  }
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

std::shared_ptr<const TableInfo> MakeTableInfo(uint32_t id,
                                               TableSchema schema) {
  auto info = std::make_shared<TableInfo>();
  info->id = id;
  for (const auto& family : schema.column_families()) {
    info->max_versions[family.name()] = family.gc_rule().max_versions();
    info->max_age_micros[family.name()] = family.gc_rule().max_age_micros();
    if (family.gc_rule().max_age_micros() > 0) info->has_max_age = true;
  }
  info->schema = std::move(schema);
  return info;
}

std::string TableKey(absl::string_view name) {
  return absl::StrCat(kTableKeyPrefix, name);
}

absl::StatusOr<Cell> ToCell(CellKey key, absl::string_view stored) {
  if (!key.single_version) {
    return Cell{std::move(key.family), std::move(key.qualifier),
                key.timestamp_micros, std::string(stored)};
  }
  int64_t timestamp = 0;
  absl::string_view value;
  if (!DecodeSingleVersionValue(stored, &timestamp, &value)) {
    return absl::DataLossError("corrupt single-version cell value");
  }
  return Cell{std::move(key.family), std::move(key.qualifier), timestamp,
              std::string(value)};
}

bool Expired(const TableInfo& table, absl::string_view family,
             int64_t timestamp_micros, int64_t now_micros) {
  if (!table.has_max_age) return false;
  auto max_age = table.max_age_micros.find(family);
  return max_age != table.max_age_micros.end() && max_age->second > 0 &&
         timestamp_micros < now_micros - max_age->second;
}

bool Expired(const TableInfo& table, const Cell& cell, int64_t now_micros) {
  return Expired(table, cell.family, cell.timestamp_micros, now_micros);
}

FilterCell ToFilterCell(Cell cell) {
  return FilterCell{std::move(cell.family),
                    std::move(cell.qualifier),
                    cell.timestamp_micros,
                    std::move(cell.value),
                    {}};
}

bool FlushesLogByHand(const EngineOptions& options) {
  return options.in_memory || options.sync != SyncMode::kAlways;
}
absl::Status ForEachWithPrefix(
    rocksdb::DB* db, absl::string_view prefix,
    absl::FunctionRef<absl::Status(absl::string_view key,
                                   absl::string_view value)>
        visit) {
  std::string upper = PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(TotalOrder(&upper_slice)));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid();
       it->Next()) {
    KV_RETURN_IF_ERROR(visit(ToView(it->key()), ToView(it->value())));
  }
  return FromRocks(it->status(), "read");
}

}  // namespace kvstore::store::rocks
