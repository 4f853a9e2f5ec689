#include "store/server/file_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kvstore::store {

ConnectionBudget BudgetFor(uint64_t limit, int wanted) {
  ConnectionBudget budget;
  budget.limit = limit;
  budget.reserved = 64 + limit / 8;
  const uint64_t room = limit > budget.reserved ? limit - budget.reserved : 0;
  budget.connections =
      static_cast<int>(std::min<uint64_t>(room, static_cast<uint64_t>(wanted)));
  return budget;
}

uint64_t LimitFor(int connections) {
  // limit - (64 + limit / 8) >= connections; start from the real-valued
  // answer and step over the rounding.
  uint64_t limit = (64 + static_cast<uint64_t>(connections)) * 8 / 7;
  while (BudgetFor(limit, connections).connections < connections) ++limit;
  return limit;
}

absl::StatusOr<ConnectionBudget> RaiseFileLimitFor(int wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(
        absl::StrCat("getrlimit(RLIMIT_NOFILE): ", std::strerror(errno)));
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  ConnectionBudget budget = BudgetFor(limit.rlim_cur, wanted);
  if (budget.connections < kMinConnections) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the file-descriptor limit (RLIMIT_NOFILE ", limit.rlim_cur, ", hard ",
        limit.rlim_max, ") leaves room for ", budget.connections,
        " connections after the store's own ", budget.reserved,
        "; raise it (ulimit -n) to at least ", LimitFor(kMinConnections)));
  }
  return budget;
}

}  // namespace kvstore::store
