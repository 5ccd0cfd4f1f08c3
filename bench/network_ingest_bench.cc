// The ingest cost of a network-profiling task (issue 13's goal: at most 10 % of one core): one
// instance with 50 processes in a chain (each a client of the next), each a client of 40 remote
// addresses (2,000 peers) and served by a local peer, reporting Rover's network meters
// (RoverMeterModel: rover_net_p_* counters and histograms per connection, HTTP/1.x meters on
// the HTTP ones) every 2 s. Each iteration is one report round of the 50 processes: their
// MeterDataCollections turned into data sets as the receiver does, then service::MeterService::
// Ingest (analysis, virtual peers, the intake log, relation rows, the fold of closed minutes)
// into a RocksDB in a temporary directory, the simulated clock moving 2 s per round. The
// counter `core_share` is the process's CPU time (every thread: RocksDB's flushes and
// compactions included; the time spent generating Rover's reports taken out) over the simulated
// time the rounds cover; wall times include the generation. Not included: gRPC and the
// protobuf parse of the messages (see the meter intake figures of docs/performance.md).
//
//   build/bench/network_ingest_bench --benchmark_min_time=60
#include <sys/resource.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "meter_data_set.h"
#include "pod_stores.h"
#include "service/meter_service.h"
#include "simulator/rover_meters.h"

namespace stackhouse {
namespace {

constexpr int64_t kStart = 1'767'225'600'000;  // 2026-01-01 00:00 UTC
constexpr int kProcesses = 50;
constexpr int kRemotePerProcess = 40;  // 2,000 remote peers
constexpr int64_t kReportIntervalMs = 2'000;

// CPU seconds of the process (RUSAGE_SELF) or of the calling thread (RUSAGE_THREAD).
double CpuSeconds(int who) {
  rusage usage{};
  getrusage(who, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Fixture {
  Fixture() : pod("network-ingest-bench", kStart, kProcesses) {
    meters = std::make_unique<service::MeterService>(pod.metric_store.get(), pod.ebpf.get(),
                                                     pod.metadata.get(), &pod.clock);
    for (int p = 0; p < kProcesses; ++p) {
      processes.push_back({static_cast<uint64_t>(p), pod.ids[static_cast<size_t>(p)],
                           bench::PodStores::kService, bench::PodStores::kInstance,
                           absl::StrCat("proc-", p), "K8S_SERVICE"});
    }
  }
  ~Fixture() { meters.reset(); }

  bench::PodStores pod;
  std::unique_ptr<service::MeterService> meters;
  std::vector<sim::MeterProcess> processes;
};

void BM_NetworkTaskReportRound(benchmark::State& state) {
  Fixture f;
  const sim::RoverMeterModel model(7, kReportIntervalMs, {}, {kRemotePerProcess, true});
  int64_t round = 0;
  int64_t samples = 0;
  int64_t updates = 0;
  double generating = 0;  // CPU seconds spent playing Rover, not counted
  const double cpu_before = CpuSeconds(RUSAGE_SELF);
  for (auto _ : state) {
    const int64_t now = kStart + round * kReportIntervalMs;
    f.pod.clock.SetMillis(now);
    for (size_t p = 0; p < f.processes.size(); ++p) {
      const double generating_from = CpuSeconds(RUSAGE_THREAD);
      const skywalking::v3::MeterDataCollection report = model.Report(f.processes, p, round, now);
      generating += CpuSeconds(RUSAGE_THREAD) - generating_from;
      model::MeterDataSet set = bench::MeterDataSetOf(report);
      auto stats = f.meters->Ingest(set);
      if (!stats.ok()) {
        state.SkipWithError(std::string(stats.status().message()).c_str());
        return;
      }
      samples += stats->samples;
      updates += stats->updates;
    }
    ++round;
  }
  const double cpu = CpuSeconds(RUSAGE_SELF) - cpu_before - generating;
  const double simulated_s = static_cast<double>(round * kReportIntervalMs) / 1000.0;
  state.counters["core_share"] = cpu / simulated_s;
  state.counters["samples_per_round"] = static_cast<double>(samples) / static_cast<double>(round);
  state.counters["updates_per_round"] = static_cast<double>(updates) / static_cast<double>(round);
  state.counters["cpu_us_per_sample"] = cpu * 1e6 / static_cast<double>(samples);
  state.SetItemsProcessed(samples);
}
BENCHMARK(BM_NetworkTaskReportRound)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace stackhouse

BENCHMARK_MAIN();
