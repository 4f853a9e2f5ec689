// The RocksDB engine's write path (rocks_engine_impl.h): validation, the
// writer-thread Apply of each mutation kind, conditional and read-modify-write
// rows, and server timestamps with their persisted ceilings.
#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/coding.h"
#include "common/status_macros.h"
#include "store/storage/rocks_engine_impl.h"

namespace kvstore::store::rocks {

void RocksEngine::MutateRow(absl::string_view table, std::string row,
                            std::vector<Mutation> mutations,
                            WriteCallback done) {
  absl::StatusOr<std::shared_ptr<const TableInfo>> info =
      Validate(table, row, mutations);
  if (!info.ok()) {
    std::move(done)(info.status());
    return;
  }
  uint64_t shard_key = absl::Hash<absl::string_view>()(row);
  int shard = static_cast<int>(shard_key % ceilings_.size());
  commits_->Submit(
      shard_key,
      [this, info = *info, row = std::move(row), shard,
       mutations = std::move(mutations)](rocksdb::WriteBatchWithIndex& batch) {
        KV_RETURN_IF_ERROR(BeforeWrite(*info, row));
        return Apply(*info, row, mutations, shard, batch);
      },
      [this, done = std::move(done)](absl::Status status) mutable {
        if (status.ok())
          writes_committed_.fetch_add(1, std::memory_order_relaxed);
        std::move(done)(std::move(status));
      });
}

void RocksEngine::CheckAndMutateRow(
    absl::string_view table, std::string row,
    std::shared_ptr<const CompiledFilter> predicate,
    std::vector<Mutation> if_true, std::vector<Mutation> if_false,
    CheckCallback done) {
  if (if_true.empty() && if_false.empty()) {
    std::move(done)(absl::InvalidArgumentError(
        "trueMutations and falseMutations are both empty"));
    return;
  }
  absl::StatusOr<std::shared_ptr<const TableInfo>> info =
      Validate(table, row, if_true);
  if (info.ok()) info = Validate(table, row, if_false);
  if (!info.ok()) {
    std::move(done)(info.status());
    return;
  }
  uint64_t shard_key = absl::Hash<absl::string_view>()(row);
  int shard = static_cast<int>(shard_key % ceilings_.size());
  auto matched = std::make_shared<bool>(false);
  commits_->Submit(
      shard_key,
      [this, info = *info, row = std::move(row), shard, matched,
       predicate = std::move(predicate), if_true = std::move(if_true),
       if_false = std::move(if_false)](
          rocksdb::WriteBatchWithIndex& batch) -> absl::Status {
        KV_RETURN_IF_ERROR(BeforeWrite(*info, row));
        KV_ASSIGN_OR_RETURN(std::vector<FilterCell> cells,
                            RowInBatch(batch, *info, row));
        *matched = predicate == nullptr ? !cells.empty()
                                        : !predicate->Apply(row, cells).empty();
        const std::vector<Mutation>& chosen = *matched ? if_true : if_false;
        if (chosen.empty()) return absl::OkStatus();
        return Apply(*info, row, chosen, shard, batch);
      },
      [matched, done = std::move(done)](absl::Status status) mutable {
        if (!status.ok()) {
          std::move(done)(std::move(status));
        } else {
          std::move(done)(*matched);
        }
      });
}

void RocksEngine::ReadModifyWriteRow(absl::string_view table, std::string row,
                                     std::vector<v1::ReadModifyWriteRule> rules,
                                     RowCallback done) {
  absl::StatusOr<std::shared_ptr<const TableInfo>> info =
      ValidateRules(table, row, rules);
  if (!info.ok()) {
    std::move(done)(info.status());
    return;
  }
  uint64_t shard_key = absl::Hash<absl::string_view>()(row);
  int shard = static_cast<int>(shard_key % ceilings_.size());
  auto result = std::make_shared<v1::Row>();
  commits_->Submit(
      shard_key,
      [this, info = *info, row = std::move(row), shard, result,
       rules = std::move(rules)](
          rocksdb::WriteBatchWithIndex& batch) -> absl::Status {
        KV_RETURN_IF_ERROR(BeforeWrite(*info, row));
        // (family, qualifier) -> the new cell, for the answer.
        std::map<std::pair<std::string, std::string>, FilterCell> touched;
        for (size_t i = 0; i < rules.size(); ++i) {
          const v1::ReadModifyWriteRule& rule = rules[i];
          KV_ASSIGN_OR_RETURN(
              std::optional<Cell> newest,
              NewestInBatch(batch, *info, row, rule.family_name(),
                            rule.column_qualifier()));
          std::string value = newest.has_value() ? newest->value : "";
          if (rule.rule_case() == v1::ReadModifyWriteRule::kAppendValue) {
            value += rule.append_value();
            if (value.size() > options_.max_value_bytes) {
              return absl::InvalidArgumentError(absl::StrCat(
                  "rules[", i, "]: appendValue would make the cell ",
                  value.size(), " bytes; the limit is ",
                  options_.max_value_bytes));
            }
          } else {
            if (newest.has_value() && value.size() != 8) {
              return absl::InvalidArgumentError(
                  absl::StrCat("rules[", i,
                               "]: incrementAmount needs an 8-byte big-endian "
                               "value; the cell holds ",
                               value.size(), " bytes"));
            }
            uint64_t n = 0;  // an absent cell counts as 0
            ReadBigEndian64(value, &n);
            n += static_cast<uint64_t>(rule.increment_amount());  // wraps
            value = EncodeInt64(static_cast<int64_t>(n));
          }
          int64_t timestamp = ServerNow();
          if (newest.has_value() && newest->timestamp_micros > timestamp) {
            timestamp = newest->timestamp_micros;
          }
          KV_RETURN_IF_ERROR(Apply(
              *info, row,
              {Mutation::SetCell(rule.family_name(), rule.column_qualifier(),
                                 timestamp, value)},
              shard, batch));
          touched[{rule.family_name(), rule.column_qualifier()}] =
              FilterCell{rule.family_name(),
                         rule.column_qualifier(),
                         timestamp,
                         std::move(value),
                         {}};
        }
        std::vector<FilterCell> cells;
        for (auto& [column, cell] : touched) cells.push_back(std::move(cell));
        *result = RowOf(row, std::move(cells));
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) mutable {
        if (!status.ok()) {
          std::move(done)(std::move(status));
        } else {
          std::move(done)(std::move(*result));
        }
      });
}

absl::StatusOr<std::shared_ptr<const TableInfo>> RocksEngine::Validate(
    absl::string_view table, absl::string_view row,
    const std::vector<Mutation>& mutations) {
  KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info, FindTable(table));
  KV_RETURN_IF_ERROR(ValidateRowKey(row));
  for (size_t i = 0; i < mutations.size(); ++i) {
    const Mutation& m = mutations[i];
    if (m.kind == Mutation::Kind::kDeleteFromRow) continue;
    if (!info->max_versions.contains(m.family)) {
      return absl::NotFoundError(
          absl::StrCat("mutations[", i, "].family: '", m.family,
                       "' is not a family of table '", table, "'"));
    }
    if (m.kind == Mutation::Kind::kDeleteFromFamily) continue;
    if (m.qualifier.size() > kMaxQualifierBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("mutations[", i, "].qualifier is ", m.qualifier.size(),
                       " bytes; the limit is ", kMaxQualifierBytes));
    }
    if (m.kind == Mutation::Kind::kSetCell) {
      if (m.timestamp_micros < kServerTimestamp) {
        return absl::InvalidArgumentError(absl::StrCat(
            "mutations[", i,
            "].timestamp_micros must be >= 0, or -1 for server time"));
      }
      if (m.value.size() > options_.max_value_bytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("mutations[", i, "].value is ", m.value.size(),
                         " bytes; the limit is ", options_.max_value_bytes));
      }
    } else if (m.start_micros < 0 || m.end_micros < 0 ||
               (m.end_micros != 0 && m.end_micros < m.start_micros)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "mutations[", i, "]: time range [", m.start_micros, ", ",
          m.end_micros,
          ") is invalid (need 0 <= start <= end, or end 0 for no bound)"));
    }
  }
  return info;
}

int64_t RocksEngine::ServerNow() {
  int64_t now = absl::ToUnixMicros(absl::Now());
  int64_t last = last_server_micros_.load(std::memory_order_relaxed);
  int64_t next;
  do {
    next = now > last ? now : (last == INT64_MAX ? last : last + 1);
  } while (!last_server_micros_.compare_exchange_weak(
      last, next, std::memory_order_relaxed));
  return next;
}

void RocksEngine::RaiseExplicitMax(int64_t timestamp) {
  int64_t max = explicit_max_.load(std::memory_order_relaxed);
  while (max < timestamp && !explicit_max_.compare_exchange_weak(
                                max, timestamp, std::memory_order_relaxed)) {
  }
}

absl::Status RocksEngine::PersistCeilings(int shard, int64_t newest_server,
                                          int64_t newest_explicit,
                                          rocksdb::WriteBatchWithIndex& batch) {
  ShardCeilings& c = ceilings_[static_cast<size_t>(shard)];
  if (newest_server >= c.server) {
    int64_t base = std::max(newest_server, absl::ToUnixMicros(absl::Now()));
    int64_t next = base > INT64_MAX - kCeilingStepMicros
                       ? INT64_MAX
                       : base + kCeilingStepMicros;
    KV_RETURN_IF_ERROR(FromRocks(
        batch.Put(CeilingKey(kServerCeiling, shard), EncodeInt64(next)),
        "batch put"));
    c.server = next;
  }
  if (newest_explicit > c.explicit_max) {
    KV_RETURN_IF_ERROR(FromRocks(batch.Put(CeilingKey(kExplicitMax, shard),
                                           EncodeInt64(newest_explicit)),
                                 "batch put"));
    c.explicit_max = newest_explicit;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> RocksEngine::KeysWithPrefix(
    rocksdb::WriteBatchWithIndex& batch, const std::string& prefix,
    const std::function<bool(const CellKey&)>& keep, int max_visits,
    bool column) {
  std::string upper = PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read_options = TotalOrder(&upper_slice);
  std::string seek_key = prefix;
  if (column) {
    read_options.total_order_seek = false;
    read_options.prefix_same_as_start = true;
    AppendTimestamp(&seek_key, INT64_MAX);  // the column's first possible key
  }
  std::unique_ptr<rocksdb::Iterator> it(
      batch.NewIteratorWithBase(db_->NewIterator(read_options)));
  std::vector<std::string> keys;
  int visits = 0;
  for (it->Seek(seek_key); it->Valid(); it->Next()) {
    absl::string_view key = ToView(it->key());
    if (key.substr(0, prefix.size()) != prefix) break;
    KV_ASSIGN_OR_RETURN(CellKey cell, DecodeCellKey(key));
    if (keep(cell)) keys.emplace_back(key);
    // Checked before Next(), which could otherwise walk a long run of
    // tombstones.
    if (max_visits > 0 && ++visits == max_visits) break;
  }
  KV_RETURN_IF_ERROR(FromRocks(it->status(), "scan row"));
  return keys;
}

absl::StatusOr<std::shared_ptr<const TableInfo>> RocksEngine::ValidateRules(
    absl::string_view table, absl::string_view row,
    const std::vector<v1::ReadModifyWriteRule>& rules) {
  KV_ASSIGN_OR_RETURN(std::shared_ptr<const TableInfo> info, FindTable(table));
  KV_RETURN_IF_ERROR(ValidateRowKey(row));
  if (rules.empty())
    return absl::InvalidArgumentError("rules: no rules provided");
  for (size_t i = 0; i < rules.size(); ++i) {
    const v1::ReadModifyWriteRule& rule = rules[i];
    if (!info->max_versions.contains(rule.family_name())) {
      return absl::NotFoundError(
          absl::StrCat("rules[", i, "].familyName: '", rule.family_name(),
                       "' is not a family of table '", table, "'"));
    }
    if (rule.column_qualifier().size() > kMaxQualifierBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("rules[", i, "].columnQualifier is over ",
                       kMaxQualifierBytes, " bytes"));
    }
    if (rule.rule_case() == v1::ReadModifyWriteRule::RULE_NOT_SET) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rules[", i, "] sets neither appendValue nor incrementAmount"));
    }
  }
  return info;
}

absl::StatusOr<std::vector<FilterCell>> RocksEngine::RowInBatch(
    rocksdb::WriteBatchWithIndex& batch, const TableInfo& info,
    const std::string& row) {
  std::string prefix = RowPrefix(info.id, row);
  std::string upper = PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  std::unique_ptr<rocksdb::Iterator> it(
      batch.NewIteratorWithBase(db_->NewIterator(TotalOrder(&upper_slice))));
  int64_t now = absl::ToUnixMicros(absl::Now());
  std::vector<FilterCell> cells;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    absl::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    KV_ASSIGN_OR_RETURN(CellKey cell_key, DecodeCellKey(key));
    KV_ASSIGN_OR_RETURN(
        Cell cell,
        ToCell(std::move(cell_key),
               absl::string_view(it->value().data(), it->value().size())));
    if (Expired(info, cell, now)) continue;
    cells.push_back(ToFilterCell(std::move(cell)));
  }
  KV_RETURN_IF_ERROR(FromRocks(it->status(), "read row"));
  return cells;
}

absl::StatusOr<std::optional<Cell>> RocksEngine::NewestInBatch(
    rocksdb::WriteBatchWithIndex& batch, const TableInfo& info,
    const std::string& row, const std::string& family,
    const std::string& qualifier) {
  std::string key = IsSingleVersion(info, family)
                        ? SingleVersionKey(info.id, row, family, qualifier)
                        : ColumnPrefix(info.id, row, family, qualifier);
  std::string upper =
      PrefixSuccessor(ColumnPrefix(info.id, row, family, qualifier));
  rocksdb::Slice upper_slice(upper);
  std::unique_ptr<rocksdb::Iterator> it(
      batch.NewIteratorWithBase(db_->NewIterator(TotalOrder(&upper_slice))));
  it->Seek(key);
  if (!it->Valid()) {
    KV_RETURN_IF_ERROR(FromRocks(it->status(), "read cell"));
    return std::nullopt;
  }
  absl::string_view found(it->key().data(), it->key().size());
  KV_ASSIGN_OR_RETURN(CellKey cell_key, DecodeCellKey(found));
  if (cell_key.family != family || cell_key.qualifier != qualifier ||
      cell_key.row != row) {
    return std::nullopt;
  }
  KV_ASSIGN_OR_RETURN(Cell cell, ToCell(std::move(cell_key),
                                        absl::string_view(it->value().data(),
                                                          it->value().size())));
  return cell;
}

absl::StatusOr<std::optional<int64_t>> RocksEngine::SingleVersionTimestamp(
    rocksdb::WriteBatchWithIndex& batch, const std::string& key) {
  std::string stored;
  rocksdb::Status s =
      batch.GetFromBatchAndDB(db_.get(), rocksdb::ReadOptions(), key, &stored);
  if (s.IsNotFound()) return std::nullopt;
  KV_RETURN_IF_ERROR(FromRocks(s, "read cell"));
  int64_t timestamp = 0;
  absl::string_view value;
  if (!DecodeSingleVersionValue(stored, &timestamp, &value)) {
    return absl::DataLossError("corrupt single-version cell value");
  }
  return timestamp;
}

absl::Status RocksEngine::Apply(const TableInfo& info, const std::string& row,
                                const std::vector<Mutation>& mutations,
                                int shard,
                                rocksdb::WriteBatchWithIndex& batch) {
  ApplyState state;
  for (const Mutation& m : mutations) {
    if (m.kind == Mutation::Kind::kSetCell) {
      KV_RETURN_IF_ERROR(ApplySetCell(info, row, m, batch, state));
      continue;
    }
    KV_ASSIGN_OR_RETURN(std::vector<std::string> doomed,
                        DeletedBy(info, row, m, batch));
    for (const std::string& key : doomed) {
      KV_RETURN_IF_ERROR(FromRocks(batch.Delete(key), "batch delete"));
    }
  }
  KV_RETURN_IF_ERROR(DropExcessVersions(info, row, state, batch));
  return PersistCeilings(shard, state.newest_server, state.newest_explicit,
                         batch);
}

absl::Status RocksEngine::ApplySetCell(const TableInfo& info,
                                       const std::string& row,
                                       const Mutation& m,
                                       rocksdb::WriteBatchWithIndex& batch,
                                       ApplyState& state) {
  const bool server_time = m.timestamp_micros == kServerTimestamp;
  int64_t timestamp = server_time ? ServerNow() : m.timestamp_micros;
  if (!IsSingleVersion(info, m.family)) {
    CellKey key{info.id, row, m.family, m.qualifier, timestamp};
    ++state.touched_columns[{m.family, m.qualifier}];
    return FromRocks(batch.Put(EncodeCellKey(key), m.value), "batch put");
  }
  std::string key = SingleVersionKey(info.id, row, m.family, m.qualifier);
  if (server_time) {
    state.newest_server = std::max(state.newest_server, timestamp);
  } else {
    state.newest_explicit = std::max(state.newest_explicit, timestamp);
    RaiseExplicitMax(timestamp);
  }
  // A server timestamp above every explicit one ever written is newer than
  // every stored cell (see PersistCeilings): no read needed, a blind Put.
  if (!server_time || timestamp <= explicit_max_.load()) {
    KV_ASSIGN_OR_RETURN(std::optional<int64_t> kept,
                        SingleVersionTimestamp(batch, key));
    // A cell older than the one kept would be collected at once.
    if (kept.has_value() && *kept > timestamp) return absl::OkStatus();
  }
  return FromRocks(batch.Put(key, EncodeSingleVersionValue(timestamp, m.value)),
                   "batch put");
}

absl::StatusOr<std::vector<std::string>> RocksEngine::DeletedBy(
    const TableInfo& info, const std::string& row, const Mutation& m,
    rocksdb::WriteBatchWithIndex& batch) {
  auto all = [](const CellKey&) { return true; };
  switch (m.kind) {
    case Mutation::Kind::kDeleteFromColumn: {
      if (!IsSingleVersion(info, m.family)) {
        return KeysWithPrefix(
            batch, ColumnPrefix(info.id, row, m.family, m.qualifier),
            [&m](const CellKey& c) {
              return c.timestamp_micros >= m.start_micros &&
                     (m.end_micros == 0 || c.timestamp_micros < m.end_micros);
            },
            /*max_visits=*/0, /*column=*/true);
      }
      std::string key = SingleVersionKey(info.id, row, m.family, m.qualifier);
      KV_ASSIGN_OR_RETURN(std::optional<int64_t> kept,
                          SingleVersionTimestamp(batch, key));
      std::vector<std::string> doomed;
      if (kept.has_value() && *kept >= m.start_micros &&
          (m.end_micros == 0 || *kept < m.end_micros)) {
        doomed.push_back(std::move(key));
      }
      return doomed;
    }
    case Mutation::Kind::kDeleteFromFamily:
      return KeysWithPrefix(batch, FamilyPrefix(info.id, row, m.family), all);
    case Mutation::Kind::kDeleteFromRow:
      return KeysWithPrefix(batch, RowPrefix(info.id, row), all);
    case Mutation::Kind::kSetCell:
      break;
  }
  return std::vector<std::string>();
}

absl::Status RocksEngine::DropExcessVersions(
    const TableInfo& info, const std::string& row, const ApplyState& state,
    rocksdb::WriteBatchWithIndex& batch) {
  // Garbage-collect versions beyond the family's limit, in the same atomic
  // write. Every write to such a family does this, so a column holds at most
  // `max` cells before this request and each SetCell adds at most one:
  // looking at the newest max + (cells set) is enough. Stopping there
  // matters: deleted older versions leave tombstones that a full scan would
  // walk over.
  for (const auto& [column, added] : state.touched_columns) {
    const auto& [family, qualifier] = column;
    auto limit = info.max_versions.find(family);
    if (limit == info.max_versions.end() || limit->second <= 0) continue;
    int seen = 0;
    KV_ASSIGN_OR_RETURN(
        std::vector<std::string> excess,
        KeysWithPrefix(
            batch, ColumnPrefix(info.id, row, family, qualifier),
            [&seen, max = limit->second](const CellKey&) {
              return ++seen > max;
            },
            limit->second + added, /*column=*/true));
    for (const std::string& key : excess) {
      KV_RETURN_IF_ERROR(FromRocks(batch.Delete(key), "batch delete"));
    }
  }
  return absl::OkStatus();
}

}  // namespace kvstore::store::rocks
