// What kvstore::Client may retry, and how a scan resumes: pure functions over
// kvstore.v1 messages, kept apart so they can be tested alone.
//
// Thread-safe (no state).
#ifndef KVSTORE_CLIENT_RETRY_RULES_H_
#define KVSTORE_CLIENT_RETRY_RULES_H_

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "kvstore/v1/data.pb.h"

namespace kvstore {

// Whether applying `mutations` twice leaves the row as applying them once: true
// unless a SetCell asks for server time (timestamp -1), which would write a
// second cell.
bool IdempotentMutations(const std::vector<v1::Mutation>& mutations);

// Whether a failed attempt may be tried again (for an idempotent call):
// UNAVAILABLE (the store said so, or the connection was refused or broke) and
// DEADLINE_EXCEEDED of one attempt.
bool IsTransient(const absl::Status& status);

// The part of `rows` strictly after `last` (strictly before it when
// `reversed`): what a scan that has delivered `last` still has to read.
// nullopt if nothing is left. An empty RowSet means every row.
std::optional<v1::RowSet> RowSetAfter(const v1::RowSet& rows,
                                      absl::string_view last, bool reversed);

}  // namespace kvstore

#endif  // KVSTORE_CLIENT_RETRY_RULES_H_
