#include "storage/rocks_metadata_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

constexpr int64_t kStart = 1700000000000;
constexpr int64_t kDay = 24LL * 3600 * 1000;

model::ServiceInstance Instance(const std::string& service, const std::string& name,
                                const std::string& layer, model::KeyValueList properties) {
  model::ServiceInstance instance;
  instance.service_id = model::ServiceId(service);
  instance.id = model::InstanceId(instance.service_id, name);
  instance.name = name;
  instance.layer = layer;
  instance.properties = std::move(properties);
  return instance;
}

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

TEST_F(RocksMetadataStoreTest, RegistersServicesAndInstances) {
  ASSERT_TRUE(store_
                  ->UpsertInstance(
                      "order-svc",
                      Instance("order-svc", "pod-1", "GENERAL",
                               {{"language", "java"}, {"ipv4", "10.0.0.1"}, {"ipv4", "10.0.0.2"}}),
                      true)
                  .ok());
  clock_.AdvanceMillis(1000);
  ASSERT_TRUE(
      store_->UpsertInstance("order-svc", Instance("order-svc", "pod-2", "MESH", {}), true).ok());

  auto services = store_->ListServices();
  ASSERT_TRUE(services.ok());
  ASSERT_EQ(services->size(), 1u);
  EXPECT_EQ((*services)[0].id, "b3JkZXItc3Zj.1");
  EXPECT_EQ((*services)[0].name, "order-svc");
  EXPECT_THAT((*services)[0].layers, ::testing::ElementsAre("GENERAL", "MESH"));
  EXPECT_EQ((*services)[0].first_seen_ms, kStart);
  EXPECT_EQ((*services)[0].last_seen_ms, kStart + 1000);

  auto instances = store_->ListInstances("b3JkZXItc3Zj.1");
  ASSERT_TRUE(instances.ok());
  ASSERT_EQ(instances->size(), 2u);
  EXPECT_EQ((*instances)[0].name, "pod-1");
  EXPECT_EQ((*instances)[0].id, "b3JkZXItc3Zj.1_cG9kLTE=");
  EXPECT_THAT((*instances)[0].properties,
              ::testing::ElementsAre(::testing::Pair("language", "java"),
                                     ::testing::Pair("ipv4", "10.0.0.1"),
                                     ::testing::Pair("ipv4", "10.0.0.2")));
  EXPECT_EQ((*instances)[1].name, "pod-2");
}

TEST_F(RocksMetadataStoreTest, HeartbeatKeepsPropertiesAndRefreshesTime) {
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

TEST_F(RocksMetadataStoreTest, UnknownAndMalformedIdsAreAbsent) {
  auto missing = store_->GetInstance(model::InstanceId(model::ServiceId("x"), "y"));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto malformed = store_->GetInstance("not an id");
  ASSERT_TRUE(malformed.ok());
  EXPECT_FALSE(malformed->has_value());
  auto service = store_->GetService("nope");
  ASSERT_TRUE(service.ok());
  EXPECT_FALSE(service->has_value());
}

TEST_F(RocksMetadataStoreTest, SilentInstancesExpireWithMetricsTtl) {
  ASSERT_TRUE(store_->UpsertInstance("svc", Instance("svc", "i", "GENERAL", {}), true).ok());
  clock_.AdvanceMillis(7 * kDay);
  auto services = store_->ListServices();
  ASSERT_TRUE(services.ok());
  EXPECT_TRUE(services->empty());
  auto instances = store_->ListInstances(model::ServiceId("svc"));
  ASSERT_TRUE(instances.ok());
  EXPECT_TRUE(instances->empty());
}

TEST_F(RocksMetadataStoreTest, EndpointsAreFoundByKeyword) {
  const std::string service = model::ServiceId("svc");
  ASSERT_TRUE(store_->TouchEndpoints(service, {"GET:/orders", "POST:/orders", "GET:/users"}).ok());
  ASSERT_TRUE(store_->TouchEndpoints(model::ServiceId("other"), {"GET:/orders"}).ok());
  auto all = store_->FindEndpoints(service, "", 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "GET:/orders");
  EXPECT_EQ((*all)[0].id, model::EndpointId(service, "GET:/orders"));
  EXPECT_EQ((*all)[0].service_id, service);
  auto orders = store_->FindEndpoints(service, "orders", 1);
  ASSERT_TRUE(orders.ok());
  ASSERT_EQ(orders->size(), 1u);
  EXPECT_EQ((*orders)[0].name, "GET:/orders");
  auto one = store_->GetEndpoint(model::EndpointId(service, "GET:/users"));
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->name, "GET:/users");
  auto none = store_->GetEndpoint(model::EndpointId(service, "nope"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace stackhouse::storage
