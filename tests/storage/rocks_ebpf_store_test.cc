#include "storage/rocks_ebpf_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

constexpr int64_t kStart = 1700000000000;
constexpr int64_t kDay = 24LL * 3600 * 1000;
const int64_t kMaxFutureSkew = DatabaseOptions().max_future_skew_ms;

model::EbpfSample OnCpu(std::vector<std::string> user, int64_t count) {
  model::EbpfSample s;
  s.target_type = model::EbpfTargetType::kOnCpu;
  for (auto& name : user) s.stack.push_back({name, model::StackType::kUser});
  s.dump_count = count;
  return s;
}

class RocksEbpfStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions options;
    options.data_dir = dir_.path();
    options.record_ttl_ms = 3 * kDay;
    options.metrics_ttl_ms = 7 * kDay;
    auto db = Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    store_ = std::make_unique<RocksEbpfStore>(db_.get(), &clock_);
  }

  std::vector<StoredEbpfSample> Samples(const std::string& schedule, int64_t from, int64_t to) {
    std::vector<StoredEbpfSample> out;
    EXPECT_TRUE(
        store_
            ->ScanSamples(schedule, from, to, [&](const StoredEbpfSample& s) { out.push_back(s); })
            .ok());
    return out;
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kStart};
  std::unique_ptr<Database> db_;
  std::unique_ptr<RocksEbpfStore> store_;
};

TEST_F(RocksEbpfStoreTest, SampleBlocksRoundTripWithSharedStacks) {
  ASSERT_TRUE(
      store_->AddSamples("sched", kStart, {OnCpu({"main", "work"}, 3), OnCpu({"main"}, 5)}).ok());
  model::EbpfSample off;
  off.target_type = model::EbpfTargetType::kOffCpu;
  off.stack = {{"main", model::StackType::kUser}, {"schedule", model::StackType::kKernel}};
  off.switch_count = 7;
  off.duration_ns = 123456789;
  ASSERT_TRUE(store_->AddSamples("sched", kStart + 5000, {OnCpu({"main", "work"}, 2), off}).ok());
  ASSERT_TRUE(store_->AddSamples("other", kStart, {OnCpu({"x"}, 1)}).ok());

  auto all = Samples("sched", kStart, kStart + 10000);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].upload_time_ms, kStart);
  EXPECT_EQ(all[0].dump_count, 3);
  EXPECT_EQ(all[1].dump_count, 5);
  // The same stack in a later upload refers to the same dictionary entry (blocks of one upload
  // come in no particular order).
  auto later = std::find_if(all.begin() + 2, all.end(), [](const StoredEbpfSample& s) {
    return s.target_type == model::EbpfTargetType::kOnCpu;
  });
  ASSERT_NE(later, all.end());
  EXPECT_EQ(later->stack_id, all[0].stack_id);
  EXPECT_EQ(later->dump_count, 2);
  // The Off-CPU block of the second upload.
  auto off_sample = std::find_if(all.begin(), all.end(), [](const StoredEbpfSample& s) {
    return s.target_type == model::EbpfTargetType::kOffCpu;
  });
  ASSERT_NE(off_sample, all.end());
  EXPECT_EQ(off_sample->switch_count, 7);
  EXPECT_EQ(off_sample->duration_ns, 123456789);
  EXPECT_THAT(*store_->GetStack(off_sample->stack_id),
              ::testing::ElementsAre(model::EbpfSymbol{"main", model::StackType::kUser},
                                     model::EbpfSymbol{"schedule", model::StackType::kKernel}));
  // Time bounds are [from, to).
  EXPECT_EQ(Samples("sched", kStart, kStart + 5000).size(), 2u);
  EXPECT_EQ(Samples("sched", kStart + 1, kStart + 5001).size(), 2u);
  EXPECT_TRUE(Samples("sched", kStart + 5001, kStart + 4000).empty());
  EXPECT_EQ(Samples("other", 0, kStart + 1).size(), 1u);
  // Samples expire with the record TTL.
  clock_.SetMillis(kStart + 3 * kDay + 1);
  EXPECT_EQ(Samples("sched", kStart, kStart + 10000).size(), 2u);
}

// The receiver's path: stacks resolved by fingerprint first, then blocks of (stack id, values).
TEST_F(RocksEbpfStoreTest, ResolvedStacksAndSampleBlocks) {
  const std::vector<std::string> a = {"umain", "uwork", "kdo_syscall_64"};
  const std::vector<std::string> b = {"umain"};
  auto ids = store_->ResolveStacks(
      {PendingStack{StackHasher::Of(a), &a}, PendingStack{StackHasher::Of(b), &b}});
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_NE((*ids)[0], (*ids)[1]);
  // Resolving again (say, from another stream) gives the same ids.
  auto again = store_->ResolveStacks({PendingStack{StackHasher::Of(b), &b}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0], (*ids)[1]);

  std::vector<StoredEbpfSample> block(3);
  block[0] = {0, (*ids)[0], model::EbpfTargetType::kOnCpu, 4, 0, 0};
  block[1] = {0, (*ids)[1], model::EbpfTargetType::kOffCpu, 0, 2, 5000};
  block[2] = {0, (*ids)[0], model::EbpfTargetType::kOnCpu, 1, 0, 0};
  ASSERT_TRUE(store_->AddSampleBlock("sched", kStart, block).ok());

  auto all = Samples("sched", kStart, kStart + 1);
  ASSERT_EQ(all.size(), 3u);
  int64_t on_cpu = 0;
  for (const StoredEbpfSample& s : all) {
    EXPECT_EQ(s.upload_time_ms, kStart);
    if (s.target_type == model::EbpfTargetType::kOnCpu) {
      EXPECT_EQ(s.stack_id, (*ids)[0]);
      on_cpu += s.dump_count;
    } else {
      EXPECT_EQ(s.stack_id, (*ids)[1]);
      EXPECT_EQ(s.switch_count, 2);
      EXPECT_EQ(s.duration_ns, 5000);
    }
  }
  EXPECT_EQ(on_cpu, 5);
  EXPECT_THAT(
      *store_->GetStack((*ids)[0]),
      ::testing::ElementsAre(model::EbpfSymbol{"main", model::StackType::kUser},
                             model::EbpfSymbol{"work", model::StackType::kUser},
                             model::EbpfSymbol{"do_syscall_64", model::StackType::kKernel}));
}

TEST_F(RocksEbpfStoreTest, ABlockReferringToAnUnknownStackIsRefusedWhole) {
  const std::vector<std::string> a = {"umain"};
  auto ids = store_->ResolveStacks({PendingStack{StackHasher::Of(a), &a}});
  ASSERT_TRUE(ids.ok());
  std::vector<StoredEbpfSample> block(2);
  block[0] = {0, (*ids)[0], model::EbpfTargetType::kOnCpu, 1, 0, 0};
  block[1] = {0, (*ids)[0] ^ 0x5a5a, model::EbpfTargetType::kOnCpu, 1, 0, 0};
  absl::Status s = store_->AddSampleBlock("sched", kStart, block);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_TRUE(Samples("sched", kStart, kStart + 1).empty());
}

// A stream may keep a stack id for days: the block that uses it keeps the stack alive.
TEST_F(RocksEbpfStoreTest, StacksOutliveLaterBlocksThatUseAKeptId) {
  const std::vector<std::string> a = {"umain", "uloop"};
  auto ids = store_->ResolveStacks({PendingStack{StackHasher::Of(a), &a}});
  ASSERT_TRUE(ids.ok());
  // Two days later (past the dictionary's refresh period) a block uses the kept id.
  clock_.SetMillis(kStart + 2 * kDay);
  std::vector<StoredEbpfSample> block = {{0, (*ids)[0], model::EbpfTargetType::kOnCpu, 3, 0, 0}};
  ASSERT_TRUE(store_->AddSampleBlock("sched", kStart + 2 * kDay, block).ok());
  // The entry written at kStart alone would expire after record TTL + refresh (4 days); the
  // block lives until kStart + 5 days, and so must its stack.
  clock_.SetMillis(kStart + 5 * kDay - 1);
  ASSERT_EQ(Samples("sched", kStart, kStart + 3 * kDay).size(), 1u);
  auto stack = store_->GetStack((*ids)[0]);
  ASSERT_TRUE(stack.ok()) << stack.status();
  EXPECT_EQ(stack->size(), 2u);
}

// An agent whose clock runs ahead (as far as receivers accept, storage.maxFutureSkew) stamps its
// samples in the future; a stack resolved almost a refresh period before must live as long as
// they do.
TEST_F(RocksEbpfStoreTest, StacksOutliveSamplesStampedInTheFuture) {
  const std::vector<std::string> a = {"umain", "uahead"};
  auto ids = store_->ResolveStacks({PendingStack{StackHasher::Of(a), &a}});
  ASSERT_TRUE(ids.ok());
  clock_.AdvanceMillis(kDay - 60'000);
  const int64_t upload = clock_.NowMillis() + kMaxFutureSkew;
  std::vector<StoredEbpfSample> block = {{0, (*ids)[0], model::EbpfTargetType::kOnCpu, 1, 0, 0}};
  ASSERT_TRUE(store_->AddSampleBlock("sched", upload, block).ok());
  clock_.SetMillis(upload + 3 * kDay - 1);  // the samples' last moment (record TTL 3 days)
  ASSERT_EQ(Samples("sched", upload, upload + 1).size(), 1u);
  auto stack = store_->GetStack((*ids)[0]);
  EXPECT_TRUE(stack.ok()) << stack.status();
}

TEST_F(RocksEbpfStoreTest, ProcessesTasksAndSchedules) {
  model::Process p;
  p.id = "pid1";
  p.name = "java";
  p.service_id = "c3Zj.1";
  p.instance_id = "c3Zj.1_aQ==";
  p.detect_type = model::DetectType::kKubernetes;
  p.profiling_supported = true;
  p.properties = {{"pid", "42"}};
  p.labels = {"mesh-application"};
  p.first_seen_ms = kStart;
  p.last_ping_ms = kStart + 1000;
  ASSERT_TRUE(store_->PutProcesses({p}).ok());
  auto processes = store_->ListProcesses();
  ASSERT_TRUE(processes.ok());
  ASSERT_EQ(processes->size(), 1u);
  EXPECT_EQ((*processes)[0].detect_type, model::DetectType::kKubernetes);
  EXPECT_EQ((*processes)[0].last_ping_ms, kStart + 1000);
  EXPECT_THAT((*processes)[0].labels, ::testing::ElementsAre("mesh-application"));

  model::EbpfTask task;
  task.logical_id = "t1";
  task.service_id = "c3Zj.1";
  task.target_type = model::EbpfTargetType::kOffCpu;
  task.fixed_trigger_duration_s = 60;
  task.create_time_ms = kStart;
  ASSERT_TRUE(store_->PutTask(task).ok());
  task.create_time_ms = kStart + 1;
  task.fixed_trigger_duration_s = 600;
  ASSERT_TRUE(store_->PutTask(task).ok());
  auto tasks = store_->ListTasks();
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 2u);  // two records of one logical task
  EXPECT_EQ((*tasks)[1].fixed_trigger_duration_s, 600);
  EXPECT_EQ((*tasks)[1].target_type, model::EbpfTargetType::kOffCpu);

  model::EbpfSchedule schedule{"s1", "t1", "pid1", kStart, kStart + 5000};
  ASSERT_TRUE(store_->PutSchedule(schedule).ok());
  schedule.end_time_ms = kStart + 10000;
  ASSERT_TRUE(store_->PutSchedule(schedule).ok());
  auto schedules = store_->ListSchedules("t1");
  ASSERT_TRUE(schedules.ok());
  ASSERT_EQ(schedules->size(), 1u);
  EXPECT_EQ((*schedules)[0].end_time_ms, kStart + 10000);
  EXPECT_TRUE(store_->ListSchedules("t2")->empty());
}

}  // namespace
}  // namespace stackhouse::storage
