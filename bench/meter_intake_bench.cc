// The meter intake path below the receiver, per data set of one process as Rover reports it
// every 5 s (RoverMeterModel: about 100 samples of a mesh application, its continuous and
// network meters): metrics::AnalyzeDataSet alone, and analyze + RocksMetricStore::AddMetrics and
// AddRelations into a RocksDB in a temporary directory (the time moving 5 s per data set).
// Items are samples.
//
//   build/bench/meter_intake_bench --benchmark_min_time=1
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "meter_data_set.h"
#include "metrics/meter_analyzer.h"
#include "simulator/rover_meters.h"
#include "storage/database.h"
#include "storage/rocks_metric_store.h"

namespace stackhouse {
namespace {

constexpr int64_t kStart = 1'767'225'600'000;
constexpr int kPods = 50;

// Reports of kPods mesh pods' applications and Envoys, one round each.
const std::vector<model::MeterDataSet>& DataSets() {
  static const auto* sets = [] {
    std::vector<sim::MeterProcess> processes;
    for (int j = 0; j < kPods; ++j) {
      for (int k = 0; k < 2; ++k) {
        const uint64_t key = static_cast<uint64_t>(2 * j + k);
        processes.push_back({key, bench::RandomLookingId(key), "reviews.default",
                             absl::StrCat("reviews-", j), k == 0 ? "java" : "envoy",
                             k == 0 ? "MESH" : "MESH_DP"});
      }
    }
    sim::RoverMeterModel model(1, 5000);
    auto* out = new std::vector<model::MeterDataSet>();
    for (size_t p = 0; p < processes.size(); ++p) {
      out->push_back(bench::MeterDataSetOf(model.Report(processes, p, 0, kStart)));
    }
    return out;
  }();
  return *sets;
}

void BM_AnalyzeDataSet(benchmark::State& state) {
  const auto& sets = DataSets();
  size_t i = 0;
  int64_t samples = 0;
  for (auto _ : state) {
    const model::MeterDataSet& set = sets[i++ % sets.size()];
    benchmark::DoNotOptimize(metrics::AnalyzeDataSet(set, kStart + 1000));
    samples += static_cast<int64_t>(set.samples.size());
  }
  state.SetItemsProcessed(samples);
}
BENCHMARK(BM_AnalyzeDataSet);

void BM_AnalyzeAndStore(benchmark::State& state) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("stackhouse-meter-intake-", getpid());
  std::filesystem::remove_all(dir);
  SimulatedClock clock(kStart);
  storage::DatabaseOptions options;
  options.data_dir = dir.string();
  auto db = storage::Database::Open(options, &clock);
  if (!db.ok()) {
    state.SkipWithError(db.status().ToString().c_str());
    return;
  }
  auto opened = storage::RocksMetricStore::Open(db->get(), absl::UTCTimeZone());
  if (!opened.ok()) {
    state.SkipWithError(opened.status().ToString().c_str());
    return;
  }
  storage::RocksMetricStore& store = **opened;
  std::vector<model::MeterDataSet> sets = DataSets();
  size_t i = 0;
  int64_t samples = 0;
  for (auto _ : state) {
    model::MeterDataSet& set = sets[i % sets.size()];
    set.timestamp_ms = kStart + static_cast<int64_t>(i / sets.size()) * 5000;
    ++i;
    metrics::AnalyzedDataSet analyzed = metrics::AnalyzeDataSet(set, set.timestamp_ms + 200);
    if (!store.AddMetrics(analyzed.updates).ok() || !store.AddRelations(analyzed.relations).ok()) {
      state.SkipWithError("write failed");
      break;
    }
    samples += static_cast<int64_t>(set.samples.size());
  }
  state.SetItemsProcessed(samples);
  opened->reset();
  db->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AnalyzeAndStore)->UseRealTime();

}  // namespace
}  // namespace stackhouse

BENCHMARK_MAIN();
