#include "client/builders.h"

#include <utility>

namespace kvstore {

v1::Mutation SetCell(std::string family, std::string qualifier,
                     std::string value, int64_t timestamp_micros) {
  v1::Mutation m;
  auto* set = m.mutable_set_cell();
  set->set_family_name(std::move(family));
  set->set_column_qualifier(std::move(qualifier));
  set->set_timestamp_micros(timestamp_micros);
  set->set_value(std::move(value));
  return m;
}

v1::Mutation DeleteFromColumn(std::string family, std::string qualifier,
                              int64_t start_micros, int64_t end_micros) {
  v1::Mutation m;
  auto* del = m.mutable_delete_from_column();
  del->set_family_name(std::move(family));
  del->set_column_qualifier(std::move(qualifier));
  if (start_micros != 0 || end_micros != 0) {
    del->mutable_time_range()->set_start_micros(start_micros);
    del->mutable_time_range()->set_end_micros(end_micros);
  }
  return m;
}

v1::Mutation DeleteFromFamily(std::string family) {
  v1::Mutation m;
  m.mutable_delete_from_family()->set_family_name(std::move(family));
  return m;
}

v1::Mutation DeleteFromRow() {
  v1::Mutation m;
  m.mutable_delete_from_row();
  return m;
}

v1::ReadModifyWriteRule AppendValue(std::string family, std::string qualifier,
                                    std::string suffix) {
  v1::ReadModifyWriteRule rule;
  rule.set_family_name(std::move(family));
  rule.set_column_qualifier(std::move(qualifier));
  rule.set_append_value(std::move(suffix));
  return rule;
}

v1::ReadModifyWriteRule IncrementBy(std::string family, std::string qualifier,
                                    int64_t amount) {
  v1::ReadModifyWriteRule rule;
  rule.set_family_name(std::move(family));
  rule.set_column_qualifier(std::move(qualifier));
  rule.set_increment_amount(amount);
  return rule;
}

v1::RowSet RowKeys(std::vector<std::string> keys) {
  v1::RowSet set;
  for (std::string& key : keys) set.add_row_keys(std::move(key));
  return set;
}

v1::RowSet RowRangeClosedOpen(std::string start, std::string end) {
  v1::RowSet set;
  auto* range = set.add_row_ranges();
  range->set_start_closed(std::move(start));
  if (!end.empty()) range->set_end_open(std::move(end));
  return set;
}

v1::RowFilter PassAll() {
  v1::RowFilter f;
  f.set_pass_all(true);
  return f;
}

v1::RowFilter BlockAll() {
  v1::RowFilter f;
  f.set_block_all(true);
  return f;
}

v1::RowFilter Chain(std::vector<v1::RowFilter> filters) {
  v1::RowFilter f;
  for (v1::RowFilter& child : filters) {
    *f.mutable_chain()->add_filters() = std::move(child);
  }
  return f;
}

v1::RowFilter Interleave(std::vector<v1::RowFilter> filters) {
  v1::RowFilter f;
  for (v1::RowFilter& child : filters) {
    *f.mutable_interleave()->add_filters() = std::move(child);
  }
  return f;
}

v1::RowFilter Condition(v1::RowFilter predicate, v1::RowFilter if_true,
                        v1::RowFilter if_false) {
  v1::RowFilter f;
  auto* c = f.mutable_condition();
  *c->mutable_predicate() = std::move(predicate);
  *c->mutable_if_true() = std::move(if_true);
  *c->mutable_if_false() = std::move(if_false);
  return f;
}

v1::RowFilter RowKeyRegex(std::string regex) {
  v1::RowFilter f;
  f.set_row_key_regex(std::move(regex));
  return f;
}

v1::RowFilter FamilyRegex(std::string regex) {
  v1::RowFilter f;
  f.set_family_name_regex(std::move(regex));
  return f;
}

v1::RowFilter ColumnRegex(std::string regex) {
  v1::RowFilter f;
  f.set_column_qualifier_regex(std::move(regex));
  return f;
}

v1::RowFilter ValueRegex(std::string regex) {
  v1::RowFilter f;
  f.set_value_regex(std::move(regex));
  return f;
}

v1::RowFilter TimestampRange(int64_t start_micros, int64_t end_micros) {
  v1::RowFilter f;
  f.mutable_timestamp_range()->set_start_micros(start_micros);
  f.mutable_timestamp_range()->set_end_micros(end_micros);
  return f;
}

v1::RowFilter CellsPerRowLimit(int32_t n) {
  v1::RowFilter f;
  f.set_cells_per_row_limit(n);
  return f;
}

v1::RowFilter CellsPerRowOffset(int32_t n) {
  v1::RowFilter f;
  f.set_cells_per_row_offset(n);
  return f;
}

v1::RowFilter CellsPerColumn(int32_t n) {
  v1::RowFilter f;
  f.set_cells_per_column_limit(n);
  return f;
}

v1::RowFilter StripValue() {
  v1::RowFilter f;
  f.set_strip_value(true);
  return f;
}

v1::RowFilter Label(std::string label) {
  v1::RowFilter f;
  f.set_apply_label(std::move(label));
  return f;
}

}  // namespace kvstore
