#include "store/storage/row_set.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kvstore::store {
namespace {

// The smallest key greater than `key`.
std::string Successor(const std::string& key) {
  return key + std::string(1, '\0');
}

bool EndsBefore(const KeyInterval& a, const std::string& start) {
  return !a.end_unbounded && a.end < start;
}

}  // namespace

absl::StatusOr<std::vector<KeyInterval>> NormalizeRowSet(
    const v1::RowSet& set) {
  std::vector<KeyInterval> intervals;
  if (set.row_keys().empty() && set.row_ranges().empty()) {
    intervals.push_back(KeyInterval{"", "", true});
    return intervals;
  }
  for (int i = 0; i < set.row_keys_size(); ++i) {
    const std::string& key = set.row_keys(i);
    if (key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("rows.row_keys[", i, "] must not be empty"));
    }
    intervals.push_back(KeyInterval{key, Successor(key), false});
  }
  for (int i = 0; i < set.row_ranges_size(); ++i) {
    const v1::RowRange& range = set.row_ranges(i);
    KeyInterval interval;
    switch (range.start_case()) {
      case v1::RowRange::kStartClosed:
        interval.start = range.start_closed();
        break;
      case v1::RowRange::kStartOpen:
        // An open start at "" still excludes nothing but "" itself, which is no
        // row key.
        interval.start =
            range.start_open().empty() ? "" : Successor(range.start_open());
        break;
      case v1::RowRange::START_NOT_SET:
        break;
    }
    switch (range.end_case()) {
      case v1::RowRange::kEndOpen:
        interval.end = range.end_open();
        interval.end_unbounded = range.end_open().empty();
        break;
      case v1::RowRange::kEndClosed:
        interval.end_unbounded = range.end_closed().empty();
        if (!interval.end_unbounded)
          interval.end = Successor(range.end_closed());
        break;
      case v1::RowRange::END_NOT_SET:
        interval.end_unbounded = true;
        break;
    }
    // Compare the keys as given: an open start equal to the end is a valid,
    // empty range, even though its normalized start is past the end.
    const std::string& raw_start =
        range.start_case() == v1::RowRange::kStartOpen ? range.start_open()
                                                       : range.start_closed();
    const std::string& raw_end = range.end_case() == v1::RowRange::kEndOpen
                                     ? range.end_open()
                                     : range.end_closed();
    if (!interval.end_unbounded && raw_start > raw_end) {
      return absl::InvalidArgumentError(
          absl::StrCat("rows.row_ranges[", i,
                       "]: the start key must not be after the end key"));
    }
    if (!interval.end_unbounded && interval.start >= interval.end)
      continue;  // empty
    intervals.push_back(std::move(interval));
  }
  std::sort(intervals.begin(), intervals.end(),
            [](const KeyInterval& a, const KeyInterval& b) {
              return a.start < b.start;
            });
  std::vector<KeyInterval> merged;
  for (KeyInterval& interval : intervals) {
    if (!merged.empty() && !EndsBefore(merged.back(), interval.start)) {
      KeyInterval& last = merged.back();
      if (interval.end_unbounded) {
        last.end_unbounded = true;
        last.end.clear();
      } else if (!last.end_unbounded && interval.end > last.end) {
        last.end = std::move(interval.end);
      }
      continue;
    }
    merged.push_back(std::move(interval));
  }
  return merged;
}

}  // namespace kvstore::store
