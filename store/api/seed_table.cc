#include "store/api/seed_table.h"

#include <string>

namespace kvstore::store {

TableSchema SeedTableSchema() {
  TableSchema schema;
  schema.set_name(std::string(kDefaultTable));
  auto* family = schema.add_column_families();
  family->set_name(std::string(kDefaultFamily));
  family->mutable_gc_rule()->set_max_versions(1);
  return schema;
}

}  // namespace kvstore::store
