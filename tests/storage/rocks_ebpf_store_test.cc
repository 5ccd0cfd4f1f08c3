// RocksDB-only behaviour of the eBPF store (dictionary retention); roll-ups are in
// ebpf_rollup_test.cc, the contract every backend keeps in store_conformance_test.cc.
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

}  // namespace
}  // namespace stackhouse::storage
