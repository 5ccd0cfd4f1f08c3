// The database on a failing disk (fakes/full_disk_env.h): what a writer is told, what
// Health says, what is stored afterwards, and that nothing acknowledged is lost.
#include <chrono>
#include <limits>
#include <thread>

#include "common/metrics.h"
#include "fakes/full_disk_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/database.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kStart = 1700000000000;

class DatabaseFaultsTest : public ::testing::Test {
 protected:
  DatabaseOptions Options() {
    DatabaseOptions options;
    options.data_dir = dir_.path();
    options.env = fakes::NewEnv(fs_);
    options.write_errors = &write_errors_;
    return options;
  }

  std::unique_ptr<Database> Open() {
    auto db = Database::Open(Options(), &clock_);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? std::move(*db) : nullptr;
  }

  // RocksDB clears a background error on its own thread (its SstFileManager looks every few
  // seconds); Health asks it to resume and probes. Waits for that, not for a fixed time.
  static absl::Status WaitHealthy(Database& db) {
    absl::Status health;
    for (int i = 0; i < 600; ++i) {
      health = db.Health();
      if (health.ok()) return health;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return health;
  }

  static std::string Value(Database& db, Family family, const std::string& key) {
    auto record = db.Get(family, key);
    if (!record.ok()) return std::string(record.status().message());
    return record->has_value() ? (*record)->value : "<none>";
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kStart};
  std::shared_ptr<fakes::FullDiskFileSystem> fs_ = std::make_shared<fakes::FullDiskFileSystem>();
  Counter write_errors_;
};

TEST_F(DatabaseFaultsTest, OpenRefusesADirectoryWithLessFreeSpaceThanTheMinimum) {
  DatabaseOptions options = Options();
  options.min_free_bytes = std::numeric_limits<int64_t>::max();
  auto db = Database::Open(options, &clock_);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(db.status().message(), HasSubstr("data directory " + dir_.path() + " has "));
  EXPECT_THAT(db.status().message(), HasSubstr("below storage.minFreeSpace"));
  // Nothing was created that a later start with enough space would trip over.
  options.min_free_bytes = 0;
  EXPECT_TRUE(Database::Open(options, &clock_).ok());
}

TEST_F(DatabaseFaultsTest, AFullDiskFailsWritesAndHealthUntilSpaceReturns) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Put(Family::kTask, "before", kStart, "kept").ok());
  EXPECT_TRUE(db->Health().ok());

  fs_->set_full(true);
  WriteBatch batch;
  batch.Put(Family::kTask, "during-1", kStart, "a");
  batch.Put(Family::kSegment, "during-2", kStart, "b");
  batch.Delete(Family::kTask, "before");
  absl::Status failed = db->Write(std::move(batch));
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
  EXPECT_THAT(failed.message(), HasSubstr("fake full disk"));
  EXPECT_GE(write_errors_.Value(), 1u);

  absl::Status health = db->Health();
  EXPECT_EQ(health.code(), absl::StatusCode::kUnavailable) << health;
  EXPECT_THAT(health.message(), HasSubstr("storage: write"));
  EXPECT_THAT(health.message(), HasSubstr("MiB free in the data directory"));
  // Reads go on: what was acknowledged is there, nothing of the failed batch is.
  EXPECT_EQ(Value(*db, Family::kTask, "before"), "kept");
  EXPECT_EQ(Value(*db, Family::kTask, "during-1"), "<none>");
  EXPECT_EQ(Value(*db, Family::kSegment, "during-2"), "<none>");

  fs_->set_full(false);
  ASSERT_TRUE(WaitHealthy(*db).ok());
  ASSERT_TRUE(db->Put(Family::kTask, "after", kStart, "written").ok());
  const uint64_t errors = write_errors_.Value();
  EXPECT_TRUE(db->Health().ok());
  EXPECT_EQ(write_errors_.Value(), errors);  // a healthy Health writes nothing

  db.reset();
  db = Open();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Value(*db, Family::kTask, "before"), "kept");
  EXPECT_EQ(Value(*db, Family::kTask, "after"), "written");
  EXPECT_EQ(Value(*db, Family::kTask, "during-1"), "<none>");
}

TEST_F(DatabaseFaultsTest, AFailedFlushKeepsAcknowledgedWritesAcrossAReopen) {
  auto db = Open();
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(db->Put(Family::kSnapshot, "k" + std::to_string(i), kStart, "v").ok());
  }
  fs_->set_full(true);
  // The memtable cannot become an SST file; the write-ahead log still holds every record.
  EXPECT_FALSE(db->Flush().ok());
  EXPECT_FALSE(db->Health().ok());
  fs_->set_full(false);
  absl::Status healthy = WaitHealthy(*db);
  ASSERT_TRUE(healthy.ok()) << healthy;
  db.reset();
  db = Open();
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(Value(*db, Family::kSnapshot, "k" + std::to_string(i)), "v") << i;
  }
}

}  // namespace
}  // namespace stackhouse::storage
