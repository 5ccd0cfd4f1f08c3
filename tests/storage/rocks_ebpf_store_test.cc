// RocksDB-only behaviour of the eBPF store (dictionary retention, roll-ups); the contract every
// backend keeps is in store_conformance_test.cc.
#include "storage/rocks_ebpf_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

constexpr int64_t kStart = 1700000000000;
constexpr int64_t kDay = 24LL * 3600 * 1000;
const int64_t kMaxFutureSkew = DatabaseOptions().max_future_skew_ms;

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

  // Closes and opens the database again on the same directory (a restart).
  void Reopen() {
    store_.reset();
    db_.reset();
    SetUp();
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kStart};
  std::unique_ptr<Database> db_;
  std::unique_ptr<RocksEbpfStore> store_;
};

// What ScanAggregated hands out, in order.
struct Visit {
  bool rollup = false;
  int64_t time = 0;  // the block's upload time or the roll-up's minute
  std::vector<StoredEbpfSample> samples;
  std::vector<EbpfRollupStack> stacks;
};

class Recorder final : public EbpfSampleVisitor {
 public:
  bool Block(EbpfSampleBlock& block) override {
    Visit& v = visits.emplace_back();
    v.time = block.upload_time_ms();
    StoredEbpfSample s;
    while (block.Next(&s)) v.samples.push_back(s);
    return true;
  }
  bool Rollup(EbpfRollup& rollup) override {
    Visit& v = visits.emplace_back();
    v.rollup = true;
    v.time = rollup.minute_start_ms();
    EbpfRollupStack s;
    while (rollup.Next(&s)) v.stacks.push_back(s);
    return true;
  }
  std::vector<Visit> visits;
};

// A minute start after kStart, and the clock time at which RollUp takes that minute.
constexpr int64_t kMinute = kStart - kStart % kEbpfRollupMinuteMs + kEbpfRollupMinuteMs;
constexpr int64_t kClosed = kMinute + kEbpfRollupMinuteMs + EbpfStore::kRollupDelayMs;

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

class RocksEbpfRollupTest : public RocksEbpfStoreTest {
 protected:
  void SetUp() override {
    RocksEbpfStoreTest::SetUp();
    const std::vector<std::string> a = {"umain", "uwork"};
    const std::vector<std::string> b = {"umain", "uidle"};
    auto ids = store_->ResolveStacks(
        {PendingStack{StackHasher::Of(a), &a}, PendingStack{StackHasher::Of(b), &b}});
    ASSERT_TRUE(ids.ok());
    a_ = (*ids)[0];
    b_ = (*ids)[1];
  }

  // An upload of `n` On-CPU samples alternating b, a (b first), each counting `count`.
  void Upload(const std::string& schedule, int64_t time, int n, int64_t count = 1) {
    std::vector<StoredEbpfSample> block;
    for (int i = 0; i < n; ++i) {
      block.push_back({0, i % 2 == 0 ? b_ : a_, model::EbpfTargetType::kOnCpu, count, 0, 0});
    }
    ASSERT_TRUE(store_->AddSampleBlock(schedule, time, block).ok());
  }

  std::vector<Visit> Scan(const std::string& schedule, int64_t from, int64_t to) {
    Recorder recorder;
    absl::Status status = store_->ScanAggregated(schedule, from, to, recorder);
    EXPECT_TRUE(status.ok()) << status;
    return recorder.visits;
  }

  EbpfRollupStats RollUp() {
    auto stats = store_->RollUp(1000);
    EXPECT_TRUE(stats.ok()) << stats.status();
    return stats.ok() ? *stats : EbpfRollupStats{};
  }

  uint64_t a_ = 0, b_ = 0;
};

TEST_F(RocksEbpfRollupTest, AClosedMinuteIsReadFromItsRollup) {
  Upload("s", kMinute + 5000, 20, 2);
  Upload("s", kMinute + 1000, 20, 3);  // out of order: the earlier upload comes second
  Upload("s", kMinute + 59999, 20);
  Upload("s", kMinute + 60000, 20);  // the next minute
  clock_.SetMillis(kClosed - 1);
  EbpfRollupStats early = RollUp();
  EXPECT_EQ(early.rolled_up, 0);
  EXPECT_EQ(early.pending, 2);
  clock_.SetMillis(kClosed);
  EbpfRollupStats stats = RollUp();
  EXPECT_EQ(stats.rolled_up, 1);
  EXPECT_EQ(stats.pending, 1);

  std::vector<Visit> visits = Scan("s", kMinute, kMinute + 60000);
  ASSERT_EQ(visits.size(), 1u);
  EXPECT_TRUE(visits[0].rollup);
  EXPECT_EQ(visits[0].time, kMinute);
  // In order of first appearance: b then a, both first in the upload at +1 s.
  ASSERT_EQ(visits[0].stacks.size(), 2u);
  EXPECT_EQ(visits[0].stacks[0].stack_id, b_);
  EXPECT_EQ(visits[0].stacks[0].first_upload_time_ms, kMinute + 1000);
  EXPECT_EQ(visits[0].stacks[0].dump_count, 10 * 3 + 10 * 2 + 10);
  EXPECT_EQ(visits[0].stacks[1].stack_id, a_);
  EXPECT_EQ(visits[0].stacks[1].dump_count, 10 * 3 + 10 * 2 + 10);

  // Ragged edges are raw: [+1 s, +61 s) is the minute from +1 s, then the next one's start.
  visits = Scan("s", kMinute + 1000, kMinute + 61000);
  ASSERT_EQ(visits.size(), 4u);
  for (const Visit& v : visits) EXPECT_FALSE(v.rollup);
  // Two minutes, the first one whole: its roll-up, then the next minute raw.
  visits = Scan("s", kMinute - 60000, kMinute + 120000);
  ASSERT_EQ(visits.size(), 2u);
  EXPECT_TRUE(visits[0].rollup);
  EXPECT_FALSE(visits[1].rollup);
  EXPECT_EQ(visits[1].time, kMinute + 60000);
}

TEST_F(RocksEbpfRollupTest, ALateUploadReplacesTheRollupByRawReadsUntilRolledUpAgain) {
  Upload("s", kMinute + 1000, 20);
  clock_.SetMillis(kClosed);
  ASSERT_EQ(RollUp().rolled_up, 1);
  Upload("s", kMinute + 500, 20, 7);  // late, and earlier than everything in the minute
  std::vector<Visit> visits = Scan("s", kMinute, kMinute + 60000);
  ASSERT_EQ(visits.size(), 2u);
  EXPECT_FALSE(visits[0].rollup);
  EXPECT_EQ(visits[0].time, kMinute + 500);
  EbpfRollupStats stats = RollUp();
  EXPECT_EQ(stats.rolled_up, 1);
  EXPECT_EQ(stats.pending, 0);
  visits = Scan("s", kMinute, kMinute + 60000);
  ASSERT_EQ(visits.size(), 1u);
  ASSERT_EQ(visits[0].stacks.size(), 2u);
  EXPECT_EQ(visits[0].stacks[0].first_upload_time_ms, kMinute + 500);
  EXPECT_EQ(visits[0].stacks[0].dump_count, 10 * 7 + 10);
}

// An add into a minute while RollUp reads it: the roll-up read before the add is not written.
TEST_F(RocksEbpfRollupTest, AnAddWhileTheMinuteIsRolledUpKeepsItPending) {
  Upload("s", kMinute + 1000, 20);
  clock_.SetMillis(kClosed);
  bool added = false;
  store_->SetRollupHookForTest([&] {
    if (added) return;
    added = true;
    Upload("s", kMinute + 2000, 20, 5);
  });
  EbpfRollupStats stats = RollUp();
  EXPECT_EQ(stats.rolled_up, 0);
  EXPECT_EQ(stats.retried, 1);
  EXPECT_EQ(stats.pending, 1);
  std::vector<Visit> visits = Scan("s", kMinute, kMinute + 60000);
  ASSERT_EQ(visits.size(), 2u);  // raw, both uploads
  EXPECT_FALSE(visits[0].rollup);
  stats = RollUp();
  EXPECT_EQ(stats.rolled_up, 1);
  visits = Scan("s", kMinute, kMinute + 60000);
  ASSERT_EQ(visits.size(), 1u);
  ASSERT_TRUE(visits[0].rollup);
  EXPECT_EQ(visits[0].stacks[0].dump_count, 10 + 10 * 5);
}

TEST_F(RocksEbpfRollupTest, PendingMinutesAndRollupsSurviveARestart) {
  Upload("s", kMinute + 1000, 20);
  Upload("t", kMinute + 61000, 20);
  clock_.SetMillis(kClosed);
  ASSERT_EQ(RollUp().rolled_up, 1);
  Upload("s", kMinute + 3000, 20);  // late: the roll-up of s goes
  Reopen();
  std::vector<Visit> visits = Scan("s", kMinute, kMinute + 60000);
  ASSERT_EQ(visits.size(), 2u);
  EXPECT_FALSE(visits[0].rollup);
  clock_.SetMillis(kClosed + 60000);
  EbpfRollupStats stats = RollUp();  // the new process knows both pending minutes
  EXPECT_EQ(stats.rolled_up, 2);
  EXPECT_EQ(stats.pending, 0);
  Reopen();
  visits = Scan("s", kMinute, kMinute + 60000);
  ASSERT_EQ(visits.size(), 1u);
  EXPECT_TRUE(visits[0].rollup);
  EXPECT_EQ(visits[0].stacks[0].dump_count, 20);
  EXPECT_EQ(RollUp().rolled_up, 0);
}

// A roll-up is stamped with its minute's start: it expires with the minute's first samples, and
// the rest of the minute is read raw until it expires too.
TEST_F(RocksEbpfRollupTest, RollupsExpireWithTheFirstSamplesOfTheirMinute) {
  Upload("s", kMinute, 20);
  Upload("s", kMinute + 30000, 20);
  clock_.SetMillis(kClosed);
  ASSERT_EQ(RollUp().rolled_up, 1);
  clock_.SetMillis(kMinute + 3 * kDay);  // record TTL 3 days: the first upload has gone
  std::vector<Visit> visits = Scan("s", kMinute, kMinute + 60000);
  ASSERT_EQ(visits.size(), 1u);
  EXPECT_FALSE(visits[0].rollup);
  EXPECT_EQ(visits[0].time, kMinute + 30000);
  // An expired minute that is still pending gets no roll-up.
  Upload("t", kMinute + 1000, 20);
  EbpfRollupStats stats = RollUp();
  EXPECT_EQ(stats.left_raw, 1);
  EXPECT_EQ(stats.rolled_up, 0);
}

TEST_F(RocksEbpfRollupTest, AMinuteWithFewSamplesPerStackStaysRaw) {
  Upload("s", kMinute, 2 * EbpfStore::kMinSamplesPerRollupStack - 1);
  clock_.SetMillis(kClosed);
  EbpfRollupStats stats = RollUp();
  EXPECT_EQ(stats.left_raw, 1);
  EXPECT_EQ(stats.pending, 0);
  std::vector<Visit> visits = Scan("s", kMinute, kMinute + 60000);
  ASSERT_EQ(visits.size(), 1u);
  EXPECT_FALSE(visits[0].rollup);
}

TEST_F(RocksEbpfRollupTest, OffCpuRollupsKeepSwitchesAndDurations) {
  std::vector<StoredEbpfSample> block;
  for (int i = 0; i < 16; ++i) {
    block.push_back({0, a_, model::EbpfTargetType::kOffCpu, 0, 2, int64_t{1} << 60});
  }
  ASSERT_TRUE(store_->AddSampleBlock("s", kMinute + 10, block).ok());
  clock_.SetMillis(kClosed);
  ASSERT_EQ(RollUp().rolled_up, 1);
  std::vector<Visit> visits = Scan("s", kMinute, kMinute + 60000);
  ASSERT_EQ(visits.size(), 1u);
  ASSERT_EQ(visits[0].stacks.size(), 1u);
  EXPECT_EQ(visits[0].stacks[0].switch_count, 32);
  // Beyond 64 bits: sums are exact.
  EXPECT_EQ(visits[0].stacks[0].duration_ns, absl::int128(16) << 60);
  EXPECT_EQ(visits[0].stacks[0].dump_count, 0);
}

}  // namespace
}  // namespace stackhouse::storage
