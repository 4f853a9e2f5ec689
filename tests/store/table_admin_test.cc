// Table administration in the engine: create, list, describe, delete,
// persistence.
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/storage/rocks_engine.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"
#include "tests/store/engine_util.h"

using ::kvstore::testing::IsOk;

namespace kvstore::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TableSchema Schema(const std::string& name,
                   const std::vector<std::pair<std::string, int>>& families) {
  TableSchema schema;
  schema.set_name(name);
  for (const auto& [family, versions] : families) {
    auto* f = schema.add_column_families();
    f->set_name(family);
    f->mutable_gc_rule()->set_max_versions(versions);
  }
  return schema;
}

std::vector<std::string> Names(Engine& engine) {
  std::vector<std::string> names;
  absl::StatusOr<std::vector<TableSchema>> tables = engine.ListTables();
  EXPECT_TRUE(tables.ok()) << tables.status();
  if (!tables.ok()) return names;
  for (const auto& t : *tables) names.push_back(t.name());
  return names;
}

class TableAdminTest : public ::testing::Test {
 protected:
  void Open() {
    engine_.reset();
    EngineOptions options = WithSeedTable();
    options.data_dir = dir_.File("db");
    auto engine = OpenRocksEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
  }
  void SetUp() override { Open(); }

  kvstore::testing::TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(TableAdminTest, DefaultTableAlwaysExists) {
  EXPECT_THAT(Names(*engine_), ElementsAre("default"));
  auto table = engine_->GetTable("default");
  ASSERT_THAT(table, IsOk());
  ASSERT_EQ(table->column_families_size(), 1);
  EXPECT_EQ(table->column_families(0).name(), "cf");
  EXPECT_EQ(table->column_families(0).gc_rule().max_versions(), 1);
  EXPECT_EQ(engine_->DeleteTable("default").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->CreateTable(Schema("default", {})).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(TableAdminTest, CreateListDescribeDelete) {
  ASSERT_THAT(engine_->CreateTable(Schema("users", {{"info", 0}, {"log", 3}})),
              IsOk());
  ASSERT_THAT(engine_->CreateTable(Schema("a.b-c_d", {})), IsOk());
  EXPECT_EQ(engine_->CreateTable(Schema("users", {})).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(Names(*engine_), ElementsAre("a.b-c_d", "default", "users"));
  auto users = engine_->GetTable("users");
  ASSERT_THAT(users, IsOk());
  EXPECT_EQ(users->column_families(1).gc_rule().max_versions(), 3);
  ASSERT_THAT(engine_->DeleteTable("users"), IsOk());
  EXPECT_EQ(engine_->GetTable("users").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->DeleteTable("users").code(), absl::StatusCode::kNotFound);
}

TEST_F(TableAdminTest, BadSchemasAreInvalidArgument) {
  for (const TableSchema& bad :
       {Schema("", {}), Schema("has space", {}), Schema("slash/no", {}),
        Schema(std::string(129, 't'), {}), Schema("t", {{"", 0}}),
        Schema("t", {{"a:b", 0}}), Schema("t", {{std::string(65, 'f'), 0}}),
        Schema("t", {{"f", 0}, {"f", 1}}), Schema("t", {{"f", -1}})}) {
    EXPECT_EQ(engine_->CreateTable(bad).code(),
              absl::StatusCode::kInvalidArgument)
        << bad.ShortDebugString();
  }
  EXPECT_THAT(engine_->CreateTable(
                  Schema(std::string(128, 't'), {{std::string(64, 'f'), 0}})),
              IsOk());
}

TEST_F(TableAdminTest, VersionLimitsApplyPerFamily) {
  ASSERT_THAT(engine_->CreateTable(Schema("t", {{"all", 0}, {"two", 2}})),
              IsOk());
  for (int ts = 1; ts <= 4; ++ts) {
    ASSERT_THAT(MutateRowAndWait(*engine_, "t", "r",
                                 {Mutation::SetCell("all", "q", ts, "a"),
                                  Mutation::SetCell("two", "q", ts, "b")}),
                IsOk());
  }
  auto cells = TEST_ReadStoredRow(*engine_, "t", "r");
  ASSERT_THAT(cells, IsOk());
  std::vector<std::pair<std::string, int64_t>> got;
  for (const Cell& c : *cells) got.emplace_back(c.family, c.timestamp_micros);
  EXPECT_THAT(got, ElementsAre(std::pair<std::string, int64_t>{"all", 4},
                               std::pair<std::string, int64_t>{"all", 3},
                               std::pair<std::string, int64_t>{"all", 2},
                               std::pair<std::string, int64_t>{"all", 1},
                               std::pair<std::string, int64_t>{"two", 4},
                               std::pair<std::string, int64_t>{"two", 3}));
}

TEST_F(TableAdminTest, DeletedTableLosesItsRowsAndTheNameCanBeReused) {
  ASSERT_THAT(engine_->CreateTable(Schema("t", {{"f", 0}})), IsOk());
  ASSERT_THAT(MutateRowAndWait(*engine_, "t", "r",
                               {Mutation::SetCell("f", "q", 1, "v")}),
              IsOk());
  ASSERT_THAT(engine_->DeleteTable("t"), IsOk());
  EXPECT_EQ(MutateRowAndWait(*engine_, "t", "r",
                             {Mutation::SetCell("f", "q", 1, "v")})
                .code(),
            absl::StatusCode::kNotFound);
  ASSERT_THAT(engine_->CreateTable(Schema("t", {{"f", 0}})), IsOk());
  EXPECT_THAT(*TEST_ReadStoredRow(*engine_, "t", "r"), IsEmpty());
}

TEST_F(TableAdminTest, TablesAndTheirRowsSurviveReopen) {
  ASSERT_THAT(engine_->CreateTable(Schema("keep", {{"f", 2}})), IsOk());
  ASSERT_THAT(engine_->CreateTable(Schema("drop", {{"f", 0}})), IsOk());
  ASSERT_THAT(MutateRowAndWait(*engine_, "keep", "r",
                               {Mutation::SetCell("f", "q", 5, "v")}),
              IsOk());
  ASSERT_THAT(engine_->DeleteTable("drop"), IsOk());
  ASSERT_THAT(engine_->Close(), IsOk());
  Open();
  EXPECT_THAT(Names(*engine_), ElementsAre("default", "keep"));
  EXPECT_EQ(
      engine_->GetTable("keep")->column_families(0).gc_rule().max_versions(),
      2);
  EXPECT_THAT(*TEST_ReadStoredRow(*engine_, "keep", "r"),
              ElementsAre(Cell{"f", "q", 5, "v"}));
  // A table created after the reopen gets a fresh id: no old rows show up.
  ASSERT_THAT(engine_->CreateTable(Schema("drop", {{"f", 0}})), IsOk());
  EXPECT_THAT(*TEST_ReadStoredRow(*engine_, "drop", "r"), IsEmpty());
}

}  // namespace
}  // namespace kvstore::store
