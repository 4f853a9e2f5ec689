// Normalization of a kvstore.v1.RowSet into the sorted, disjoint key intervals
// a scan visits.
//
// Pure functions; thread-safe.
#ifndef KVSTORE_STORE_STORAGE_ROW_SET_H_
#define KVSTORE_STORE_STORAGE_ROW_SET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kvstore/v1/data.pb.h"

namespace kvstore::store {

// Row keys k with start <= k < end (end_unbounded: no upper limit).
struct KeyInterval {
  std::string start;
  std::string end;
  bool end_unbounded = false;

  friend bool operator==(const KeyInterval& a, const KeyInterval& b) {
    return a.start == b.start && a.end_unbounded == b.end_unbounded &&
           (a.end_unbounded || a.end == b.end);
  }
};

// The union of the set's keys and ranges as sorted, non-overlapping,
// non-adjacent intervals; every row when the set is empty. A key k is [k,
// k+"\0"); an open start s becomes s+"\0", a closed end e becomes e+"\0"; an
// unset or empty bound is unbounded. InvalidArgument for an empty row key or a
// range whose start is after its end (the message names the element).
absl::StatusOr<std::vector<KeyInterval>> NormalizeRowSet(const v1::RowSet& set);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_STORAGE_ROW_SET_H_
