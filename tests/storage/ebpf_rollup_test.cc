// eBPF roll-ups, the same contract on every backend that has them (RocksDB, and PostgreSQL,
// where several nodes share them): a closed minute read from its roll-up, late uploads,
// uploads racing a roll-up, restarts, expiry, minutes left raw, Off-CPU sums.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/pg/pg_ebpf_store.h"
#include "storage/pg/pg_partitions.h"
#include "storage/pg/pg_schema.h"
#include "storage/pg/test_cluster.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

constexpr int64_t kStart = 1700000000000;
constexpr int64_t kDay = 24LL * 3600 * 1000;

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

class EbpfRollupTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      auto conninfo = pg::testing::ClusterEnvironment::NewDatabase();
      ASSERT_TRUE(conninfo.ok()) << conninfo.status();
      pg::PoolOptions options;
      options.conninfo = *conninfo;
      options.size = 2;
      auto pool = pg::Pool::Create(options);
      ASSERT_TRUE(pool.ok()) << pool.status();
      pool_ = std::move(*pool);
      ASSERT_TRUE(pg::MigrateSchema(*pool_).ok());
    }
    Open();
    const std::vector<std::string> a = {"umain", "uwork"};
    const std::vector<std::string> b = {"umain", "uidle"};
    auto ids = store_->ResolveStacks(
        {PendingStack{StackHasher::Of(a), &a}, PendingStack{StackHasher::Of(b), &b}});
    ASSERT_TRUE(ids.ok()) << ids.status();
    a_ = (*ids)[0];
    b_ = (*ids)[1];
  }

  // The store over the database (RocksDB: opened on the directory; PostgreSQL: a new store,
  // as a restarted node has, over the same database).
  void Open() {
    if (GetParam() == "postgresql") {
      pg::StoreOptions options;
      options.record_ttl_ms = 3 * kDay;
      options.metrics_ttl_ms = 7 * kDay;
      auto store = std::make_unique<pg::PgEbpfStore>(pool_.get(), &clock_, options);
      set_hook_ = [s = store.get()](std::function<void()> hook) {
        s->SetRollupHookForTest(std::move(hook));
      };
      store_ = std::move(store);
      return;
    }
    DatabaseOptions options;
    options.data_dir = dir_.path();
    options.record_ttl_ms = 3 * kDay;
    options.metrics_ttl_ms = 7 * kDay;
    auto db = Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    auto store = std::make_unique<RocksEbpfStore>(db_.get(), &clock_);
    set_hook_ = [s = store.get()](std::function<void()> hook) {
      s->SetRollupHookForTest(std::move(hook));
    };
    store_ = std::move(store);
  }

  // A restart.
  void Reopen() {
    store_.reset();
    db_.reset();
    Open();
  }

  void SetRollupHook(std::function<void()> hook) { set_hook_(std::move(hook)); }

  // An upload of `n` On-CPU samples alternating b, a (b first), each counting `count`.
  void Upload(const std::string& schedule, int64_t time, int n, int64_t count = 1) {
    std::vector<StoredEbpfSample> block;
    for (int i = 0; i < n; ++i) {
      block.push_back({0, i % 2 == 0 ? b_ : a_, model::EbpfTargetType::kOnCpu, count, 0, 0});
    }
    absl::Status added = store_->AddSampleBlock(schedule, time, block);
    ASSERT_TRUE(added.ok()) << added;
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

  testing::TestDir dir_;
  SimulatedClock clock_{kStart};
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<EbpfStore> store_;
  std::function<void(std::function<void()>)> set_hook_;
  uint64_t a_ = 0, b_ = 0;
};

TEST_P(EbpfRollupTest, AClosedMinuteIsReadFromItsRollup) {
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

TEST_P(EbpfRollupTest, ALateUploadReplacesTheRollupByRawReadsUntilRolledUpAgain) {
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
TEST_P(EbpfRollupTest, AnAddWhileTheMinuteIsRolledUpKeepsItPending) {
  Upload("s", kMinute + 1000, 20);
  clock_.SetMillis(kClosed);
  bool added = false;
  SetRollupHook([&] {
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

TEST_P(EbpfRollupTest, PendingMinutesAndRollupsSurviveARestart) {
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
TEST_P(EbpfRollupTest, RollupsExpireWithTheFirstSamplesOfTheirMinute) {
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

TEST_P(EbpfRollupTest, AMinuteWithFewSamplesPerStackStaysRaw) {
  Upload("s", kMinute, 2 * EbpfStore::kMinSamplesPerRollupStack - 1);
  clock_.SetMillis(kClosed);
  EbpfRollupStats stats = RollUp();
  EXPECT_EQ(stats.left_raw, 1);
  EXPECT_EQ(stats.pending, 0);
  std::vector<Visit> visits = Scan("s", kMinute, kMinute + 60000);
  ASSERT_EQ(visits.size(), 1u);
  EXPECT_FALSE(visits[0].rollup);
}

TEST_P(EbpfRollupTest, OffCpuRollupsKeepSwitchesAndDurations) {
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

// What only PostgreSQL's roll-ups do: several nodes share them.
class PgEbpfRollupTest : public EbpfRollupTest {};

// The nodes share the roll-ups and the pending minutes; two rolling up at once
// write each minute once, and any node reads it.
TEST_P(PgEbpfRollupTest, NodesShareRollupsAndWriteEachOnce) {
  Upload("s", kMinute + 1000, 20);
  clock_.SetMillis(kClosed);
  pg::StoreOptions options;
  options.record_ttl_ms = 3 * kDay;
  pg::PgEbpfStore other(pool_.get(), &clock_, options);
  // The other node rolls the minute up between this node's read and its commit.
  SetRollupHook([&] {
    auto stats = other.RollUp(1000);
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->rolled_up, 1);
  });
  EbpfRollupStats stats = RollUp();
  EXPECT_EQ(stats.rolled_up, 0);
  EXPECT_EQ(stats.retried, 1);
  EXPECT_EQ(stats.pending, 0);
  Recorder recorder;
  ASSERT_TRUE(other.ScanAggregated("s", kMinute, kMinute + 60000, recorder).ok());
  ASSERT_EQ(recorder.visits.size(), 1u);
  EXPECT_TRUE(recorder.visits[0].rollup);
  // An upload through this node makes the other node's roll-up unusable at once.
  Upload("s", kMinute + 2000, 20);
  Recorder after;
  ASSERT_TRUE(other.ScanAggregated("s", kMinute, kMinute + 60000, after).ok());
  ASSERT_EQ(after.visits.size(), 2u);
  EXPECT_FALSE(after.visits[0].rollup);
}

// A roll-up an upload raced past (its statement began before the roll-up was
// committed, so it did not delete it) is not read while the minute is pending.
TEST_P(PgEbpfRollupTest, ARollupWhoseMinuteIsPendingIsNotRead) {
  Upload("s", kMinute + 1000, 20);
  clock_.SetMillis(kClosed);
  ASSERT_EQ(RollUp().rolled_up, 1);
  // What that upload leaves: its block and the minute pending, the roll-up still there.
  auto marked =
      pool_->Exec("INSERT INTO sh_ebpf_pending VALUES ($1, 's', nextval('sh_ebpf_generation'))",
                  pg::Params().Int64(kMinute));
  ASSERT_TRUE(marked.ok()) << marked.status();
  std::vector<Visit> visits = Scan("s", kMinute, kMinute + 60000);
  ASSERT_EQ(visits.size(), 1u);
  EXPECT_FALSE(visits[0].rollup);
}

INSTANTIATE_TEST_SUITE_P(Backends, EbpfRollupTest, ::testing::Values("rocksdb", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& backend) {
                           return backend.param == "rocksdb" ? std::string("RocksDB")
                                                             : std::string("PostgreSQL");
                         });
INSTANTIATE_TEST_SUITE_P(Backends, PgEbpfRollupTest, ::testing::Values("postgresql"),
                         [](const ::testing::TestParamInfo<std::string>&) {
                           return std::string("PostgreSQL");
                         });

}  // namespace
}  // namespace stackhouse::storage
