#include "task/ui_template_service.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/rocks_ui_template_store.h"
#include "storage/test_dir.h"

namespace stackhouse::task {
namespace {

constexpr int64_t kNow = 1700000000000;

class UiTemplateServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    service_.reset();
    store_.reset();
    db_.reset();
    storage::DatabaseOptions options;
    options.data_dir = dir_.path();
    options.record_ttl_ms = 1;  // templates must not care
    options.metrics_ttl_ms = 1;
    auto db = storage::Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    store_ = std::make_unique<storage::RocksUiTemplateStore>(db_.get());
    service_ = std::make_unique<UiTemplateService>(store_.get(), &clock_);
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kNow};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksUiTemplateStore> store_;
  std::unique_ptr<UiTemplateService> service_;
};

TEST_F(UiTemplateServiceTest, AddChangeDisableAndSurviveARestart) {
  auto a = service_->Add(R"({"name":"a"})");
  auto b = service_->Add(R"({"name":"b"})");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->status);
  EXPECT_FALSE(a->message.has_value());
  EXPECT_NE(a->id, b->id);
  EXPECT_EQ(a->id.size(), 36u);  // a UUID

  auto changed = service_->Change(a->id, R"({"name":"a2"})");
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(changed->status);
  EXPECT_EQ((*service_->Get(a->id))->configuration, R"({"name":"a2"})");

  auto disabled = service_->Disable(b->id);
  ASSERT_TRUE(disabled.ok());
  EXPECT_TRUE(disabled->status);
  EXPECT_FALSE(service_->Get(b->id)->has_value());
  // A disabled template can be neither changed nor disabled again.
  EXPECT_EQ(service_->Change(b->id, "{}")->message, "Can't find the template");
  EXPECT_FALSE(service_->Disable(b->id)->status);

  // Templates never expire, and survive a restart.
  clock_.SetMillis(kNow + 400LL * 24 * 3600 * 1000);
  Open();
  auto all = service_->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, a->id);
  EXPECT_EQ((*all)[0].configuration, R"({"name":"a2"})");
  auto stored = store_->ListTemplates();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), 2u);  // the disabled one is kept
}

TEST_F(UiTemplateServiceTest, UnknownIdsAndHugeConfigurationsAreRefused) {
  auto unknown = service_->Change("nope", "{}");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->status);
  EXPECT_EQ(unknown->id, "nope");
  EXPECT_EQ(unknown->message, "Can't find the template");
  EXPECT_FALSE(service_->Disable("nope")->status);
  EXPECT_FALSE(service_->Get("nope")->has_value());

  const std::string huge(UiTemplateService::kMaxConfigurationBytes + 1, 'x');
  auto refused = service_->Add(huge);
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->status);
  EXPECT_THAT(*refused->message, ::testing::HasSubstr("larger than"));
  EXPECT_TRUE(service_->List()->empty());
  auto a = service_->Add("{}");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(service_->Change(a->id, huge)->status);
  EXPECT_EQ((*service_->Get(a->id))->configuration, "{}");
}

TEST_F(UiTemplateServiceTest, TheNumberOfEnabledTemplatesIsCapped) {
  UiTemplateService capped(store_.get(), &clock_, 2);
  auto a = capped.Add("{}");
  ASSERT_TRUE(a.ok() && a->status);
  ASSERT_TRUE(capped.Add("{}")->status);
  auto refused = capped.Add("{}");
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->status);
  EXPECT_THAT(*refused->message, ::testing::HasSubstr("already 2 templates"));
  ASSERT_TRUE(capped.Disable(a->id)->status);  // disabling makes room
  EXPECT_TRUE(capped.Add("{}")->status);
  EXPECT_EQ(capped.List()->size(), 2u);
}

}  // namespace
}  // namespace stackhouse::task
