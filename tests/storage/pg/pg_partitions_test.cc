// Retention on PostgreSQL: day partitions created ahead, dropped whole once expired; the
// default partition's rows moved into their day or deleted; schema 5 databases converted.
#include "storage/pg/pg_partitions.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/database.h"
#include "storage/pg/pg_ebpf_store.h"
#include "storage/pg/pg_profile_store.h"
#include "storage/pg/pg_schema.h"
#include "storage/pg/pg_segment_store.h"
#include "storage/pg/pg_stack_dictionary.h"
#include "storage/pg/test_cluster.h"
#include "storage/stack_fingerprint.h"

namespace stackhouse::storage::pg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kDay = kPartitionMs;

int64_t Utc(const char* text) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%d %H:%M", text, absl::UTCTimeZone(), &t, &error)) << error;
  return absl::ToUnixMillis(t);
}

class PgPartitionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conninfo = testing::ClusterEnvironment::NewDatabase();
    ASSERT_TRUE(conninfo.ok()) << conninfo.status();
    options_.conninfo = *conninfo;
    options_.size = 2;
    pool_ = NewPool();
    ASSERT_NE(pool_, nullptr);
  }

  std::unique_ptr<Pool> NewPool() {
    auto pool = Pool::Create(options_);
    EXPECT_TRUE(pool.ok()) << pool.status();
    return pool.ok() ? std::move(*pool) : nullptr;
  }

  void Migrate(int target = LatestSchemaVersion()) {
    auto migrated = MigrateSchema(*pool_, target);
    ASSERT_TRUE(migrated.ok()) << migrated.status();
  }

  PartitionKeeperOptions Options() const {
    PartitionKeeperOptions options;
    options.ttl.record_ttl_ms = 3 * kDay;
    options.ttl.metrics_ttl_ms = 7 * kDay;
    options.lock_timeout_ms = 200;
    return options;
  }

  void Exec(const std::string& sql) {
    auto result = pool_->Exec(sql);
    ASSERT_TRUE(result.ok()) << sql << ": " << result.status();
  }

  int64_t Count(const std::string& sql) { return testing::CountRows(*pool_, sql); }

  // The partitions of `table`, by name.
  std::vector<std::string> Partitions(const std::string& table) {
    std::vector<std::string> names;
    auto r = pool_->Exec(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = $1::regclass ORDER BY c.relname",
        Params().Text(table));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return names;
    for (int row = 0; row < r->rows(); ++row) names.push_back(r->String(row, 0));
    return names;
  }

  // The partition that holds the block of `schedule` (empty when there is none).
  std::string BlockPartition(const std::string& schedule) {
    auto r =
        pool_->Exec("SELECT tableoid::regclass::text FROM sh_ebpf_block WHERE schedule_id = $1",
                    Params().Text(schedule));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && r->rows() == 1 ? r->String(0, 0) : "";
  }

  void AddBlock(const std::string& schedule, int64_t upload_ms) {
    Exec(
        absl::StrCat("INSERT INTO sh_ebpf_block (schedule_id, upload_time_ms, target_type, "
                     "sample_count, samples) VALUES ('",
                     schedule, "', ", upload_ms, ", 1, 1, '\\x00')"));
  }

  PoolOptions options_;
  std::unique_ptr<Pool> pool_;
  SimulatedClock clock_{Utc("2026-12-03 12:00")};
};

TEST_F(PgPartitionsTest, TheDaysFromYesterdayToTwoAheadAreCreatedOnce) {
  Migrate();
  PartitionKeeper keeper(pool_.get(), &clock_, Options());
  PartitionReport first = keeper.RunOnce();
  EXPECT_THAT(first.failures, IsEmpty());
  const int tables = static_cast<int>(PartitionedTables().size());
  EXPECT_EQ(first.created, 4 * tables);
  EXPECT_THAT(
      Partitions("sh_ebpf_block"),
      ElementsAre("sh_ebpf_block_p20261202", "sh_ebpf_block_p20261203", "sh_ebpf_block_p20261204",
                  "sh_ebpf_block_p20261205", "sh_ebpf_block_pdefault"));
  PartitionReport second = keeper.RunOnce();
  EXPECT_EQ(second.created, 0);
  EXPECT_EQ(second.dropped, 0);
  // A day later, one more day ahead.
  clock_.AdvanceMillis(kDay);
  EXPECT_EQ(keeper.RunOnce().created, tables);
  EXPECT_EQ(Partitions("sh_segment").size(), 6u);
}

TEST_F(PgPartitionsTest, AStoredRowLandsInItsDayAndAnExpiredDayIsDroppedWhole) {
  Migrate();
  PartitionKeeper keeper(pool_.get(), &clock_, Options());
  ASSERT_THAT(keeper.RunOnce().failures, IsEmpty());
  AddBlock("old", Utc("2026-12-03 01:00"));
  AddBlock("new", Utc("2026-12-04 23:59"));
  EXPECT_EQ(BlockPartition("old"), "sh_ebpf_block_p20261203");
  EXPECT_EQ(BlockPartition("new"), "sh_ebpf_block_p20261204");

  int record_tables = 0;
  for (const PartitionedTable& table : PartitionedTables())
    record_tables += table.ttl == TtlOf::kRecord;
  // Record TTL 3 days: at 12-06 23:59 the block of 12-03 01:00 has expired, but 12-03's last
  // millisecond has not: only the record tables' 12-02 partitions are dropped.
  clock_.SetMillis(Utc("2026-12-06 23:59"));
  EXPECT_EQ(keeper.RunOnce().dropped, record_tables);
  EXPECT_EQ(BlockPartition("old"), "sh_ebpf_block_p20261203");
  // Just after 12-07 00:00 every row of 12-03 has; 12-04's block stays.
  clock_.SetMillis(Utc("2026-12-07 00:00") + 1);
  PartitionReport report = keeper.RunOnce();
  EXPECT_THAT(report.failures, IsEmpty());
  EXPECT_EQ(report.dropped, record_tables);
  EXPECT_EQ(BlockPartition("old"), "");
  EXPECT_EQ(BlockPartition("new"), "sh_ebpf_block_p20261204");
  EXPECT_THAT(
      Partitions("sh_ebpf_block"),
      ElementsAre("sh_ebpf_block_p20261204", "sh_ebpf_block_p20261205", "sh_ebpf_block_p20261206",
                  "sh_ebpf_block_p20261207", "sh_ebpf_block_p20261208", "sh_ebpf_block_p20261209",
                  "sh_ebpf_block_pdefault"));
  // The metric tables keep theirs (7 days).
  EXPECT_EQ(Partitions("sh_metric_relation").front(), "sh_metric_relation_p20261202");
}

TEST_F(PgPartitionsTest, AStoreWritesAndReadsThroughThePartitions) {
  Migrate();
  PartitionKeeper keeper(pool_.get(), &clock_, Options());
  ASSERT_THAT(keeper.RunOnce().failures, IsEmpty());
  StoreOptions ttl = Options().ttl;
  PgSegmentStore segments(pool_.get(), &clock_, ttl);
  model::SegmentSummary summary;
  summary.segment_id = "seg-1";
  summary.trace_id = "trace-1";
  summary.instance_id = "inst";
  summary.start_time_ms = clock_.NowMillis() - 1000;
  summary.latency_ms = 5;
  ASSERT_TRUE(segments.AddSegments({model::Segment{}}, {summary}).ok());
  // The same segment again, and again with a start time an agent moved to the next day.
  ASSERT_TRUE(segments.AddSegments({model::Segment{}}, {summary}).ok());
  model::SegmentSummary moved = summary;
  moved.start_time_ms += kDay;
  moved.latency_ms = 7;
  ASSERT_TRUE(segments.AddSegments({model::Segment{}}, {moved}).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM sh_segment_p20261203"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM sh_segment_p20261204"), 1);
  auto got = segments.GetSegment("seg-1");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->summary.latency_ms, 7);
  auto listed = segments.ListByTrace("trace-1", 10);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);  // one copy per segment id
  EXPECT_EQ((*listed)[0].summary.latency_ms, 7);
}

TEST_F(PgPartitionsTest, AFarDayWaitsInTheDefaultPartitionAndMovesIntoItsDay) {
  Migrate();
  PartitionKeeper keeper(pool_.get(), &clock_, Options());
  ASSERT_THAT(keeper.RunOnce().failures, IsEmpty());
  AddBlock("ahead", Utc("2026-12-10 08:00"));    // an agent's clock a week ahead
  AddBlock("ancient", Utc("1999-01-01 00:00"));  // or decades behind
  EXPECT_EQ(BlockPartition("ahead"), "sh_ebpf_block_pdefault");
  clock_.SetMillis(Utc("2026-12-08 12:00"));
  PartitionReport report = keeper.RunOnce();
  EXPECT_THAT(report.failures, IsEmpty());
  EXPECT_EQ(report.moved, 1);
  EXPECT_EQ(BlockPartition("ahead"), "sh_ebpf_block_p20261210");
  EXPECT_EQ(BlockPartition("ancient"), "");  // expired: deleted from the default partition
  EXPECT_GE(report.deleted, 1);
}

TEST_F(PgPartitionsTest, ASchema5DatabaseKeepsItsRowsAndItsSerialIds) {
  Migrate(5);
  const int64_t day = Utc("2026-12-02 10:00");
  AddBlock("before", day);
  Exec(absl::StrCat("INSERT INTO sh_go_profile (dump_time_ms, pprof) VALUES (", day, ", 'a'), (",
                    day, ", 'b')"));
  Exec(
      absl::StrCat("INSERT INTO sh_metric (metric, entity, step, bucket_ms, label, sum, count, "
                   "stamp_ms, buckets) VALUES ('m', 'e', 0, ",
                   day, ", '', 3, 1, ", day, ", '{1,2}')"));
  Migrate();
  EXPECT_EQ(BlockPartition("before"), "sh_ebpf_block_pdefault");
  Exec(absl::StrCat("INSERT INTO sh_go_profile (dump_time_ms, pprof) VALUES (", day, ", 'c')"));
  EXPECT_EQ(Count("SELECT max(id) FROM sh_go_profile"), 3);  // the sequence went on
  EXPECT_EQ(Count("SELECT count(DISTINCT id) FROM sh_go_profile"), 3);
  EXPECT_EQ(Count("SELECT sum FROM sh_metric WHERE buckets = '{1,2}'"), 3);

  PartitionKeeper keeper(pool_.get(), &clock_, Options());
  PartitionReport report = keeper.RunOnce();
  EXPECT_THAT(report.failures, IsEmpty());
  EXPECT_EQ(report.moved, 1 + 3 + 1);
  EXPECT_EQ(BlockPartition("before"), "sh_ebpf_block_p20261202");
  EXPECT_EQ(Count("SELECT count(*) FROM sh_go_profile_p20261202"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric_pdefault"), 0);
}

TEST_F(PgPartitionsTest, AMetricDayRowOutlivesItsBucketDayByItsLastMinute) {
  Migrate();
  PartitionKeeper keeper(pool_.get(), &clock_, Options());
  ASSERT_THAT(keeper.RunOnce().failures, IsEmpty());
  const int64_t bucket = Utc("2026-12-02 16:00");  // a day row of a zone 8 hours ahead
  Exec(
      absl::StrCat("INSERT INTO sh_metric (metric, entity, step, bucket_ms, label, sum, count, "
                   "stamp_ms) VALUES ('m', 'e', 2, ",
                   bucket, ", '', 1, 1, ", bucket + kDay - 60'000, ")"));
  // Metrics TTL 7 days: at 12-10 12:00 the row's last minute (12-03 15:59) is still live.
  clock_.SetMillis(Utc("2026-12-10 12:00"));
  ASSERT_THAT(keeper.RunOnce().failures, IsEmpty());
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric"), 1);
  // Two days after the partition's day ended (plus the TTL), it goes.
  clock_.SetMillis(Utc("2026-12-12 00:00") + 1);
  ASSERT_THAT(keeper.RunOnce().failures, IsEmpty());
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric"), 0);
  EXPECT_EQ(Partitions("sh_metric").front(), "sh_metric_p20261203");
}

TEST_F(PgPartitionsTest, ExpiredRowsOfTheSmallTablesAreDeleted) {
  Migrate();
  Exec(absl::StrCat("INSERT INTO sh_ebpf_process (id, last_ping_ms, body) VALUES ('gone', ",
                    clock_.NowMillis() - 8 * kDay, ", ''), ('here', ", clock_.NowMillis(),
                    ", '')"));
  PartitionKeeper keeper(pool_.get(), &clock_, Options());
  PartitionReport report = keeper.RunOnce();
  EXPECT_THAT(report.failures, IsEmpty());
  EXPECT_EQ(report.deleted, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM sh_ebpf_process WHERE id = 'here'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM sh_ebpf_process"), 1);
}

TEST_F(PgPartitionsTest, AStackOutlivesTheRecordsThatUseItAndThenExpires) {
  Migrate();
  PartitionKeeper keeper(pool_.get(), &clock_, Options());
  ASSERT_THAT(keeper.RunOnce().failures, IsEmpty());
  const StoreOptions ttl = Options().ttl;
  PgStackDictionary dictionary(pool_.get(), "sh_ebpf_stack", ttl.max_future_skew_ms);
  const std::vector<std::string> frames = {"main", "work"};
  const PendingStack stack{StackHasher::Of(frames), &frames};
  auto stamp = [&] { return Count("SELECT stamp_ms FROM sh_ebpf_stack"); };
  auto first = dictionary.Resolve({stack}, clock_.NowMillis());
  ASSERT_TRUE(first.ok()) << first.status();
  const int64_t resolved_at = clock_.NowMillis();
  EXPECT_EQ(stamp(), resolved_at);

  // Used again within a day: no write. A day later: stamped again, by Resolve or by Retain.
  clock_.AdvanceMillis(kDay - 1);
  ASSERT_TRUE(dictionary.Retain(*first, clock_.NowMillis(), clock_.NowMillis()).ok());
  EXPECT_EQ(stamp(), resolved_at);
  clock_.AdvanceMillis(1);
  ASSERT_TRUE(dictionary.Retain(*first, clock_.NowMillis(), clock_.NowMillis()).ok());
  EXPECT_EQ(stamp(), resolved_at + kDay);
  clock_.AdvanceMillis(kDay);
  auto again = dictionary.Resolve({stack}, clock_.NowMillis());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(stamp(), resolved_at + 2 * kDay);
  // Records of an agent whose clock is ahead count from their own time, at most maxFutureSkew
  // ahead: a stamp that is fresh now may be due for them.
  clock_.AdvanceMillis(kDay - ttl.max_future_skew_ms / 2);
  ASSERT_TRUE(dictionary.Retain(*first, clock_.NowMillis(), clock_.NowMillis()).ok());
  EXPECT_EQ(stamp(), resolved_at + 2 * kDay);
  ASSERT_TRUE(dictionary.Retain(*first, clock_.NowMillis(), clock_.NowMillis() + 5 * kDay).ok());
  EXPECT_EQ(stamp(), clock_.NowMillis() + ttl.max_future_skew_ms);
  const int64_t last_stamp = stamp();

  // Records stamped then expire recordDataTTL later; the stack lives a refresh period longer.
  clock_.SetMillis(last_stamp + ttl.record_ttl_ms + kDictionaryRefreshMs - 1);
  ASSERT_THAT(keeper.RunOnce().failures, IsEmpty());
  EXPECT_EQ(Count("SELECT count(*) FROM sh_ebpf_stack"), 1);
  clock_.AdvanceMillis(1);
  ASSERT_THAT(keeper.RunOnce().failures, IsEmpty());
  EXPECT_EQ(Count("SELECT count(*) FROM sh_ebpf_stack"), 0);

  // A writer still holding the id is told; resolving the stack again stores it afresh.
  absl::Status retained = dictionary.Retain(*first, clock_.NowMillis(), clock_.NowMillis());
  EXPECT_TRUE(absl::IsNotFound(retained)) << retained;
  auto renewed = dictionary.Resolve({stack}, clock_.NowMillis());
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_NE(*renewed, *first);
  EXPECT_EQ(Count("SELECT count(*) FROM sh_ebpf_stack"), 1);
}

TEST_F(PgPartitionsTest, BlocksAndDumpsOfAnExpiredStackAreRefused) {
  Migrate();
  const StoreOptions ttl = Options().ttl;
  PgEbpfStore ebpf(pool_.get(), &clock_, ttl);
  const std::vector<std::string> frames = {"kmain"};
  auto ids = ebpf.ResolveStacks({PendingStack{StackHasher::Of(frames), &frames}});
  ASSERT_TRUE(ids.ok()) << ids.status();
  Exec("DELETE FROM sh_ebpf_stack");  // as the keeper would, a long time later
  clock_.AdvanceMillis(kDictionaryRefreshMs);
  StoredEbpfSample sample;
  sample.stack_id = (*ids)[0];
  sample.target_type = model::EbpfTargetType::kOnCpu;
  sample.dump_count = 1;
  absl::Status added = ebpf.AddSampleBlock("schedule", clock_.NowMillis(), {sample});
  EXPECT_TRUE(absl::IsNotFound(added)) << added;
  EXPECT_EQ(Count("SELECT count(*) FROM sh_ebpf_block"), 0);

  PgProfileStore profiles(pool_.get(), &clock_, ttl);
  auto stack = profiles.ResolveStacks({PendingStack{StackHasher::Of(frames), &frames}});
  ASSERT_TRUE(stack.ok()) << stack.status();
  Exec("DELETE FROM sh_profile_stack");
  clock_.AdvanceMillis(kDictionaryRefreshMs);
  ResolvedDump dump;
  dump.task_id = "task";
  dump.segment_id = "segment";
  dump.dump_time_ms = clock_.NowMillis();
  dump.stack_id = (*stack)[0];
  absl::Status dumped = profiles.AddDumps({dump});
  EXPECT_TRUE(absl::IsNotFound(dumped)) << dumped;
  EXPECT_EQ(Count("SELECT count(*) FROM sh_profile_dump"), 0);
}

TEST_F(PgPartitionsTest, NodesKeepingAtOnceCreateEachPartitionOnce) {
  Migrate();
  constexpr int kNodes = 3;
  std::vector<std::unique_ptr<Pool>> pools;
  std::vector<std::unique_ptr<PartitionKeeper>> keepers;
  for (int i = 0; i < kNodes; ++i) {
    pools.push_back(NewPool());
    ASSERT_NE(pools.back(), nullptr);
    keepers.push_back(std::make_unique<PartitionKeeper>(pools.back().get(), &clock_, Options()));
  }
  std::vector<PartitionReport> reports(kNodes);
  std::vector<std::thread> nodes;
  for (int i = 0; i < kNodes; ++i)
    nodes.emplace_back([&, i] { reports[i] = keepers[i]->RunOnce(); });
  for (std::thread& node : nodes) node.join();
  int created = 0;
  for (const PartitionReport& report : reports) {
    EXPECT_THAT(report.failures, IsEmpty());
    created += report.created;
  }
  // A node that skipped a table kept by another finds it complete on its next pass.
  for (auto& keeper : keepers) created += keeper->RunOnce().created;
  EXPECT_EQ(created, 4 * static_cast<int>(PartitionedTables().size()));
}

TEST_F(PgPartitionsTest, ATableLockedByALongQueryIsLeftForTheNextPass) {
  Migrate();
  auto reader = Connection::Open(options_.conninfo);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE((*reader)->ExecScript("BEGIN; LOCK TABLE sh_segment IN ACCESS SHARE MODE").ok());
  PartitionKeeper keeper(pool_.get(), &clock_, Options());
  PartitionReport blocked = keeper.RunOnce();
  ASSERT_EQ(blocked.failures.size(), 1u);
  EXPECT_THAT(blocked.failures[0], HasSubstr("sh_segment: "));
  EXPECT_THAT(blocked.failures[0], HasSubstr("lock timeout"));
  const int tables = static_cast<int>(PartitionedTables().size());
  EXPECT_EQ(blocked.created, 4 * (tables - 1));
  EXPECT_THAT(Partitions("sh_segment"), ElementsAre("sh_segment_pdefault"));
  ASSERT_TRUE((*reader)->ExecScript("COMMIT").ok());
  PartitionReport next = keeper.RunOnce();
  EXPECT_THAT(next.failures, IsEmpty());
  EXPECT_EQ(next.created, 4);
}

TEST_F(PgPartitionsTest, TheKeeperThreadRunsEveryIntervalAndStopsPromptly) {
  Migrate();
  PartitionKeeperOptions options = Options();
  options.interval_ms = 10;
  PartitionKeeper keeper(pool_.get(), &clock_, options);
  keeper.Start();
  // The thread's first pass comes after one interval; wait for it (bounded).
  for (int i = 0; i < 500 && Partitions("sh_sampled_record").size() < 5; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  keeper.Stop();
  EXPECT_EQ(Partitions("sh_sampled_record").size(), 5u);
}

}  // namespace
}  // namespace stackhouse::storage::pg
