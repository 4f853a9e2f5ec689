// The store's connection budget under a file-descriptor limit.
#include "store/server/file_limit.h"

#include "gtest/gtest.h"

namespace kvstore::store {
namespace {

TEST(FileLimitTest, KeepsAReserveAndCapsTheConnections) {
  ConnectionBudget common = BudgetFor(1024, 4096);
  EXPECT_EQ(common.reserved, 64u + 128u);
  EXPECT_EQ(common.connections, 1024 - 192);
  EXPECT_EQ(BudgetFor(1 << 20, 4096).connections, 4096);
  EXPECT_EQ(BudgetFor(50, 4096).connections, 0);
}

TEST(FileLimitTest, LimitForIsTheSmallestThatFits) {
  for (int connections : {1, 8, 100, 4096, 100000}) {
    const uint64_t limit = LimitFor(connections);
    EXPECT_EQ(BudgetFor(limit, connections).connections, connections);
    EXPECT_LT(BudgetFor(limit - 1, connections).connections, connections);
  }
}

}  // namespace
}  // namespace kvstore::store
