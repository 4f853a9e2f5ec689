#include "store/storage/engine.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace kvstore::store {

Mutation Mutation::SetCell(std::string family, std::string qualifier,
                           int64_t timestamp_micros, std::string value) {
  Mutation m;
  m.kind = Kind::kSetCell;
  m.family = std::move(family);
  m.qualifier = std::move(qualifier);
  m.timestamp_micros = timestamp_micros;
  m.value = std::move(value);
  return m;
}

Mutation Mutation::DeleteFromColumn(std::string family, std::string qualifier,
                                    int64_t start_micros, int64_t end_micros) {
  Mutation m;
  m.kind = Kind::kDeleteFromColumn;
  m.family = std::move(family);
  m.qualifier = std::move(qualifier);
  m.start_micros = start_micros;
  m.end_micros = end_micros;
  return m;
}

Mutation Mutation::DeleteFromFamily(std::string family) {
  Mutation m;
  m.kind = Kind::kDeleteFromFamily;
  m.family = std::move(family);
  return m;
}

Mutation Mutation::DeleteFromRow() {
  Mutation m;
  m.kind = Kind::kDeleteFromRow;
  return m;
}

namespace {

bool IsValidName(absl::string_view name, size_t max_bytes) {
  if (name.empty() || name.size() > max_bytes) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateTableSchema(const TableSchema& schema) {
  if (!IsValidName(schema.name(), kMaxTableNameBytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("table.name '", schema.name(),
                     "' must match [-_.a-zA-Z0-9]+ and have at most ",
                     kMaxTableNameBytes, " characters"));
  }
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < schema.column_families_size(); ++i) {
    const auto& family = schema.column_families(i);
    if (!IsValidName(family.name(), kMaxFamilyNameBytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat("table.column_families[", i, "].name '", family.name(),
                       "' must match [-_.a-zA-Z0-9]+ and have at most ",
                       kMaxFamilyNameBytes, " characters"));
    }
    if (!seen.insert(family.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("table.column_families[", i, "].name '", family.name(),
                       "' is repeated"));
    }
    if (family.gc_rule().max_versions() < 0 ||
        family.gc_rule().max_age_micros() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("table.column_families[", i,
                       "].gc_rule: limits must not be negative"));
    }
  }
  return absl::OkStatus();
}

}  // namespace kvstore::store
