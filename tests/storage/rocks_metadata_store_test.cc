// What only RocksMetadataStore does; the MetadataStore contract is tested for every backend in
// store_conformance_test.cc.
#include "storage/rocks_metadata_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "storage/store_test_data.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

using testing::Instance;
using testing::kStart;

class RocksMetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions options;
    options.data_dir = dir_.path();
    auto db = Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    store_ = std::make_unique<RocksMetadataStore>(db_.get(), &clock_);
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kStart};
  std::unique_ptr<Database> db_;
  std::unique_ptr<RocksMetadataStore> store_;
};

TEST_F(RocksMetadataStoreTest, HeartbeatsWithinTheTouchPeriodAreNotWrittenAgain) {
  auto with_props = Instance("svc", "i", "GENERAL", {{"language", "python"}});
  ASSERT_TRUE(store_->UpsertInstance("svc", with_props, true).ok());
  clock_.AdvanceMillis(15000);
  ASSERT_TRUE(store_->UpsertInstance("svc", Instance("svc", "i", "GENERAL", {}), false).ok());
  // A second heartbeat within the touch period is not written again.
  clock_.AdvanceMillis(RocksMetadataStore::kTouchPeriodMs - 1);
  ASSERT_TRUE(store_->UpsertInstance("svc", Instance("svc", "i", "GENERAL", {}), false).ok());
  auto instance = store_->GetInstance(with_props.id);
  ASSERT_TRUE(instance.ok());
  ASSERT_TRUE(instance->has_value());
  EXPECT_EQ((*instance)->last_heartbeat_ms, kStart + 15000);
  EXPECT_EQ((*instance)->first_seen_ms, kStart);
  EXPECT_THAT((*instance)->properties,
              ::testing::ElementsAre(::testing::Pair("language", "python")));
}

}  // namespace
}  // namespace stackhouse::storage
