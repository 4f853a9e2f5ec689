#include "store/filter/row_filter.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "store/filter/full_matcher.h"

namespace kvstore::store {
namespace {

using Refs = std::vector<FilteredCell>;

// The row a filter runs on. Nodes pass FilteredCell references into `cells`
// around instead of copies, so a chain of filters over large values copies
// nothing.
struct RowView {
  absl::string_view key;
  const std::vector<FilterCell>& cells;

  const FilterCell& cell(const FilteredCell& ref) const {
    return cells[ref.index];
  }
  // The value as the filters so far leave it.
  absl::string_view value(const FilteredCell& ref) const {
    return ref.value_stripped ? absl::string_view() : cells[ref.index].value;
  }
};

// Back to row order after branches were merged; equal cells (interleave's
// duplicates) keep their branch order.
void SortToRowOrder(Refs* refs) {
  std::stable_sort(refs->begin(), refs->end(),
                   [](const FilteredCell& a, const FilteredCell& b) {
                     return a.index < b.index;
                   });
}

// The output of a node: the cells flowing on, and cells a sink sent straight to
// the final output.
struct Output {
  Refs cells;
  Refs sunk;
};

class Node {
 public:
  virtual ~Node() = default;
  virtual Output Apply(const RowView& row, const Refs& in) const = 0;
};

using NodePtr = std::unique_ptr<Node>;

class PassAll final : public Node {
 public:
  Output Apply(const RowView&, const Refs& in) const override {
    return {in, {}};
  }
};

class BlockAll final : public Node {
 public:
  Output Apply(const RowView&, const Refs&) const override { return {}; }
};

// Bigtable's rule: the cells that reach a sink go to the output of the read and
// to no parent filter, so nothing flows on.
class Sink final : public Node {
 public:
  Output Apply(const RowView&, const Refs& in) const override {
    return {{}, in};
  }
};

class Chain final : public Node {
 public:
  explicit Chain(std::vector<NodePtr> children)
      : children_(std::move(children)) {}
  Output Apply(const RowView& row, const Refs& in) const override {
    Output out{in, {}};
    for (const NodePtr& child : children_) {
      if (out.cells.empty()) break;  // nothing left for later filters
      Output step = child->Apply(row, out.cells);
      out.cells = std::move(step.cells);
      out.sunk.insert(out.sunk.end(), step.sunk.begin(), step.sunk.end());
    }
    return out;
  }

 private:
  std::vector<NodePtr> children_;
};

class Interleave final : public Node {
 public:
  explicit Interleave(std::vector<NodePtr> children)
      : children_(std::move(children)) {}
  Output Apply(const RowView& row, const Refs& in) const override {
    Output out;
    for (const NodePtr& child : children_) {
      Output branch = child->Apply(row, in);
      out.cells.insert(out.cells.end(), branch.cells.begin(),
                       branch.cells.end());
      out.sunk.insert(out.sunk.end(), branch.sunk.begin(), branch.sunk.end());
    }
    SortToRowOrder(&out.cells);
    return out;
  }

 private:
  std::vector<NodePtr> children_;
};

class Condition final : public Node {
 public:
  Condition(NodePtr predicate, NodePtr if_true, NodePtr if_false)
      : predicate_(std::move(predicate)),
        if_true_(std::move(if_true)),
        if_false_(std::move(if_false)) {}
  Output Apply(const RowView& row, const Refs& in) const override {
    bool matched = !predicate_->Apply(row, in).cells.empty();
    const NodePtr& branch = matched ? if_true_ : if_false_;
    if (branch == nullptr) return {};
    return branch->Apply(row, in);
  }

 private:
  NodePtr predicate_, if_true_, if_false_;
};

// Keeps the cells `keep(row_key, cell, value)` accepts (`value` is the cell's
// value as earlier filters left it).
template <typename Pred>
class PerCell final : public Node {
 public:
  explicit PerCell(Pred keep) : keep_(std::move(keep)) {}
  Output Apply(const RowView& row, const Refs& in) const override {
    Output out;
    out.cells.reserve(in.size());
    for (const FilteredCell& ref : in) {
      if (keep_(row.key, row.cell(ref), row.value(ref))) {
        out.cells.push_back(ref);
      }
    }
    return out;
  }

 private:
  Pred keep_;
};

template <typename Pred>
NodePtr MakePerCell(Pred keep) {
  return std::make_unique<PerCell<Pred>>(std::move(keep));
}

class RowSample final : public Node {
 public:
  explicit RowSample(double p) : p_(p), rng_(std::random_device{}()) {}
  Output Apply(const RowView&, const Refs& in) const override {
    absl::MutexLock lock(&mu_);
    if (std::uniform_real_distribution<double>(0, 1)(rng_) < p_)
      return {in, {}};
    return {};
  }

 private:
  const double p_;
  mutable absl::Mutex mu_;
  mutable std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

class CellsPerRowOffset final : public Node {
 public:
  explicit CellsPerRowOffset(int n) : n_(static_cast<size_t>(n)) {}
  Output Apply(const RowView&, const Refs& in) const override {
    if (n_ >= in.size()) return {};
    return {Refs(in.begin() + static_cast<long>(n_), in.end()), {}};
  }

 private:
  size_t n_;
};

class CellsPerRowLimit final : public Node {
 public:
  explicit CellsPerRowLimit(int n) : n_(static_cast<size_t>(n)) {}
  Output Apply(const RowView&, const Refs& in) const override {
    return {Refs(in.begin(),
                 in.begin() + static_cast<long>(std::min(n_, in.size()))),
            {}};
  }

 private:
  size_t n_;
};

class CellsPerColumnLimit final : public Node {
 public:
  explicit CellsPerColumnLimit(int n) : n_(n) {}
  Output Apply(const RowView& row, const Refs& in) const override {
    Output out;
    const FilterCell* column = nullptr;
    int seen = 0;
    for (const FilteredCell& ref : in) {
      const FilterCell& c = row.cell(ref);
      if (column == nullptr || column->family != c.family ||
          column->qualifier != c.qualifier) {
        column = &c;
        seen = 0;
      }
      if (++seen <= n_) out.cells.push_back(ref);
    }
    return out;
  }

 private:
  int n_;
};

class StripValue final : public Node {
 public:
  Output Apply(const RowView&, const Refs& in) const override {
    Output out{in, {}};
    for (FilteredCell& ref : out.cells) ref.value_stripped = true;
    return out;
  }
};

class ApplyLabel final : public Node {
 public:
  explicit ApplyLabel(std::string label) : label_(std::move(label)) {}
  Output Apply(const RowView&, const Refs& in) const override {
    Output out{in, {}};
    for (FilteredCell& ref : out.cells) ref.label = &label_;
    return out;
  }

 private:
  const std::string label_;
};

// Byte-range bounds for column_range and value_range.
struct Bounds {
  std::string start;
  bool start_open = false;
  bool has_start = false;
  std::string end;
  bool end_open = false;
  bool has_end = false;

  bool Contains(absl::string_view v) const {
    if (has_start && (start_open ? v <= start : v < start)) return false;
    if (has_end && (end_open ? v >= end : v > end)) return false;
    return true;
  }
};

class Compiler {
 public:
  // Compiles `f`, found at `where` (for messages), `depth` levels down, inside
  // a condition's predicate or branch if `in_condition`.
  absl::StatusOr<NodePtr> Compile(const v1::RowFilter& f,
                                  const std::string& where, int depth,
                                  bool in_condition) {
    if (depth > kMaxFilterDepth) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": filters nest more than ", kMaxFilterDepth, " deep"));
    }
    switch (f.kind_case()) {
      case v1::RowFilter::KIND_NOT_SET:
        return NodePtr(std::make_unique<PassAll>());
      case v1::RowFilter::kChain:
      case v1::RowFilter::kInterleave:
        return CompileList(f, where, depth, in_condition);
      case v1::RowFilter::kCondition:
        return CompileCondition(f.condition(), where + ".condition", depth);
      case v1::RowFilter::kSink:
        if (!f.sink()) return MustBeTrue(where, "sink");
        if (in_condition) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": sink is not allowed inside a condition"));
        }
        return NodePtr(std::make_unique<Sink>());
      case v1::RowFilter::kPassAll:
        if (!f.pass_all()) return MustBeTrue(where, "passAll");
        return NodePtr(std::make_unique<PassAll>());
      case v1::RowFilter::kBlockAll:
        if (!f.block_all()) return MustBeTrue(where, "blockAll");
        return NodePtr(std::make_unique<BlockAll>());
      case v1::RowFilter::kRowKeyRegex:
      case v1::RowFilter::kFamilyNameRegex:
      case v1::RowFilter::kColumnQualifierRegex:
      case v1::RowFilter::kValueRegex:
        return CompileRegex(f, where);
      case v1::RowFilter::kRowSample:
        if (!(f.row_sample() > 0 && f.row_sample() < 1)) {
          return absl::InvalidArgumentError(absl::StrCat(
              where, ".rowSample must be between 0 and 1 (exclusive)"));
        }
        return NodePtr(std::make_unique<RowSample>(f.row_sample()));
      case v1::RowFilter::kColumnRange:
        return CompileColumnRange(f.column_range(), where);
      case v1::RowFilter::kTimestampRange:
        return CompileTimestampRange(f.timestamp_range(), where);
      case v1::RowFilter::kValueRange:
        return CompileValueRange(f.value_range(), where);
      case v1::RowFilter::kCellsPerRowOffset:
      case v1::RowFilter::kCellsPerRowLimit:
      case v1::RowFilter::kCellsPerColumnLimit:
        return CompileCellCount(f, where);
      case v1::RowFilter::kStripValue:
        if (!f.strip_value()) return MustBeTrue(where, "stripValue");
        return NodePtr(std::make_unique<StripValue>());
      case v1::RowFilter::kApplyLabel:
        return CompileLabel(f.apply_label(), where);
    }
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": unknown filter kind"));
  }

 private:
  absl::StatusOr<NodePtr> CompileList(const v1::RowFilter& f,
                                      const std::string& where, int depth,
                                      bool in_condition) {
    bool chain = f.kind_case() == v1::RowFilter::kChain;
    const auto& filters =
        chain ? f.chain().filters() : f.interleave().filters();
    std::string list =
        absl::StrCat(where, chain ? ".chain" : ".interleave", ".filters");
    if (filters.size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(list, " needs at least 2 filters"));
    }
    std::vector<NodePtr> children;
    int labelled = 0;
    for (int i = 0; i < filters.size(); ++i) {
      if (HasLabel(filters[i])) ++labelled;
      auto child = Compile(filters[i], absl::StrCat(list, "[", i, "]"),
                           depth + 1, in_condition);
      if (!child.ok()) return child.status();
      children.push_back(std::move(*child));
    }
    if (chain && labelled > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          list, ": at most one filter of a chain may apply a label"));
    }
    if (chain) return NodePtr(std::make_unique<Chain>(std::move(children)));
    return NodePtr(std::make_unique<Interleave>(std::move(children)));
  }

  absl::StatusOr<NodePtr> CompileCondition(const v1::RowFilter::Condition& c,
                                           const std::string& at, int depth) {
    if (!c.has_predicate()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".predicate must be set"));
    }
    auto predicate = Compile(c.predicate(), at + ".predicate", depth + 1, true);
    if (!predicate.ok()) return predicate.status();
    NodePtr branches[2];
    const v1::RowFilter* sources[2] = {
        c.has_if_true() ? &c.if_true() : nullptr,
        c.has_if_false() ? &c.if_false() : nullptr};
    const char* names[2] = {".ifTrue", ".ifFalse"};
    for (int b = 0; b < 2; ++b) {
      if (sources[b] == nullptr) continue;
      auto branch = Compile(*sources[b], at + names[b], depth + 1, true);
      if (!branch.ok()) return branch.status();
      branches[b] = std::move(*branch);
    }
    return NodePtr(std::make_unique<Condition>(
        std::move(*predicate), std::move(branches[0]), std::move(branches[1])));
  }

  // rowKeyRegex, familyNameRegex, columnQualifierRegex, valueRegex.
  static absl::StatusOr<NodePtr> CompileRegex(const v1::RowFilter& f,
                                              const std::string& where) {
    switch (f.kind_case()) {
      case v1::RowFilter::kRowKeyRegex: {
        if (f.row_key_regex().empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".rowKeyRegex must not be empty"));
        }
        auto re =
            FullMatcher::Compile(f.row_key_regex(), where + ".rowKeyRegex");
        if (!re.ok()) return re.status();
        return MakePerCell([re = std::move(*re)](
                               absl::string_view key, const FilterCell&,
                               absl::string_view) { return re.Matches(key); });
      }
      case v1::RowFilter::kFamilyNameRegex: {
        if (f.family_name_regex().find(':') != std::string::npos) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".familyNameRegex must not contain ':'"));
        }
        auto re = FullMatcher::Compile(f.family_name_regex(),
                                       where + ".familyNameRegex");
        if (!re.ok()) return re.status();
        return MakePerCell([re = std::move(*re)](absl::string_view,
                                                 const FilterCell& c,
                                                 absl::string_view) {
          return re.Matches(c.family);
        });
      }
      case v1::RowFilter::kColumnQualifierRegex: {
        auto re = FullMatcher::Compile(f.column_qualifier_regex(),
                                       where + ".columnQualifierRegex");
        if (!re.ok()) return re.status();
        return MakePerCell([re = std::move(*re)](absl::string_view,
                                                 const FilterCell& c,
                                                 absl::string_view) {
          return re.Matches(c.qualifier);
        });
      }
      default: {
        auto re = FullMatcher::Compile(f.value_regex(), where + ".valueRegex");
        if (!re.ok()) return re.status();
        return MakePerCell([re = std::move(*re)](absl::string_view,
                                                 const FilterCell&,
                                                 absl::string_view value) {
          return re.Matches(value);
        });
      }
    }
  }

  static absl::StatusOr<NodePtr> CompileColumnRange(const v1::ColumnRange& r,
                                                    const std::string& where) {
    if (r.family_name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".columnRange.familyName must be set"));
    }
    Bounds b;
    b.has_start = r.start_case() != v1::ColumnRange::START_NOT_SET;
    b.start_open = r.start_case() == v1::ColumnRange::kStartQualifierOpen;
    b.start =
        b.start_open ? r.start_qualifier_open() : r.start_qualifier_closed();
    b.has_end = r.end_case() != v1::ColumnRange::END_NOT_SET;
    b.end_open = r.end_case() == v1::ColumnRange::kEndQualifierOpen;
    b.end = b.end_open ? r.end_qualifier_open() : r.end_qualifier_closed();
    if (b.has_start && b.has_end && b.start > b.end) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".columnRange: start must not be after end"));
    }
    return MakePerCell([b, family = r.family_name()](absl::string_view,
                                                     const FilterCell& c,
                                                     absl::string_view) {
      return c.family == family && b.Contains(c.qualifier);
    });
  }

  static absl::StatusOr<NodePtr> CompileTimestampRange(
      const v1::TimestampRange& range, const std::string& where) {
    int64_t start = range.start_micros();
    int64_t end = range.end_micros();
    if (start < 0 || end < 0 || (end != 0 && end < start)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where,
          ".timestampRange: need 0 <= start <= end (end 0 for no bound)"));
    }
    return MakePerCell([start, end](absl::string_view, const FilterCell& c,
                                    absl::string_view) {
      return c.timestamp_micros >= start &&
             (end == 0 || c.timestamp_micros < end);
    });
  }

  static absl::StatusOr<NodePtr> CompileValueRange(const v1::ValueRange& r,
                                                   const std::string& where) {
    Bounds b;
    b.has_start = r.start_case() != v1::ValueRange::START_NOT_SET;
    b.start_open = r.start_case() == v1::ValueRange::kStartValueOpen;
    b.start = b.start_open ? r.start_value_open() : r.start_value_closed();
    b.has_end = r.end_case() != v1::ValueRange::END_NOT_SET;
    b.end_open = r.end_case() == v1::ValueRange::kEndValueOpen;
    b.end = b.end_open ? r.end_value_open() : r.end_value_closed();
    if (b.has_start && b.has_end && b.start > b.end) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".valueRange: start must not be after end"));
    }
    return MakePerCell(
        [b](absl::string_view, const FilterCell&, absl::string_view value) {
          return b.Contains(value);
        });
  }

  // cellsPerRowOffset, cellsPerRowLimit, cellsPerColumnLimit.
  static absl::StatusOr<NodePtr> CompileCellCount(const v1::RowFilter& f,
                                                  const std::string& where) {
    switch (f.kind_case()) {
      case v1::RowFilter::kCellsPerRowOffset:
        if (f.cells_per_row_offset() < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".cellsPerRowOffset must be >= 0"));
        }
        return NodePtr(
            std::make_unique<CellsPerRowOffset>(f.cells_per_row_offset()));
      case v1::RowFilter::kCellsPerRowLimit:
        if (f.cells_per_row_limit() < 1) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".cellsPerRowLimit must be >= 1"));
        }
        return NodePtr(
            std::make_unique<CellsPerRowLimit>(f.cells_per_row_limit()));
      default:
        if (f.cells_per_column_limit() < 1) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".cellsPerColumnLimit must be >= 1"));
        }
        return NodePtr(
            std::make_unique<CellsPerColumnLimit>(f.cells_per_column_limit()));
    }
  }

  static absl::StatusOr<NodePtr> CompileLabel(const std::string& label,
                                              const std::string& where) {
    bool ok =
        !label.empty() && label.size() <= 15 &&
        std::all_of(label.begin(), label.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        });
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".applyLabel '", label, "' must match [a-z0-9-]{1,15}"));
    }
    return NodePtr(std::make_unique<ApplyLabel>(label));
  }

  static absl::Status MustBeTrue(const std::string& where,
                                 absl::string_view field) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ".", field, " must be true when set"));
  }

  static bool HasLabel(const v1::RowFilter& f) {
    switch (f.kind_case()) {
      case v1::RowFilter::kApplyLabel:
        return true;
      case v1::RowFilter::kChain:
        return std::any_of(f.chain().filters().begin(),
                           f.chain().filters().end(), HasLabel);
      case v1::RowFilter::kInterleave:
        return std::any_of(f.interleave().filters().begin(),
                           f.interleave().filters().end(), HasLabel);
      case v1::RowFilter::kCondition:
        return HasLabel(f.condition().if_true()) ||
               HasLabel(f.condition().if_false());
      default:
        return false;
    }
  }
};

class CompiledFilterImpl final : public CompiledFilter {
 public:
  explicit CompiledFilterImpl(NodePtr root) : root_(std::move(root)) {}
  std::vector<FilteredCell> Select(
      absl::string_view row_key,
      const std::vector<FilterCell>& cells) const override {
    Refs all(cells.size());
    for (size_t i = 0; i < cells.size(); ++i) {
      all[i].index = static_cast<uint32_t>(i);
    }
    Output out = root_->Apply(RowView{row_key, cells}, all);
    if (out.sunk.empty()) return std::move(out.cells);
    // Sunk copies first among equal cells (the order of Bigtable's example).
    out.sunk.insert(out.sunk.end(), out.cells.begin(), out.cells.end());
    SortToRowOrder(&out.sunk);
    return std::move(out.sunk);
  }

 private:
  NodePtr root_;
};

}  // namespace

std::vector<FilterCell> CellsOf(v1::Row row) {
  std::vector<FilterCell> cells;
  for (v1::Family& family : *row.mutable_families()) {
    for (v1::Column& column : *family.mutable_columns()) {
      for (v1::Cell& cell : *column.mutable_cells()) {
        FilterCell c;
        c.family = family.name();
        c.qualifier = column.qualifier();
        c.timestamp_micros = cell.timestamp_micros();
        c.value = std::move(*cell.mutable_value());
        c.labels.assign(cell.labels().begin(), cell.labels().end());
        cells.push_back(std::move(c));
      }
    }
  }
  return cells;
}

v1::Row RowOf(std::string key, std::vector<FilterCell> cells) {
  v1::Row row;
  row.set_key(std::move(key));
  v1::Family* family = nullptr;
  v1::Column* column = nullptr;
  for (FilterCell& c : cells) {
    if (family == nullptr || family->name() != c.family) {
      family = row.add_families();
      family->set_name(std::move(c.family));
      column = nullptr;
    }
    if (column == nullptr || column->qualifier() != c.qualifier) {
      column = family->add_columns();
      column->set_qualifier(std::move(c.qualifier));
    }
    v1::Cell* cell = column->add_cells();
    cell->set_timestamp_micros(c.timestamp_micros);
    cell->set_value(std::move(c.value));
    for (std::string& label : c.labels) cell->add_labels(std::move(label));
  }
  return row;
}

std::vector<FilterCell> Materialize(
    const std::vector<FilterCell>& cells,
    const std::vector<FilteredCell>& selection) {
  std::vector<FilterCell> out;
  out.reserve(selection.size());
  for (const FilteredCell& ref : selection) {
    FilterCell& c = out.emplace_back();
    const FilterCell& from = cells[ref.index];
    c.family = from.family;
    c.qualifier = from.qualifier;
    c.timestamp_micros = from.timestamp_micros;
    if (!ref.value_stripped) c.value = from.value;
    if (ref.label != nullptr) {
      c.labels = {*ref.label};
    } else {
      c.labels = from.labels;
    }
  }
  return out;
}

std::vector<FilterCell> CompiledFilter::Apply(
    absl::string_view row_key, const std::vector<FilterCell>& cells) const {
  return Materialize(cells, Select(row_key, cells));
}

absl::StatusOr<std::unique_ptr<CompiledFilter>> CompiledFilter::Compile(
    const v1::RowFilter& filter) {
  Compiler compiler;
  auto root = compiler.Compile(filter, "filter", 1, false);
  if (!root.ok()) return root.status();
  return std::unique_ptr<CompiledFilter>(
      new CompiledFilterImpl(std::move(*root)));
}

}  // namespace kvstore::store
