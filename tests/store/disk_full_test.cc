// A full disk, simulated by EngineOptions::file_write_fault (every write and
// sync of a database file fails with ENOSPC while `full_` is set): writes
// fail with ResourceExhausted (HTTP 507) and stay refused while the disk is
// full, reads go on, and once space is back writes resume by themselves,
// with nothing acknowledged lost across a reopen. For every fsync mode.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "common/status_http.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/storage/rocks_engine.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"
#include "tests/store/engine_util.h"

using ::kvstore::testing::IsOk;
using ::kvstore::testing::StatusIs;

namespace kvstore::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class DiskFullTest : public ::testing::TestWithParam<SyncMode> {
 protected:
  void Open(bool with_fault = true) {
    EngineOptions options = WithSeedTable();
    options.data_dir = dir_.File("db");
    options.sync = GetParam();
    options.memtable_bytes = 64 * 1024;
    if (with_fault) {
      options.file_write_fault = [this](const std::string& file) {
        if (!full_.load() || !absl::EndsWith(file, suffix_)) {
          return absl::OkStatus();
        }
        return absl::ResourceExhaustedError("No space left on device");
      };
    }
    auto opened = OpenRocksEngine(options);
    ASSERT_THAT(opened, IsOk());
    engine_ = std::move(*opened);
  }

  absl::Status Write(const std::string& row, const std::string& value = "v") {
    return MutateRowAndWait(*engine_, "default", row,
                            {Mutation::SetCell("cf", "", 1, value)});
  }

  std::vector<Cell> Row(const std::string& row) {
    auto cells = TEST_ReadStoredRow(*engine_, "default", row);
    EXPECT_THAT(cells, IsOk());
    return cells.ok() ? *cells : std::vector<Cell>{};
  }

  // Waits (generously: recovery is tried once a second, and RocksDB's own
  // recovery from a full disk polls every few seconds) for writes to be
  // accepted again.
  void AwaitWritable() {
    for (int i = 0; i < 600 && !engine_->Writable().ok(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_THAT(engine_->Writable(), IsOk());
  }

  void ExpectDiskFull(const absl::Status& status) {
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted,
                                 HasSubstr("disk full")));
    EXPECT_THAT(std::string(status.message()), HasSubstr("No space left"));
    EXPECT_EQ(HttpStatusOf(status), 507);
  }

  kvstore::testing::TempDir dir_;
  std::atomic<bool> full_{false};
  std::string suffix_;  // files the fault hits: "" for all
  std::unique_ptr<Engine> engine_;
};

TEST_P(DiskFullTest, WritesAreRefusedThenResumeOnceSpaceIsBack) {
  Open();
  ASSERT_THAT(Write("before"), IsOk());
  full_ = true;
  ExpectDiskFull(Write("during"));
  ExpectDiskFull(engine_->Writable());
  ExpectDiskFull(Write("still"));  // refused without touching the disk
  EXPECT_TRUE(engine_->GetStats().writes_refused);
  EXPECT_GE(engine_->GetStats().refused_writes, 2u);
  // Reads go on.
  EXPECT_THAT(Row("before"), ElementsAre(Cell{"cf", "", 1, "v"}));
  // Still full a while later: still refused (recovery keeps failing).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ExpectDiskFull(Write("still"));

  full_ = false;
  AwaitWritable();
  ASSERT_THAT(Write("after"), IsOk());
  EngineStats stats = engine_->GetStats();
  EXPECT_FALSE(stats.writes_refused);
  EXPECT_GE(stats.write_recoveries, 1u);
  for (int i = 0; i < 200; ++i) {
    ASSERT_THAT(Write("more" + std::to_string(i)), IsOk());
  }

  // Everything acknowledged survives a reopen, before and after the fault.
  ASSERT_THAT(engine_->Close(), IsOk());
  engine_.reset();
  Open(/*with_fault=*/false);
  EXPECT_THAT(Row("before"), ElementsAre(Cell{"cf", "", 1, "v"}));
  EXPECT_THAT(Row("after"), ElementsAre(Cell{"cf", "", 1, "v"}));
  for (int i = 0; i < 200; ++i) {
    EXPECT_THAT(Row("more" + std::to_string(i)),
                ElementsAre(Cell{"cf", "", 1, "v"}))
        << i;
  }
}

TEST_P(DiskFullTest, AFailedFlushRefusesWritesUntilSpaceIsBack) {
  suffix_ = ".sst";  // the log has room; new table files do not
  Open();
  full_ = true;
  // 64 KiB memtables: these writes need flushes, which fail.
  absl::Status status;
  int written = 0;
  for (; written < 2000 && status.ok(); ++written) {
    status = Write("row" + std::to_string(written), std::string(1000, 'x'));
  }
  ASSERT_FALSE(status.ok()) << "no write failed while flushes could not";
  ExpectDiskFull(status);
  full_ = false;
  AwaitWritable();
  ASSERT_THAT(Write("after"), IsOk());
  ASSERT_THAT(engine_->Close(), IsOk());
  engine_.reset();
  Open(/*with_fault=*/false);
  // Every write acknowledged before the refusal is there.
  for (int i = 0; i + 1 < written; ++i) {
    EXPECT_THAT(Row("row" + std::to_string(i)), ::testing::SizeIs(1)) << i;
  }
  EXPECT_THAT(Row("after"), ::testing::SizeIs(1));
}

INSTANTIATE_TEST_SUITE_P(EveryFsyncMode, DiskFullTest,
                         ::testing::Values(SyncMode::kAlways,
                                           SyncMode::kEverySecond,
                                           SyncMode::kNever),
                         [](const ::testing::TestParamInfo<SyncMode>& param) {
                           return std::string(SyncModeName(param.param));
                         });

}  // namespace
}  // namespace kvstore::store
