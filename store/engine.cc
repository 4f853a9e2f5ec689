#include "store/engine.h"

#include <utility>

#include "absl/synchronization/notification.h"

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

absl::Status Engine::MutateRowAndWait(absl::string_view table, std::string row,
                                      std::vector<Mutation> mutations) {
  absl::Notification done;
  absl::Status result;
  MutateRow(table, std::move(row), std::move(mutations),
            [&](absl::Status status) {
              result = std::move(status);
              done.Notify();
            });
  done.WaitForNotification();
  return result;
}

}  // namespace kvstore::store
