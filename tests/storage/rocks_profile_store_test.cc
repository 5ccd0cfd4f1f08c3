#include "storage/rocks_profile_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"
#include "storage/stack_fingerprint.h"
#include "storage/store_test_data.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

using ::testing::ElementsAre;

using testing::Dump;
using testing::kStart;
constexpr int64_t kDay = 24LL * 3600 * 1000;
const int64_t kMaxFutureSkew = DatabaseOptions().max_future_skew_ms;

class RocksProfileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions options;
    options.data_dir = dir_.path();
    options.record_ttl_ms = 3 * kDay;
    auto db = Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    store_ = std::make_unique<RocksProfileStore>(db_.get(), &clock_);
  }

  std::vector<StoredDump> Dumps(const std::string& segment) {
    std::vector<StoredDump> dumps;
    EXPECT_TRUE(store_->ScanDumps(segment, [&](const StoredDump& d) { dumps.push_back(d); }).ok());
    return dumps;
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kStart};
  std::unique_ptr<Database> db_;
  std::unique_ptr<RocksProfileStore> store_;
};

// Logs expire recordDataTTL after their task's end (the contract of tasks and logs is in
// store_conformance_test.cc).
TEST_F(RocksProfileStoreTest, LogsExpireWithTheRecordTtlFromTheTaskEnd) {
  model::ProfileTaskLog log;
  log.task_id = "1_c3Zj.1";
  log.instance_id = "inst";
  log.operation_time_ms = kStart;
  const int64_t task_end = kStart + 5 * 60000;
  ASSERT_TRUE(store_->AddLog(log, task_end).ok());
  clock_.SetMillis(task_end + 3 * kDay - 1);
  EXPECT_EQ(store_->ListLogs(log.task_id)->size(), 1u);
  clock_.SetMillis(task_end + 3 * kDay);
  EXPECT_TRUE(store_->ListLogs(log.task_id)->empty());
}

TEST_F(RocksProfileStoreTest, DumpsReferenceOneStoredCopyOfEachStack) {
  std::vector<std::string> deep;
  for (int i = 0; i < 60; ++i)
    deep.push_back("com.example.Frame.method" + std::to_string(i) + ":1");
  std::vector<model::ThreadSnapshot> batch;
  for (int seq = 0; seq < 100; ++seq) {
    batch.push_back(Dump("t", "seg-1", seq, kStart + seq * 10,
                         seq % 2 ? deep : std::vector<std::string>{"A", "B"}));
  }
  ASSERT_TRUE(store_->AddSnapshots(batch).ok());
  auto dumps = Dumps("seg-1");
  ASSERT_EQ(dumps.size(), 100u);
  for (int seq = 0; seq < 100; ++seq) {
    EXPECT_EQ(dumps[seq].sequence, seq);
    EXPECT_EQ(dumps[seq].dump_time_ms, kStart + seq * 10);
    EXPECT_EQ(dumps[seq].stack_id, dumps[seq % 2].stack_id);
  }
  EXPECT_NE(dumps[0].stack_id, dumps[1].stack_id);
  EXPECT_THAT(*store_->GetStack(dumps[0].stack_id), ElementsAre("A", "B"));
  EXPECT_EQ(*store_->GetStack(dumps[1].stack_id), deep);
  EXPECT_EQ(store_->GetStack(12345).status().code(), absl::StatusCode::kNotFound);

  // A second store (as after a restart) resolves the same stack to the same id.
  RocksProfileStore again(db_.get(), &clock_);
  ASSERT_TRUE(again.AddSnapshots({Dump("t", "seg-2", 0, kStart, deep)}).ok());
  EXPECT_EQ(Dumps("seg-2")[0].stack_id, dumps[1].stack_id);
}

TEST_F(RocksProfileStoreTest, ACollidingDictionarySlotIsProbedPast) {
  const std::vector<std::string> frames = {"X.y:1", "X.z:2"};
  const uint64_t slot = StackHasher::Of(frames).slot;
  // Somebody else's stack already sits in this stack's slot.
  records::StackRecord other;
  other.add_frames("Other.frame:9");
  std::string key(1, 'k');
  AppendUint64(&key, slot);
  ASSERT_TRUE(db_->Put(Family::kProfileStack, key, kStart, other.SerializeAsString()).ok());

  ASSERT_TRUE(store_->AddSnapshots({Dump("t", "s", 0, kStart, frames)}).ok());
  uint64_t id = Dumps("s")[0].stack_id;
  EXPECT_EQ(id, slot + 1);
  EXPECT_EQ(*store_->GetStack(id), frames);
  EXPECT_THAT(*store_->GetStack(slot), ElementsAre("Other.frame:9"));
}

// An agent whose clock runs ahead: its dumps' stacks live as long as the dumps.
TEST_F(RocksProfileStoreTest, StacksOutliveDumpsStampedInTheFuture) {
  // The stack is first dumped almost a refresh period before a dump stamped as far ahead as
  // receivers accept (storage.maxFutureSkew).
  ASSERT_TRUE(store_->AddSnapshots({Dump("t", "s-first", 0, kStart, {"A", "B"})}).ok());
  clock_.AdvanceMillis(kDay - 60'000);
  const int64_t ahead = clock_.NowMillis() + kMaxFutureSkew;
  ASSERT_TRUE(store_->AddSnapshots({Dump("t", "s-ahead", 0, ahead, {"A", "B"})}).ok());
  clock_.SetMillis(ahead + 3 * kDay - 1);  // the dump's last moment (record TTL 3 days)
  auto dumps = Dumps("s-ahead");
  ASSERT_EQ(dumps.size(), 1u);
  auto stack = store_->GetStack(dumps[0].stack_id);
  ASSERT_TRUE(stack.ok()) << stack.status();
  EXPECT_THAT(*stack, ElementsAre("A", "B"));
}

TEST_F(RocksProfileStoreTest, StacksInUseOutliveTheDumpsThatUseThem) {
  const std::vector<std::string> frames = {"A", "B", "C"};
  ASSERT_TRUE(store_->AddSnapshots({Dump("t", "s1", 0, kStart, frames)}).ok());
  // Two days later the same stack is dumped again (after the refresh period).
  clock_.SetMillis(kStart + 2 * kDay);
  ASSERT_TRUE(store_->AddSnapshots({Dump("t", "s2", 0, kStart + 2 * kDay, frames)}).ok());
  // Until the second dump expires, its stack is readable.
  clock_.SetMillis(kStart + 5 * kDay - 1);
  ASSERT_EQ(Dumps("s1").size(), 0u);
  auto dumps = Dumps("s2");
  ASSERT_EQ(dumps.size(), 1u);
  EXPECT_EQ(*store_->GetStack(dumps[0].stack_id), frames);
}

// A stream keeps the ids it resolved (SnapshotWriter): its later dumps keep the stacks alive.
TEST_F(RocksProfileStoreTest, StacksResolvedLongAgoOutliveTheDumpsThatUseThem) {
  const std::vector<std::string> frames = {"A", "B", "C"};
  const PendingStack stack = {StackHasher::Of(frames), &frames};
  auto ids = store_->ResolveStacks({&stack, 1});
  ASSERT_TRUE(ids.ok()) << ids.status();
  clock_.SetMillis(kStart + 2 * kDay);
  ASSERT_TRUE(store_->AddDumps({{"t", "s", kStart + 2 * kDay, 0, (*ids)[0]}}).ok());
  clock_.SetMillis(kStart + 5 * kDay - 1);
  ASSERT_EQ(Dumps("s").size(), 1u);
  EXPECT_EQ(*store_->GetStack((*ids)[0]), frames);
  // An id whose entry has expired is refused, and nothing of the batch is stored.
  clock_.SetMillis(kStart + 9 * kDay);
  EXPECT_EQ(store_->AddDumps({{"t", "s2", kStart + 9 * kDay, 0, (*ids)[0]}}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Dumps("s2").empty());
}

TEST_F(RocksProfileStoreTest, DumpsExpireWithRecordTtl) {
  ASSERT_TRUE(store_->AddSnapshots({Dump("t", "s", 0, kStart, {"A"})}).ok());
  clock_.SetMillis(kStart + 3 * kDay);
  EXPECT_TRUE(Dumps("s").empty());
  EXPECT_TRUE(store_->ListProfiledSegments("t")->empty());
}

}  // namespace
}  // namespace stackhouse::storage

namespace stackhouse::storage {
namespace {

TEST_F(RocksProfileStoreTest, GoProfilesAreStoredOnceAndFoundFromEachSegment) {
  model::GoProfile first{"t1", kStart + 20, {"seg-go", "seg-other"}, std::string("pprof\0one", 9)};
  model::GoProfile second{"t1", kStart + 10, {"seg-go"}, "pprof-two"};
  ASSERT_TRUE(store_->AddGoProfile(first).ok());
  ASSERT_TRUE(store_->AddGoProfile(second).ok());
  ASSERT_TRUE(store_->AddGoProfile({"t1", kStart, {}, "no segments: nothing stored"}).ok());
  auto bytes = [&](const model::GoSegmentProfile& p) {
    auto got = store_->GetGoProfile(p.profile_key);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() && got->has_value() ? **got : std::string("<none>");
  };

  auto go = store_->ListGoProfiles("seg-go");
  ASSERT_TRUE(go.ok()) << go.status();
  ASSERT_EQ(go->size(), 2u);  // in dump-time order, both kept
  EXPECT_EQ(bytes((*go)[0]), "pprof-two");
  EXPECT_EQ((*go)[0].dump_time_ms, kStart + 10);
  EXPECT_EQ(bytes((*go)[1]), std::string("pprof\0one", 9));
  EXPECT_EQ((*go)[1].task_id, "t1");
  EXPECT_EQ((*go)[1].segment_id, "seg-go");
  auto other = store_->ListGoProfiles("seg-other");
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->size(), 1u);
  // One stored copy for both segments.
  EXPECT_EQ((*other)[0].profile_key, (*go)[1].profile_key);
  EXPECT_TRUE(store_->ListGoProfiles("seg-none")->empty());
  EXPECT_TRUE(Dumps("seg-go").empty());  // not thread dumps
  EXPECT_THAT(*store_->ListProfiledSegments("t1"), ElementsAre("seg-go", "seg-other"));
  EXPECT_EQ(store_->GetGoProfile("d-not-a-go-key").status().code(),
            absl::StatusCode::kInvalidArgument);

  // They expire with the record TTL, from their dump time.
  clock_.SetMillis(kStart + 3 * kDay + 15);
  go = store_->ListGoProfiles("seg-go");
  ASSERT_TRUE(go.ok());
  ASSERT_EQ(go->size(), 1u);
  EXPECT_EQ(bytes((*go)[0]), std::string("pprof\0one", 9));
}

}  // namespace
}  // namespace stackhouse::storage
