#include "service/ui_template_service.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/default_ui_templates.h"
#include "storage/rocks_ui_template_store.h"
#include "storage/test_dir.h"

namespace stackhouse::service {
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
    service_ = std::make_unique<UiTemplateService>(store_.get(), &clock_, defaults_);
  }
  // Restarts with the server's default dashboards.
  void OpenWithDefaults() {
    auto defaults = DefaultUiTemplates();
    ASSERT_TRUE(defaults.ok()) << defaults.status();
    defaults_ = std::move(*defaults);
    Open();
  }
  std::vector<std::string> ListedIds() {
    std::vector<std::string> ids;
    auto all = service_->List();
    EXPECT_TRUE(all.ok()) << all.status();
    if (all.ok()) {
      for (const storage::UiTemplate& t : *all) ids.push_back(t.id);
    }
    return ids;
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kNow};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksUiTemplateStore> store_;
  std::unique_ptr<UiTemplateService> service_;
  std::vector<storage::UiTemplate> defaults_;
};

constexpr char kMeshRoot[] = "stackhouse-mesh-root";

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
  UiTemplateService capped(store_.get(), &clock_, {}, 2);
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

TEST_F(UiTemplateServiceTest, AFreshStoreListsTheDefaults) {
  OpenWithDefaults();
  ASSERT_GE(defaults_.size(), 20u);
  std::vector<std::string> default_ids;
  for (const storage::UiTemplate& t : defaults_) default_ids.push_back(t.id);
  EXPECT_EQ(ListedIds(), default_ids);
  EXPECT_THAT(default_ids, ::testing::Contains(kMeshRoot));
  auto root = service_->Get(kMeshRoot);
  ASSERT_TRUE(root.ok() && root->has_value());
  EXPECT_THAT((*root)->configuration, ::testing::HasSubstr(R"("name":"Mesh-Root")"));
  // Nothing is stored until an operator changes something; ids are the same after a restart.
  EXPECT_TRUE(store_->ListTemplates()->empty());
  OpenWithDefaults();
  EXPECT_EQ(ListedIds(), default_ids);
}

TEST_F(UiTemplateServiceTest, AnOperatorTemplateWithTheSameKeyReplacesADefault) {
  OpenWithDefaults();
  const size_t defaults = defaults_.size();
  const std::string mine = R"({"layer":"MESH","entity":"All","name":"Mesh-Root","isRoot":true})";
  auto added = service_->Add(mine);
  ASSERT_TRUE(added.ok() && added->status);
  // Same name in another layer or entity replaces nothing.
  ASSERT_TRUE(service_->Add(R"({"layer":"MESH","entity":"Service","name":"Mesh-Root"})")->status);
  ASSERT_TRUE(service_->Add(R"({"layer":"GENERAL","entity":"All","name":"Mesh-Root"})")->status);
  ASSERT_TRUE(service_->Add("not json")->status);

  std::vector<std::string> ids = ListedIds();
  EXPECT_EQ(ids.size(), defaults - 1 + 4);
  EXPECT_THAT(ids, ::testing::Not(::testing::Contains(kMeshRoot)));
  EXPECT_THAT(ids, ::testing::Contains(added->id));
  EXPECT_EQ((*service_->Get(added->id))->configuration, mine);
  // The replaced default is invisible: it cannot be read, changed or disabled.
  EXPECT_FALSE(service_->Get(kMeshRoot)->has_value());
  EXPECT_FALSE(service_->Change(kMeshRoot, "{}")->status);
  EXPECT_FALSE(service_->Disable(kMeshRoot)->status);

  // A disabled operator template replaces nothing: the default is back.
  ASSERT_TRUE(service_->Disable(added->id)->status);
  EXPECT_THAT(ListedIds(), ::testing::Contains(kMeshRoot));
  EXPECT_TRUE(service_->Get(kMeshRoot)->has_value());
}

TEST_F(UiTemplateServiceTest, ADefaultCanBeChangedAndDisabledByItsId) {
  OpenWithDefaults();
  const size_t defaults = defaults_.size();
  const std::string edited = R"({"layer":"MESH","entity":"All","name":"Mesh-Root","x":1})";
  auto changed = service_->Change(kMeshRoot, edited);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(changed->status);
  EXPECT_EQ(changed->id, kMeshRoot);
  auto stored = store_->GetTemplate(kMeshRoot);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->configuration, edited);
  EXPECT_EQ((*stored)->update_time_ms, kNow);

  // The operator's version survives a restart, listed once under the default's id.
  OpenWithDefaults();
  EXPECT_EQ(ListedIds().size(), defaults);
  EXPECT_EQ((*service_->Get(kMeshRoot))->configuration, edited);

  // Disabled, a default stays hidden across restarts and cannot be changed again.
  const std::string general_root = "stackhouse-general-root";
  ASSERT_TRUE(service_->Disable(kMeshRoot)->status);
  ASSERT_TRUE(service_->Disable(general_root)->status);
  OpenWithDefaults();
  std::vector<std::string> ids = ListedIds();
  EXPECT_EQ(ids.size(), defaults - 2);
  EXPECT_THAT(ids, ::testing::Not(::testing::Contains(kMeshRoot)));
  EXPECT_THAT(ids, ::testing::Not(::testing::Contains(general_root)));
  EXPECT_FALSE(service_->Get(general_root)->has_value());
  EXPECT_EQ(service_->Change(general_root, "{}")->message, "Can't find the template");
  EXPECT_FALSE(service_->Disable(general_root)->status);
}

TEST_F(UiTemplateServiceTest, DefaultsDoNotCountAgainstTheCap) {
  auto defaults = DefaultUiTemplates();
  ASSERT_TRUE(defaults.ok());
  UiTemplateService capped(store_.get(), &clock_, *defaults, 1);
  EXPECT_TRUE(capped.Add("{}")->status);
  EXPECT_FALSE(capped.Add("{}")->status);
  EXPECT_EQ(capped.List()->size(), defaults->size() + 1);
}

}  // namespace
}  // namespace stackhouse::service
