// Retention on PostgreSQL (issue 16): what freeing an expired day of eBPF sample blocks costs
// when the keeper drops its partition, against the DELETE a table without partitions would need
// (and the VACUUM that only then gives the space back), and what a keeper pass costs when it
// has nothing to do (every node runs one every 10 minutes). A throw-away cluster on this
// machine (fsync off); results in docs/performance.md.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "storage/pg/pg_partitions.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/pg_schema.h"
#include "storage/pg/throwaway_cluster.h"

namespace stackhouse {
namespace {

using storage::pg::kPartitionMs;

constexpr int64_t kDay0 = 1764720000000;  // 2025-12-03 00:00 UTC

struct Fixture {
  std::unique_ptr<storage::pg::testing::ThrowawayCluster> cluster;
  std::unique_ptr<storage::pg::Pool> pool;
};

Fixture* Shared() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    auto cluster = storage::pg::testing::ThrowawayCluster::Start();
    if (!cluster.ok()) {
      std::fprintf(stderr, "%s\n", std::string(cluster.status().message()).c_str());
      return f;
    }
    f->cluster = std::move(*cluster);
    return f;
  }();
  return fixture;
}

// A fresh database with the schema, or an error the benchmark reports.
absl::Status NewDatabase(Fixture* f) {
  if (f->cluster == nullptr) return absl::FailedPreconditionError("no PostgreSQL cluster");
  f->pool.reset();
  storage::pg::PoolOptions options;
  auto conninfo = f->cluster->CreateDatabase();
  if (!conninfo.ok()) return conninfo.status();
  options.conninfo = *conninfo;
  options.size = 2;
  auto pool = storage::pg::Pool::Create(options);
  if (!pool.ok()) return pool.status();
  f->pool = std::move(*pool);
  return storage::pg::MigrateSchema(*f->pool).status();
}

// `blocks` sample blocks of 900 bytes (about 90 samples each) spread over day kDay0.
absl::Status FillDay(storage::pg::Pool& pool, int64_t blocks) {
  return pool
      .Exec(absl::StrCat("INSERT INTO sh_ebpf_block (schedule_id, upload_time_ms, target_type, "
                         "sample_count, samples) SELECT 's' || (g % 64), ",
                         kDay0, " + g::bigint * 86400000 / ", blocks,
                         ", 1, 90, decode(repeat(md5(g::text), 56), 'hex') "
                         "FROM generate_series(0, ",
                         blocks - 1, ") g"))
      .status();
}

storage::pg::PartitionKeeperOptions KeeperOptions() {
  storage::pg::PartitionKeeperOptions options;
  options.ttl.record_ttl_ms = 3 * kPartitionMs;
  options.ttl.metrics_ttl_ms = 7 * kPartitionMs;
  return options;
}

// The keeper pass that drops the expired day (and creates the next one).
void BM_PgRetentionDropDay(benchmark::State& state) {
  Fixture* f = Shared();
  const int64_t blocks = state.range(0);
  for (auto _ : state) {
    state.PauseTiming();
    SimulatedClock clock(kDay0 + kPartitionMs / 2);
    absl::Status ready = NewDatabase(f);
    std::unique_ptr<storage::pg::PartitionKeeper> live;
    if (ready.ok()) {
      live = std::make_unique<storage::pg::PartitionKeeper>(f->pool.get(), &clock, KeeperOptions());
      if (auto report = live->RunOnce(); !report.failures.empty()) {
        ready = absl::InternalError(report.failures[0]);
      }
    }
    if (ready.ok()) ready = FillDay(*f->pool, blocks);
    if (!ready.ok()) {
      state.SkipWithError(std::string(ready.message()).c_str());
      break;
    }
    clock.SetMillis(kDay0 + 4 * kPartitionMs + 1);  // the whole day has expired
    state.ResumeTiming();
    storage::pg::PartitionReport report = live->RunOnce();
    state.PauseTiming();
    if (!report.failures.empty() || report.dropped == 0) {
      state.SkipWithError("the keeper dropped nothing");
      break;
    }
    state.ResumeTiming();
  }
  state.counters["blocks"] = static_cast<double>(blocks);
}
BENCHMARK(BM_PgRetentionDropDay)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond);

// What the same day costs a table without partitions: DELETE of its rows, then the VACUUM
// that lets their space be reused.
void BM_PgRetentionDeleteDay(benchmark::State& state) {
  Fixture* f = Shared();
  const int64_t blocks = state.range(0);
  for (auto _ : state) {
    state.PauseTiming();
    absl::Status ready = NewDatabase(f);
    if (ready.ok()) ready = FillDay(*f->pool, blocks);
    if (!ready.ok()) {
      state.SkipWithError(std::string(ready.message()).c_str());
      break;
    }
    state.ResumeTiming();
    absl::Status deleted =
        f->pool
            ->Exec(absl::StrCat("DELETE FROM sh_ebpf_block WHERE upload_time_ms < ",
                                kDay0 + kPartitionMs))
            .status();
    if (deleted.ok()) {
      auto conn = f->pool->Acquire();
      deleted = conn.ok() ? (*conn)->ExecScript("VACUUM sh_ebpf_block") : conn.status();
    }
    if (!deleted.ok()) {
      state.SkipWithError(std::string(deleted.message()).c_str());
      break;
    }
  }
  state.counters["blocks"] = static_cast<double>(blocks);
}
BENCHMARK(BM_PgRetentionDeleteDay)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond);

// A pass with nothing to create, drop or delete (every table checked).
void BM_PgPartitionKeeperIdlePass(benchmark::State& state) {
  Fixture* f = Shared();
  absl::Status ready = NewDatabase(f);
  if (!ready.ok()) {
    state.SkipWithError(std::string(ready.message()).c_str());
    return;
  }
  SimulatedClock clock(kDay0);
  storage::pg::PartitionKeeper keeper(f->pool.get(), &clock, KeeperOptions());
  keeper.RunOnce();
  for (auto _ : state) {
    storage::pg::PartitionReport report = keeper.RunOnce();
    if (report.created != 0 || !report.failures.empty()) {
      state.SkipWithError("the pass was not idle");
      break;
    }
  }
}
BENCHMARK(BM_PgPartitionKeeperIdlePass)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace stackhouse

BENCHMARK_MAIN();
