// Several nodes (each with its own pool, stores and caches) over one database: the eBPF and
// metric stores' promises beyond the conformance suite.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "metrics/metric_catalog.h"
#include "storage/pg/pg_ebpf_store.h"
#include "storage/pg/pg_metric_store.h"
#include "storage/pg/pg_schema.h"
#include "storage/pg/test_cluster.h"
#include "storage/store_test_data.h"

namespace stackhouse::storage::pg {
namespace {

using stackhouse::testing::kStart;

class PgEbpfAndMetricNodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pools = testing::NewNodePools(kNodes);
    ASSERT_TRUE(pools.ok()) << pools.status();
    pools_ = std::move(*pools);
    for (const auto& pool : pools_) {
      ebpf_.push_back(std::make_unique<PgEbpfStore>(pool.get(), &clock_, StoreOptions{}));
      metrics_.push_back(std::make_unique<PgMetricStore>(pool.get(), &clock_, StoreOptions{},
                                                         absl::UTCTimeZone()));
    }
  }

  int64_t Count(const std::string& sql) { return testing::CountRows(*pools_[0], sql); }

  static constexpr int kNodes = 4;
  SimulatedClock clock_{kStart};
  std::vector<std::unique_ptr<Pool>> pools_;
  std::vector<std::unique_ptr<PgEbpfStore>> ebpf_;
  std::vector<std::unique_ptr<PgMetricStore>> metrics_;
};

TEST_F(PgEbpfAndMetricNodesTest, NodesRacingOnNewEbpfStacksGetOneIdEach) {
  constexpr int kStacks = 40;
  std::vector<absl::Status> results(kNodes);
  std::vector<std::thread> nodes;
  for (int n = 0; n < kNodes; ++n) {
    nodes.emplace_back([&, n] {
      std::vector<model::EbpfSample> samples;
      for (int i = 0; i < kStacks; ++i) {
        const int s = n % 2 == 0 ? i : kStacks - 1 - i;  // each node in its own order
        model::EbpfSample& sample = samples.emplace_back();
        sample.stack = {{"main", model::StackType::kUser},
                        {"f" + std::to_string(s), model::StackType::kKernel}};
        sample.dump_count = s;
      }
      results[n] = ebpf_[n]->AddSamples("sched", kStart + n, samples);
    });
  }
  for (std::thread& node : nodes) node.join();
  for (const absl::Status& status : results) ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Count("SELECT count(*) FROM sh_ebpf_stack"), kStacks);
  // The same frames have the same id on every node: dump count s belongs to stack s everywhere.
  std::vector<uint64_t> id_of(kStacks, 0);
  int samples = 0;
  ASSERT_TRUE(ebpf_[0]
                  ->ScanSamples("sched", kStart, kStart + kNodes,
                                [&](const StoredEbpfSample& s) {
                                  ++samples;
                                  uint64_t& id = id_of[static_cast<size_t>(s.dump_count)];
                                  if (id == 0) id = s.stack_id;
                                  EXPECT_EQ(s.stack_id, id);
                                })
                  .ok());
  EXPECT_EQ(samples, kNodes * kStacks);
  auto stack = ebpf_[kNodes - 1]->GetStack(id_of[7]);
  ASSERT_TRUE(stack.ok()) << stack.status();
  ASSERT_EQ(stack->size(), 2u);
  EXPECT_EQ((*stack)[1].name, "f7");
  EXPECT_EQ((*stack)[1].type, model::StackType::kKernel);
}

TEST_F(PgEbpfAndMetricNodesTest, NodesPuttingTheSameNewProcessesInTheirOwnOrderAllSucceed) {
  // What the meter intake does when reports name virtual processes: every node upserts the
  // same new processes at once, each in the order its report names them.
  constexpr int kRounds = 20;
  constexpr int kProcesses = 30;
  std::vector<absl::Status> results(kNodes, absl::OkStatus());
  std::vector<std::thread> nodes;
  for (int n = 0; n < kNodes; ++n) {
    nodes.emplace_back([&, n] {
      for (int round = 0; round < kRounds && results[n].ok(); ++round) {
        std::vector<model::Process> processes;
        for (int i = 0; i < kProcesses; ++i) {
          constexpr int kCoprime[] = {1, 29, 7, 23};  // to kProcesses: a permutation per node
          const int p = (i * kCoprime[n % 4] + n) % kProcesses;
          model::Process& process = processes.emplace_back();
          process.id = "round" + std::to_string(round) + "-process" + std::to_string(p);
          process.name = "UNKNOWN_REMOTE";
          process.last_ping_ms = kStart + n;
        }
        results[n] = ebpf_[n]->PutProcesses(processes);
      }
    });
  }
  for (std::thread& node : nodes) node.join();
  for (const absl::Status& status : results) EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(Count("SELECT count(*) FROM sh_ebpf_process"), kRounds * kProcesses);
}

TEST_F(PgEbpfAndMetricNodesTest, NodesGivingANewTaskTheSameIdAtOnceStoreOne) {
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<absl::StatusOr<bool>> results(kNodes);
    std::vector<std::thread> nodes;
    for (int n = 0; n < kNodes; ++n) {
      nodes.emplace_back([&, n] {
        model::EbpfTask task;
        task.logical_id = "task-" + std::to_string(round);
        task.service_id = "svc";
        task.create_time_ms = kStart + n;
        results[n] = ebpf_[n]->PutNewTask(task);
      });
    }
    for (std::thread& node : nodes) node.join();
    int stored = 0;
    for (const auto& r : results) {
      ASSERT_TRUE(r.ok()) << r.status();
      stored += *r ? 1 : 0;
    }
    EXPECT_EQ(stored, 1) << "round " << round;
  }
  EXPECT_EQ(Count("SELECT count(*) FROM sh_ebpf_task"), kRounds);
}

TEST_F(PgEbpfAndMetricNodesTest, MetricRowsWrittenByNodesAtOnceAddUpExactly) {
  constexpr int kCalls = 30;
  const metrics::MetricDefinition* cpm = metrics::FindMetric("process_relation_client_write_cpm");
  const metrics::MetricDefinition* rtt =
      metrics::FindMetric("process_relation_client_write_rtt_time_percentile");
  ASSERT_NE(cpm, nullptr);
  ASSERT_NE(rtt, nullptr);
  const int64_t minute = kStart - kStart % 60'000;
  std::vector<absl::Status> results(kNodes, absl::OkStatus());
  std::vector<std::thread> nodes;
  for (int n = 0; n < kNodes; ++n) {
    nodes.emplace_back([&, n] {
      for (int c = 0; c < kCalls && results[n].ok(); ++c) {
        std::vector<metrics::MetricUpdate> updates;
        for (int e = 0; e < 10; ++e) {
          // Each node names the entities in its own order.
          const int entity = n % 2 == 0 ? e : 9 - e;
          metrics::MetricUpdate& u = updates.emplace_back();
          u.metric = cpm;
          u.entity_id = "c-s" + std::to_string(entity);
          u.minute_ms = minute;
          u.delta.sum = 1;
          metrics::MetricUpdate& h = updates.emplace_back();
          h.metric = rtt;
          h.entity_id = "c-s" + std::to_string(entity);
          h.minute_ms = minute;
          h.delta.buckets = {{0, 1}, {100, 2}};
        }
        results[n] = metrics_[n]->AddMetrics(updates);
      }
    });
  }
  for (std::thread& node : nodes) node.join();
  for (const absl::Status& status : results) ASSERT_TRUE(status.ok()) << status;
  auto expect_totals = [&](const std::string& when) {
    for (int e = 0; e < 10; ++e) {
      const std::string entity = "c-s" + std::to_string(e);
      auto rows = metrics_[e % kNodes]->ReadRows(
          *cpm, entity, {metrics::Step::kHour, {minute - minute % 3600'000}});
      ASSERT_TRUE(rows.ok()) << rows.status();
      ASSERT_EQ(rows->size(), 1u);
      ASSERT_TRUE((*rows)[0].rows[0].has_value());
      EXPECT_EQ((*rows)[0].rows[0]->sum, kNodes * kCalls) << entity << " " << when;
      auto hist = metrics_[e % kNodes]->ReadRows(*rtt, entity, {metrics::Step::kMinute, {minute}});
      ASSERT_TRUE(hist.ok()) << hist.status();
      ASSERT_EQ(hist->size(), 1u);
      ASSERT_TRUE((*hist)[0].rows[0].has_value());
      EXPECT_EQ((*hist)[0].rows[0]->buckets,
                (metrics::BucketCounts{{0, kNodes * kCalls}, {100, 2 * kNodes * kCalls}}))
          << entity << " " << when;
    }
  };
  // Still in the nodes' intake logs (one minute, never closed), then folded by every node into
  // the same rows at once: the histograms' buckets add up in the database.
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric"), 0);
  expect_totals("before the folds");
  nodes.clear();
  for (int n = 0; n < kNodes; ++n) {
    nodes.emplace_back([&, n] { results[n] = metrics_[n]->FoldAll(); });
  }
  for (std::thread& node : nodes) node.join();
  for (const absl::Status& status : results) ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric_intake"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric"), 2 * 10 * 3);
  expect_totals("after the folds");
}

metrics::MetricUpdate Cpm(int64_t minute_ms, int64_t sum, const std::string& entity = "c-s") {
  metrics::MetricUpdate u;
  u.metric = metrics::FindMetric("process_relation_client_write_cpm");
  u.entity_id = entity;
  u.minute_ms = minute_ms;
  u.delta.sum = sum;
  return u;
}

// The cpm of `entity` in `minute` and in its hour, as `store` reads them (-1: no row).
std::pair<int64_t, int64_t> MinuteAndHour(PgMetricStore& store, int64_t minute,
                                          const std::string& entity = "c-s") {
  const metrics::MetricDefinition* cpm = metrics::FindMetric("process_relation_client_write_cpm");
  auto value = [&](metrics::Step step, int64_t bucket) -> int64_t {
    auto rows = store.ReadRows(*cpm, entity, {step, {bucket}});
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok() || rows->empty() || !(*rows)[0].rows[0]) return -1;
    return (*rows)[0].rows[0]->sum;
  };
  return {value(metrics::Step::kMinute, minute),
          value(metrics::Step::kHour, minute - minute % 3600'000)};
}

TEST_F(PgEbpfAndMetricNodesTest, MeterUpdatesAreFoldedOnceTheirMinuteClosedAndReadAlikeMeanwhile) {
  const int64_t minute = kStart - kStart % 3600'000 + 10 * 60'000;  // hh:10
  ASSERT_TRUE(metrics_[0]->AddMetrics({Cpm(minute, 5), Cpm(minute, 2, "other")}).ok());
  ASSERT_TRUE(metrics_[0]->AddMetrics({Cpm(minute, 7)}).ok());
  // Three intake records (one per call and entity), nothing folded; every node reads them.
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric_intake"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric"), 0);
  EXPECT_EQ(metrics_[0]->pending_log_records(), 3u);
  EXPECT_EQ(metrics_[0]->pending_rows(), 2u);
  for (const auto& node : metrics_)
    EXPECT_EQ(MinuteAndHour(*node, minute), std::make_pair(12L, 12L));
  // The next minute closes nothing (a late report of hh:10 may still come); the one after
  // folds hh:10 into one minute, hour and day row per entity, in one transaction with the
  // deletion of its records.
  ASSERT_TRUE(metrics_[0]->AddMetrics({Cpm(minute + 60'000, 1)}).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric"), 0);
  ASSERT_TRUE(metrics_[0]->AddMetrics({Cpm(minute + 2 * 60'000, 3)}).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric"), 2 * 3);
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric_intake"), 2);
  EXPECT_EQ(metrics_[0]->pending_log_records(), 2u);
  // A late report of the folded minute, through another node, adds to its rows.
  ASSERT_TRUE(metrics_[1]->AddMetrics({Cpm(minute, 100)}).ok());
  for (const auto& node : metrics_) {
    EXPECT_EQ(MinuteAndHour(*node, minute), std::make_pair(112L, 116L));
    EXPECT_EQ(MinuteAndHour(*node, minute + 2 * 60'000), std::make_pair(3L, 116L));
    EXPECT_EQ(MinuteAndHour(*node, minute, "other"), std::make_pair(2L, 2L));
  }
  ASSERT_TRUE(metrics_[1]->FoldAll().ok());
  ASSERT_TRUE(metrics_[0]->FoldAll().ok());
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric_intake"), 0);
  EXPECT_EQ(metrics_[0]->pending_rows(), 0u);
  for (const auto& node : metrics_) {
    EXPECT_EQ(MinuteAndHour(*node, minute), std::make_pair(112L, 116L));
    EXPECT_EQ(MinuteAndHour(*node, minute + 60'000), std::make_pair(1L, 116L));
  }
}

TEST_F(PgEbpfAndMetricNodesTest, ANodeReportedToEvery5SecondsFoldsEachMinuteOnceItClosed) {
  PgMetricStore& node = *metrics_[0];
  const int64_t hour = kStart - kStart % 3600'000;
  // Six minutes of reports 5 s apart, stamped with the (simulated) time they are sent.
  for (int i = 0; i < 72; ++i) {
    const int64_t now = clock_.NowMillis();
    ASSERT_TRUE(node.AddMetrics({Cpm(now - now % 60'000, 1)}).ok());
    // The current minute and the one before it stay pending (a report is never folded on its
    // own); older ones are folded.
    EXPECT_GE(node.pending_log_records(), 1u) << "report " << i;
    EXPECT_LE(node.pending_log_records(), 24u) << "report " << i;
    clock_.AdvanceMillis(5'000);
  }
  EXPECT_LE(Count("SELECT count(*) FROM sh_metric_intake"), 24);
  EXPECT_GE(Count("SELECT count(*) FROM sh_metric WHERE step = 1"), 4);
  EXPECT_EQ(MinuteAndHour(*metrics_[1], hour).second, 72);
}

TEST_F(PgEbpfAndMetricNodesTest, RecordsSweptFromASlowOrDeadNodeAreCountedOnce) {
  const int64_t minute = kStart - kStart % 3600'000 + 10 * 60'000;
  PgMetricStore& slow = *metrics_[0];
  PgMetricStore& sweeper = *metrics_[1];
  ASSERT_TRUE(slow.AddMetrics({Cpm(minute, 5)}).ok());
  ASSERT_TRUE(slow.AddMetrics({Cpm(minute, 7)}).ok());
  // Younger than the orphan age: left to their node.
  ASSERT_TRUE(sweeper.SweepOrphans().ok());
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric_intake"), 2);
  // Their node folds nothing for six minutes (stalled, or dead): another node's sweep folds
  // them, and does not take its own.
  clock_.AdvanceMillis(6 * 60'000);
  ASSERT_TRUE(sweeper.AddMetrics({Cpm(minute, 1000, "held-by-the-sweeper")}).ok());
  ASSERT_TRUE(sweeper.SweepOrphans(0).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric_intake"), 1);
  EXPECT_EQ(sweeper.pending_log_records(), 1u);
  EXPECT_EQ(MinuteAndHour(sweeper, minute), std::make_pair(12L, 12L));
  // The slow node wakes up with a third report: it has held rows for over two minutes, so it
  // folds them all, finds two of its records gone, and folds only the one left.
  ASSERT_TRUE(slow.AddMetrics({Cpm(minute, 1)}).ok());
  EXPECT_EQ(slow.pending_log_records(), 0u);
  EXPECT_EQ(Count("SELECT count(*) FROM sh_metric_intake WHERE entity = 'c-s'"), 0);
  for (const auto& node : metrics_)
    EXPECT_EQ(MinuteAndHour(*node, minute), std::make_pair(13L, 13L));
}

TEST_F(PgEbpfAndMetricNodesTest, AnExpiredRowWrittenAgainStartsAfresh) {
  StoreOptions hour_ttl;
  hour_ttl.metrics_ttl_ms = 3600'000;
  PgMetricStore store(pools_[1].get(), &clock_, hour_ttl, absl::UTCTimeZone());
  const metrics::MetricDefinition* cpm = metrics::FindMetric("process_relation_client_write_cpm");
  const int64_t minute = kStart - kStart % 60'000;  // 2023-11-14 22:13 UTC
  const int64_t day = minute - minute % (24LL * 3600'000);
  metrics::MetricUpdate u;
  u.metric = cpm;
  u.entity_id = "c-s";
  u.minute_ms = minute;
  u.delta.sum = 5;
  ASSERT_TRUE(store.AddMetrics({u}).ok());
  // Two hours later the day row (stamped 22:13) has expired; a report of 23:50, still live,
  // starts it afresh instead of adding to it.
  clock_.AdvanceMillis(2 * 3600'000);
  u.minute_ms = minute + 97 * 60'000;
  u.delta.sum = 2;
  ASSERT_TRUE(store.AddMetrics({u}).ok());
  auto rows = store.ReadRows(*cpm, "c-s", {metrics::Step::kDay, {day}});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  ASSERT_TRUE((*rows)[0].rows[0].has_value());
  EXPECT_EQ((*rows)[0].rows[0]->sum, 2);
}

// Not a test: prints a rough figure of eBPF sample-block ingest into PostgreSQL on this machine
// (run with --gtest_also_run_disabled_tests). No assertion on time.
TEST_F(PgEbpfAndMetricNodesTest, DISABLED_PrintsTheEbpfIngestRate) {
  constexpr int kStacks = 200;
  constexpr int kBlocks = 2000;
  constexpr int kBlock = 500;  // samples per upload
  std::vector<std::vector<std::string>> frames(kStacks);
  std::vector<PendingStack> pending;
  for (int i = 0; i < kStacks; ++i) {
    for (int f = 0; f < 20; ++f) frames[i].push_back("ufunction_" + std::to_string(i * 7 + f));
    pending.push_back({StackHasher::Of(frames[i]), &frames[i]});
  }
  auto ids = ebpf_[0]->ResolveStacks(pending);
  ASSERT_TRUE(ids.ok()) << ids.status();
  std::vector<std::thread> nodes;
  std::vector<absl::Status> results(kNodes, absl::OkStatus());
  const auto start = std::chrono::steady_clock::now();
  for (int n = 0; n < kNodes; ++n) {
    nodes.emplace_back([&, n] {
      std::vector<StoredEbpfSample> block(kBlock);
      for (int b = n; b < kBlocks && results[n].ok(); b += kNodes) {
        for (int i = 0; i < kBlock; ++i) {
          block[i] = {0, (*ids)[(b + i) % kStacks], model::EbpfTargetType::kOnCpu, 1 + i % 3, 0, 0};
        }
        results[n] = ebpf_[n]->AddSampleBlock("sched-" + std::to_string(b % 8), kStart + b, block);
      }
    });
  }
  for (std::thread& node : nodes) node.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const absl::Status& status : results) ASSERT_TRUE(status.ok()) << status;
  auto bytes = pools_[0]->Exec("SELECT pg_total_relation_size('sh_ebpf_block')");
  ASSERT_TRUE(bytes.ok());
  std::printf(
      "%d blocks of %d samples over %d connections: %.0f blocks/s, %.0f samples/s; "
      "%.1f bytes per sample (table + TOAST + index)\n",
      kBlocks, kBlock, kNodes, kBlocks / seconds, kBlocks * kBlock / seconds,
      static_cast<double>(bytes->Int64(0, 0)) / (kBlocks * kBlock));
}

}  // namespace
}  // namespace stackhouse::storage::pg
