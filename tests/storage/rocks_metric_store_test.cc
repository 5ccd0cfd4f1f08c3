#include "storage/rocks_metric_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/metric_catalog.h"
#include "storage/metric_codec.h"
#include "storage/store_test_data.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

using metrics::Accumulator;
using metrics::MetricUpdate;
using stackhouse::testing::MetricSum;
using ::testing::ElementsAre;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
// 2023-11-14 22:00:00 UTC: an hour start.
constexpr int64_t kT0 = 1699999200000;

class RocksMetricStoreTest : public ::testing::Test {
 protected:
  void Open(absl::TimeZone zone = absl::UTCTimeZone()) {
    store_.reset();
    db_.reset();
    DatabaseOptions options;
    options.data_dir = dir_.path();
    options.metrics_ttl_ms = 7 * kDay;
    auto db = Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    auto store = RocksMetricStore::Open(db_.get(), zone);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  std::vector<metrics::LabeledRows> Read(const char* metric, metrics::Step step,
                                         std::vector<int64_t> starts, const char* entity = "c-s") {
    return stackhouse::testing::ReadMetricRows(*store_, metric, step, std::move(starts), entity);
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kT0 + kHour};
  std::unique_ptr<Database> db_;
  std::unique_ptr<RocksMetricStore> store_;
};

TEST_F(RocksMetricStoreTest, RowsSurviveReopeningAndExpireWithTheMetricsTtl) {
  Open();
  ASSERT_TRUE(store_
                  ->AddMetrics({MetricSum("process_relation_client_write_avg_exe_time", kT0, 40),
                                MetricSum("process_relation_client_write_avg_exe_time", kT0, 20)})
                  .ok());
  Open();
  auto rows = Read("process_relation_client_write_avg_exe_time", metrics::Step::kMinute, {kT0});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].rows[0]->sum, 60);
  EXPECT_EQ(rows[0].rows[0]->count, 2);

  // Compaction folds the operands into one value; the row reads the same.
  ASSERT_TRUE(db_->CompactAll().ok());
  rows = Read("process_relation_client_write_avg_exe_time", metrics::Step::kMinute, {kT0});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].rows[0]->count, 2);

  clock_.SetMillis(kT0 + 7 * kDay + kMinute);
  EXPECT_TRUE(
      Read("process_relation_client_write_avg_exe_time", metrics::Step::kMinute, {kT0}).empty());
}

TEST_F(RocksMetricStoreTest, HourAndDayBucketsFollowTheZone) {
  // Asia/Kolkata is UTC+5:30: its hours start at :30 UTC, its days at 18:30 UTC.
  absl::TimeZone kolkata;
  ASSERT_TRUE(absl::LoadTimeZone("Asia/Kolkata", &kolkata));
  Open(kolkata);
  EXPECT_EQ(store_->HourStart(kT0 + 10 * kMinute), kT0 - 30 * kMinute);
  EXPECT_EQ(store_->HourStart(kT0 + 40 * kMinute), kT0 + 30 * kMinute);
  EXPECT_EQ(store_->DayStart(kT0), kT0 - 3 * kHour - 30 * kMinute);  // 2023-11-14 18:30 UTC
  ASSERT_TRUE(
      store_->AddMetrics({MetricSum("process_relation_client_write_cpm", kT0 + 40 * kMinute, 2)})
          .ok());
  auto hours =
      Read("process_relation_client_write_cpm", metrics::Step::kHour, {kT0 + 30 * kMinute});
  ASSERT_EQ(hours.size(), 1u);
  EXPECT_EQ(hours[0].rows[0]->sum, 2);
}

TEST_F(RocksMetricStoreTest, RelationRowsWrittenAgainKeepTheirComponentAcrossARestart) {
  Open();
  using metrics::RelationRow;
  ASSERT_TRUE(store_->AddRelations({RelationRow{"inst", "a", "b", false, 49, kT0}}).ok());
  // Reported again by every report of the minute: nothing changes, https still wins.
  ASSERT_TRUE(store_->AddRelations({RelationRow{"inst", "a", "b", false, 110, kT0}}).ok());
  ASSERT_TRUE(store_->AddRelations({RelationRow{"inst", "a", "b", false, 129, kT0}}).ok());
  Open();
  ASSERT_TRUE(store_->AddRelations({RelationRow{"inst", "a", "b", false, 49, kT0}}).ok());
  auto rows = store_->ReadRelations("inst", kT0, kT0);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].component_id, 129);
  // Minutes later the same relation is a new row.
  ASSERT_TRUE(
      store_->AddRelations({RelationRow{"inst", "a", "b", false, 110, kT0 + 3 * kMinute}}).ok());
  rows = store_->ReadRelations("inst", kT0, kT0 + 3 * kMinute);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[1].component_id, 110);
}

TEST(MetricCodecTest, AccumulatorsRoundTripAndMergeAdds) {
  Accumulator a;
  a.sum = -5;
  a.count = 3;
  a.buckets = {{INT64_MIN, 1}, {-3, 2}, {INT64_MAX, 9}};
  auto decoded = DecodeAccumulator(EncodeAccumulator(a));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, a);
  EXPECT_FALSE(DecodeAccumulator("\xff").has_value());
  EXPECT_FALSE(DecodeAccumulator(EncodeAccumulator(a) + "x").has_value());

  std::string merged;
  const std::string key = MetricRowKey(BucketStep::kMinute, "m", "e", 0, "");
  ASSERT_TRUE(MergeMeterPayloads(key, EncodeAccumulator(a), EncodeAccumulator(a), &merged));
  auto twice = DecodeAccumulator(merged);
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(twice->sum, -10);
  EXPECT_EQ(twice->buckets, (metrics::BucketCounts{{INT64_MIN, 2}, {-3, 4}, {INT64_MAX, 18}}));
  // An unreadable operand is dropped, the row stays readable.
  ASSERT_TRUE(MergeMeterPayloads(key, EncodeAccumulator(a), "\xff\xff", &merged));
  EXPECT_EQ(DecodeAccumulator(merged), a);
  EXPECT_FALSE(MergeMeterPayloads(key, std::nullopt, "\xff\xff", &merged));
}

TEST_F(RocksMetricStoreTest, ClosedMinutesFoldIntoStoredRowsAndReadTheSame) {
  Open();
  const char* metric = "process_relation_client_write_cpm";
  // Three reports per minute, as Rover's 5 s reports land; the minutes T0 and T0+1 stay pending.
  for (int r = 0; r < 3; ++r) {
    ASSERT_TRUE(
        store_->AddMetrics({MetricSum(metric, kT0, 1), MetricSum(metric, kT0 + kMinute, 10)}).ok());
  }
  EXPECT_EQ(store_->pending_rows(), 2u);
  EXPECT_EQ(store_->pending_log_records(), 6u);  // one per call and minute
  auto before = Read(metric, metrics::Step::kMinute, {kT0, kT0 + kMinute, kT0 + 2 * kMinute});
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].rows[0]->sum, 3);
  EXPECT_EQ(before[0].rows[1]->sum, 30);
  EXPECT_FALSE(before[0].rows[2].has_value());

  // T0+2 arrives: T0 is closed and folded (one minute, hour and day operand), T0+1 stays.
  ASSERT_TRUE(store_->AddMetrics({MetricSum(metric, kT0 + 2 * kMinute, 100)}).ok());
  EXPECT_EQ(store_->pending_rows(), 2u);
  EXPECT_EQ(store_->pending_log_records(), 4u);
  auto after = Read(metric, metrics::Step::kMinute, {kT0, kT0 + kMinute, kT0 + 2 * kMinute});
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].rows[0]->sum, 3);
  EXPECT_EQ(after[0].rows[1]->sum, 30);
  EXPECT_EQ(after[0].rows[2]->sum, 100);
  // The hour adds the folded minute's stored row and the pending ones.
  auto hour = Read(metric, metrics::Step::kHour, {kT0});
  ASSERT_EQ(hour.size(), 1u);
  EXPECT_EQ(hour[0].rows[0]->sum, 133);

  // A late report of the folded minute adds to its stored row.
  ASSERT_TRUE(store_->AddMetrics({MetricSum(metric, kT0, 4)}).ok());
  ASSERT_TRUE(store_->FoldAll().ok());
  EXPECT_EQ(store_->pending_rows(), 0u);
  EXPECT_EQ(store_->pending_log_records(), 0u);
  auto folded = Read(metric, metrics::Step::kMinute, {kT0, kT0 + kMinute, kT0 + 2 * kMinute});
  ASSERT_EQ(folded.size(), 1u);
  EXPECT_EQ(folded[0].rows[0]->sum, 7);
  EXPECT_EQ(folded[0].rows[1]->sum, 30);
  EXPECT_EQ(folded[0].rows[2]->sum, 100);
  hour = Read(metric, metrics::Step::kHour, {kT0});
  EXPECT_EQ(hour[0].rows[0]->sum, 137);
  const int64_t day = kT0 - 22 * kHour;
  auto days = Read(metric, metrics::Step::kDay, {day});
  EXPECT_EQ(days[0].rows[0]->sum, 137);
}

TEST_F(RocksMetricStoreTest, AKillBeforeOrAfterAFoldNeitherLosesNorDoublesAnUpdate) {
  Open();
  const char* metric = "process_relation_client_write_avg_exe_time";
  MetricUpdate histogram;
  histogram.metric = metrics::FindMetric("process_relation_client_write_rtt_time_percentile");
  histogram.entity_id = "c-s";
  histogram.label_value = "";
  histogram.minute_ms = kT0;
  histogram.delta.buckets = {{0, 1}, {5, 2}};
  ASSERT_TRUE(store_->AddMetrics({MetricSum(metric, kT0, 40), histogram}).ok());
  ASSERT_TRUE(
      store_->AddMetrics({MetricSum(metric, kT0, 20), MetricSum(metric, kT0 + kMinute, 7)}).ok());
  // Reopening without a fold is what a SIGKILL leaves: the intake log holds the updates.
  Open();
  EXPECT_EQ(store_->pending_rows(), 3u);
  EXPECT_EQ(store_->pending_log_records(), 3u);
  auto rows = Read(metric, metrics::Step::kMinute, {kT0, kT0 + kMinute});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].rows[0]->sum, 60);
  EXPECT_EQ(rows[0].rows[0]->count, 2);
  EXPECT_EQ(rows[0].rows[1]->sum, 7);
  auto hist =
      Read("process_relation_client_write_rtt_time_percentile", metrics::Step::kMinute, {kT0});
  ASSERT_EQ(hist.size(), 1u);
  EXPECT_EQ(hist[0].rows[0]->buckets, (metrics::BucketCounts{{0, 1}, {5, 2}}));

  // Folded, the log records are gone with the same batch: reopening replays nothing.
  ASSERT_TRUE(store_->FoldAll().ok());
  Open();
  EXPECT_EQ(store_->pending_rows(), 0u);
  rows = Read(metric, metrics::Step::kMinute, {kT0, kT0 + kMinute});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].rows[0]->sum, 60);
  EXPECT_EQ(rows[0].rows[0]->count, 2);
  auto hour = Read(metric, metrics::Step::kHour, {kT0});
  EXPECT_EQ(hour[0].rows[0]->sum, 67);
  EXPECT_EQ(hour[0].rows[0]->count, 3);

  // New updates after the restart are logged and replayed the same way.
  ASSERT_TRUE(store_->AddMetrics({MetricSum(metric, kT0, 1)}).ok());
  Open();
  EXPECT_EQ(store_->pending_log_records(), 1u);
  rows = Read(metric, metrics::Step::kMinute, {kT0});
  EXPECT_EQ(rows[0].rows[0]->sum, 61);
}

TEST_F(RocksMetricStoreTest, TooManyPendingRowsFoldEverything) {
  store_.reset();
  db_.reset();
  DatabaseOptions options;
  options.data_dir = dir_.path();
  auto db = Database::Open(options, &clock_);
  ASSERT_TRUE(db.ok()) << db.status();
  db_ = std::move(*db);
  auto store = RocksMetricStore::Open(db_.get(), absl::UTCTimeZone(), /*max_pending_rows=*/3);
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = std::move(*store);
  const char* metric = "process_relation_client_write_cpm";
  ASSERT_TRUE(
      store_->AddMetrics({MetricSum(metric, kT0, 1, "a-b"), MetricSum(metric, kT0, 2, "c-d")})
          .ok());
  EXPECT_EQ(store_->pending_rows(), 2u);
  ASSERT_TRUE(
      store_->AddMetrics({MetricSum(metric, kT0, 3, "e-f"), MetricSum(metric, kT0, 4, "g-h")})
          .ok());
  EXPECT_EQ(store_->pending_rows(), 0u);
  EXPECT_EQ(store_->pending_log_records(), 0u);
  EXPECT_EQ(Read(metric, metrics::Step::kMinute, {kT0}, "g-h")[0].rows[0]->sum, 4);
  EXPECT_EQ(Read(metric, metrics::Step::kMinute, {kT0}, "a-b")[0].rows[0]->sum, 1);
}

TEST_F(RocksMetricStoreTest, PendingRowsExpireWithTheMetricsTtl) {
  Open();
  const char* metric = "process_relation_client_write_cpm";
  ASSERT_TRUE(store_->AddMetrics({MetricSum(metric, kT0, 5)}).ok());
  ASSERT_EQ(store_->pending_rows(), 1u);
  clock_.SetMillis(kT0 + 7 * kDay + kMinute);
  EXPECT_TRUE(Read(metric, metrics::Step::kMinute, {kT0}).empty());
  EXPECT_TRUE(Read(metric, metrics::Step::kHour, {kT0}).empty());
  // Folding an expired minute writes no row and removes its log record.
  ASSERT_TRUE(store_->FoldAll().ok());
  EXPECT_EQ(store_->pending_log_records(), 0u);
  clock_.SetMillis(kT0 + kHour);
  EXPECT_TRUE(Read(metric, metrics::Step::kMinute, {kT0}).empty());
}

TEST_F(RocksMetricStoreTest, EntityRefsAreHintsOfOneCallOnly) {
  Open();
  const char* metric = "process_relation_client_write_cpm";
  auto update = [&](const char* entity, int64_t sum, uint32_t ref) {
    MetricUpdate u = MetricSum(metric, kT0, sum, entity);
    u.entity_ref = ref;
    return u;
  };
  // The same refs name other entities in the second call, and a ref-less update joins them.
  ASSERT_TRUE(store_->AddMetrics({update("a-b", 1, 1), update("c-d", 10, 2)}).ok());
  ASSERT_TRUE(
      store_->AddMetrics({update("c-d", 100, 1), update("a-b", 1000, 2), update("a-b", 1, 0)})
          .ok());
  auto read = [&](const char* entity) {
    auto rows = Read(metric, metrics::Step::kMinute, {kT0}, entity);
    return rows.size() == 1 && rows[0].rows[0] ? rows[0].rows[0]->sum : -1;
  };
  EXPECT_EQ(read("a-b"), 1002);
  EXPECT_EQ(read("c-d"), 110);
  // The same after the fold, and after a restart replays nothing twice.
  ASSERT_TRUE(store_->FoldAll().ok());
  EXPECT_EQ(read("a-b"), 1002);
  EXPECT_EQ(read("c-d"), 110);
  ASSERT_TRUE(store_->AddMetrics({update("c-d", 5, 1)}).ok());
  Open();
  EXPECT_EQ(read("a-b"), 1002);
  EXPECT_EQ(read("c-d"), 115);
}

TEST(MetricCodecTest, SeriesPrefixLengthIsTheSeriesPartOfARowKey) {
  const std::string metric("m\0\x01x", 4), entity("e\0\x01\0-s", 7);
  for (BucketStep step : {BucketStep::kMinute, BucketStep::kHour, BucketStep::kDay}) {
    const std::string prefix = MetricSeriesPrefix(step, metric, entity);
    const std::string key = MetricRowKey(step, metric, entity, 7, std::string("\0\x01l", 3));
    EXPECT_EQ(MetricSeriesPrefixLength(key), prefix.size());
    EXPECT_EQ(MetricSeriesPrefixLength(prefix), prefix.size());
    for (size_t cut = 0; cut < prefix.size(); ++cut) {
      EXPECT_EQ(MetricSeriesPrefixLength(prefix.substr(0, cut)), 0u) << cut;
    }
  }
  EXPECT_EQ(MetricSeriesPrefixLength(IntakeLogKey(7)), 0u);
  EXPECT_EQ(MetricSeriesPrefixLength(std::string("r1a\0\x01b\0\x01", 9)), 0u);
}

TEST(MetricCodecTest, IntakeLogRecordsRoundTripAndRefuseGarbage) {
  MetricUpdate a;
  a.metric = metrics::FindMetric("process_relation_http1_response_status_cpm");
  a.entity_id = "c-s";
  a.label_value = "200";
  a.minute_ms = -60'000;
  a.delta.sum = 3;
  MetricUpdate b = a;
  b.label_value = std::string("a\0b", 3);
  b.delta.buckets = {{INT64_MIN, 2}, {7, 1}};
  const std::string bytes = EncodeIntakeLog(-60'000, {&a, &b, &a});
  auto decoded = DecodeIntakeLog(bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->minute_ms, -60'000);
  ASSERT_EQ(decoded->updates.size(), 3u);
  EXPECT_EQ(decoded->updates[1].metric, a.metric);
  EXPECT_EQ(decoded->updates[1].entity_id, "c-s");
  EXPECT_EQ(decoded->updates[1].label_value, b.label_value);
  EXPECT_EQ(decoded->updates[1].minute_ms, -60'000);
  EXPECT_EQ(decoded->updates[1].delta, b.delta);
  EXPECT_EQ(decoded->updates[2].delta, a.delta);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(DecodeIntakeLog(bytes.substr(0, cut)).has_value()) << cut;
  }
  EXPECT_FALSE(DecodeIntakeLog(bytes + "x").has_value());
  EXPECT_EQ(IntakeLogSequence(IntakeLogKey(42)), 42u);
  // A row key made from a series prefix of another step is the row key of its own step.
  const std::string prefix = MetricSeriesPrefix(BucketStep::kMinute, "m{", "c-s");
  EXPECT_EQ(MetricRowKey(prefix, BucketStep::kDay, 7, "x"),
            MetricRowKey(BucketStep::kDay, "m{", "c-s", 7, "x"));
  EXPECT_FALSE(IntakeLogSequence("m123").has_value());
}

}  // namespace
}  // namespace stackhouse::storage
