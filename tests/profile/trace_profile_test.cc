// LoadTraceProfile's choice between Java thread dumps and Go agents' profiles (spec §4.5 step
// 10, §4.6), over real stores.
#include "profile/trace_profile.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fakes/failing_stores.h"
#include "fakes/fault_injector.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "perftools/profile.pb.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"
#include "storage/rocks_profile_store.h"
#include "storage/test_dir.h"

namespace stackhouse::profile {
namespace {

constexpr int64_t kStart = 1700000000000;

// A Go profile with one sample of `count` on main.main → main.work for each segment.
std::string GoProfile(const std::vector<std::string>& segments, int64_t count) {
  perftools::profiles::Profile p;
  for (const char* s : {"", "main.main", "main.work", "traceSegmentID", "nanoseconds"}) {
    p.add_string_table(s);
  }
  p.mutable_period_type()->set_unit(4);
  p.set_period(10'000'000);
  for (uint64_t id = 1; id <= 2; ++id) {
    auto* f = p.add_function();
    f->set_id(id);
    f->set_name(static_cast<int64_t>(id));
    auto* l = p.add_location();
    l->set_id(id);
    l->add_line()->set_function_id(id);
  }
  for (const std::string& segment : segments) {
    p.add_string_table(segment);
    auto* s = p.add_sample();
    s->add_location_id(2);
    s->add_location_id(1);
    s->add_value(count);
    auto* label = s->add_label();
    label->set_key(3);
    label->set_str(p.string_table_size() - 1);
  }
  return p.SerializeAsString();
}

class ProfileAnalysisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DatabaseOptions options;
    options.data_dir = dir_.path();
    auto db = storage::Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    store_ = std::make_unique<storage::RocksProfileStore>(db_.get(), &clock_);
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kStart};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksProfileStore> store_;
};

TEST_F(ProfileAnalysisTest, GoProfilesAreTheFallbackWhenNoJavaTreeIsBuilt) {
  // seg-mixed has Java dumps and a Go profile; seg-go only the Go profile (shared by both).
  ASSERT_TRUE(store_
                  ->AddSnapshots({{"t", "seg-mixed", kStart, 0, {"Thread.run", "A.b"}},
                                  {"t", "seg-mixed", kStart + 10, 1, {"Thread.run", "A.b"}}})
                  .ok());
  ASSERT_TRUE(store_
                  ->AddGoProfile(
                      {"t", kStart, {"seg-mixed", "seg-go"}, GoProfile({"seg-mixed", "seg-go"}, 3)})
                  .ok());

  auto java = LoadTraceProfile(*store_, {{"seg-mixed", kStart, kStart + 100}}, 12000);
  ASSERT_TRUE(java.ok()) << java.status();
  EXPECT_FALSE(java->go);
  ASSERT_EQ(java->analysis.trees.size(), 1u);
  EXPECT_EQ(java->frames->Signature(java->analysis.trees[0].elements[0].frame_id), "Thread.run");

  // Outside the dumps' window no Java tree is built: the Go profile answers.
  auto fallback = LoadTraceProfile(*store_, {{"seg-mixed", 0, 1}}, 12000);
  ASSERT_TRUE(fallback.ok()) << fallback.status();
  EXPECT_TRUE(fallback->go);
  EXPECT_FALSE(fallback->analysis.tip.has_value());
  ASSERT_EQ(fallback->analysis.trees.size(), 1u);

  // Both segments of one stored profile: one tree each, leaf first, 3 × 10 ms.
  auto go = LoadTraceProfile(*store_, {{"seg-go", 0, 1}, {"seg-mixed", 0, 1}}, 12000);
  ASSERT_TRUE(go.ok()) << go.status();
  ASSERT_EQ(go->analysis.trees.size(), 2u);
  for (const auto& tree : go->analysis.trees) {
    ASSERT_EQ(tree.elements.size(), 2u);
    EXPECT_EQ(go->frames->Signature(tree.elements[0].frame_id), "main.work:0");
    EXPECT_EQ(tree.elements[0].parent_id, -1);
    EXPECT_EQ(tree.elements[0].duration, 30);
    EXPECT_EQ(tree.elements[0].count, 3);
  }
  ASSERT_EQ(go->go_profiles.size(), 2u);

  // The OAP fails on a Go segment queried twice.
  auto twice = LoadTraceProfile(*store_, {{"seg-go", 0, 1}, {"seg-go", 2, 3}}, 12000);
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInvalidArgument);

  // Neither Java dumps nor Go profiles: no trees, no error.
  auto none = LoadTraceProfile(*store_, {{"seg-none", 0, 1}}, 12000);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->go);
  EXPECT_TRUE(none->analysis.trees.empty());
}

// The analysis reads its stacks in batches, each frame once (SnapshotStore::ReadStacks), from both
// formats of the dictionary: its answer, frame ids and frame table included, is that of reading
// the stacks one by one (the decorator's default ReadStacks, over GetStack).
TEST_F(ProfileAnalysisTest, BatchedStackReadsAnswerAsReadingOneByOne) {
  std::vector<model::ThreadSnapshot> snapshots;
  for (int i = 0; i < 30; ++i) {
    snapshots.push_back({"t",
                         "seg",
                         kStart + 10 * i,
                         i,
                         {"Thread.run", absl::StrCat("A.b", i % 3), absl::StrCat("C.d", i % 4),
                          absl::StrCat("Leaf.x", i % 11)}});
  }
  ASSERT_TRUE(store_->AddSnapshots(snapshots).ok());
  std::vector<storage::StoredDump> dumps;
  ASSERT_TRUE(
      store_->ScanDumps("seg", [&](const storage::StoredDump& d) { dumps.push_back(d); }).ok());
  ASSERT_EQ(dumps.size(), 30u);
  // One stack as an earlier version stored it (the frames' texts).
  records::StackRecord pb;
  for (const std::string& frame : snapshots[5].frames) pb.add_frames(frame);
  std::string key(1, 'k');
  storage::AppendUint64(&key, dumps[5].stack_id);
  ASSERT_TRUE(db_->Put(storage::Family::kProfileStack, key, kStart, pb.SerializeAsString()).ok());

  fakes::FaultInjector faults;
  fakes::FailingSnapshotStore one_by_one_store(store_.get(), &faults);
  auto batched = LoadTraceProfile(*store_, {{"seg", kStart, kStart + 1000}}, 12000);
  auto one_by_one = LoadTraceProfile(one_by_one_store, {{"seg", kStart, kStart + 1000}}, 12000);
  ASSERT_TRUE(batched.ok()) << batched.status();
  ASSERT_TRUE(one_by_one.ok()) << one_by_one.status();
  EXPECT_GT(faults.calls("GetStack"), 0);
  ASSERT_EQ(batched->analysis.trees.size(), 1u);
  EXPECT_EQ(batched->analysis.trees[0].elements, one_by_one->analysis.trees[0].elements);
  ASSERT_EQ(batched->frames->size(), one_by_one->frames->size());
  for (uint32_t i = 0; i < batched->frames->size(); ++i) {
    EXPECT_EQ(batched->frames->Signature(i), one_by_one->frames->Signature(i));
  }
  EXPECT_EQ(batched->analysis.trees[0].elements[0].count, 30);
}

}  // namespace
}  // namespace stackhouse::profile
