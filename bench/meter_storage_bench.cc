// meter_storage_bench: the disk that Rover's meters take. Plays --pods mesh pods (an application
// and its Envoy each, as `stackhouse-sim rover` reports them: RoverMeterModel) reporting every
// 5 s for --minutes of simulated time, written below the receiver as service::MeterService does
// (metrics::AnalyzeDataSet, then RocksMetricStore::AddMetrics and AddRelations) into a fresh
// RocksDB in a temporary directory; then flushes, compacts and prints the data directory's size
// before and after, the rows' key count and the write rate. 200 pods are 1,000 process
// relations (per pod: app → Envoy, UNKNOWN_LOCAL → app, UNKNOWN_LOCAL → Envoy, app →
// UNKNOWN_REMOTE, Envoy → UNKNOWN_REMOTE).
//
//   build/bench/meter_storage_bench [--pods 200] [--minutes 60] [--seed 1] [--keep]
//
// Reports of 12 rounds (one minute) are generated once and replayed with the time moved on.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "meter_data_set.h"
#include "metrics/meter_analyzer.h"
#include "simulator/rover_meters.h"
#include "storage/database.h"
#include "storage/rocks_metric_store.h"

namespace {

using stackhouse::sim::MeterProcess;

constexpr int64_t kStart = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kInterval = 5'000;
constexpr int kRounds = 12;

uint64_t DirectoryBytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

std::string Mb(uint64_t bytes) { return absl::StrFormat("%.2f MB", bytes / 1e6); }

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "meter_storage_bench: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int pods = 200;
  int minutes = 60;
  uint64_t seed = 1;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--pods" && i + 1 < argc) {
      pods = std::atoi(argv[++i]);
    } else if (arg == "--minutes" && i + 1 < argc) {
      minutes = std::atoi(argv[++i]);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--keep") {
      keep = true;
    } else {
      std::fprintf(stderr,
                   "usage: meter_storage_bench [--pods N] [--minutes M] [--seed S] [--keep]\n");
      return 2;
    }
  }
  if (pods < 1 || minutes < 1) {
    std::fputs("meter_storage_bench: --pods and --minutes must be >= 1\n", stderr);
    return 2;
  }

  std::vector<MeterProcess> processes;
  for (int j = 0; j < pods; ++j) {
    const std::string pod = absl::StrCat("reviews-v1-7d9f8b6c5-", j);
    for (int k = 0; k < 2; ++k) {
      const uint64_t key = static_cast<uint64_t>(2 * j + k);
      processes.push_back({key, stackhouse::bench::RandomLookingId(key), "reviews.default", pod,
                           k == 0 ? "java" : "envoy", k == 0 ? "MESH" : "MESH_DP"});
    }
  }
  const stackhouse::sim::RoverMeterModel model(seed, kInterval);
  std::vector<std::vector<stackhouse::model::MeterDataSet>> rounds(kRounds);
  int64_t samples_per_minute = 0;
  for (int r = 0; r < kRounds; ++r) {
    for (size_t p = 0; p < processes.size(); ++p) {
      rounds[r].push_back(stackhouse::bench::MeterDataSetOf(model.Report(processes, p, r, 0)));
      samples_per_minute += static_cast<int64_t>(rounds[r].back().samples.size());
    }
  }

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("stackhouse-meter-storage-", getpid());
  std::filesystem::remove_all(dir);
  stackhouse::SimulatedClock clock(kStart);
  stackhouse::storage::DatabaseOptions options;
  options.data_dir = dir.string();
  auto db = stackhouse::storage::Database::Open(options, &clock);
  if (!db.ok()) return Fail(db.status());
  auto opened = stackhouse::storage::RocksMetricStore::Open(db->get(), absl::UTCTimeZone());
  if (!opened.ok()) return Fail(opened.status());
  stackhouse::storage::RocksMetricStore& store = **opened;

  absl::flat_hash_set<std::string> relations;
  int64_t updates = 0;
  const absl::Time start = absl::Now();
  for (int64_t r = 0; r < static_cast<int64_t>(minutes) * kRounds; ++r) {
    const int64_t report_ms = kStart + r * kInterval;
    clock.SetMillis(report_ms + 200);
    for (auto& set : rounds[static_cast<size_t>(r % kRounds)]) {
      set.timestamp_ms = report_ms;
      stackhouse::metrics::AnalyzedDataSet analyzed =
          stackhouse::metrics::AnalyzeDataSet(set, clock.NowMillis());
      if (r < kRounds) {
        for (const auto& u : analyzed.updates) {
          if (u.metric->scope == stackhouse::metrics::MetricScope::kProcessRelation) {
            relations.insert(u.entity_id);
          }
        }
      }
      updates += static_cast<int64_t>(analyzed.updates.size());
      if (absl::Status s = store.AddMetrics(analyzed.updates); !s.ok()) return Fail(s);
      if (absl::Status s = store.AddRelations(analyzed.relations); !s.ok()) return Fail(s);
    }
  }
  // The last minutes are still pending (in the intake log): fold them as a later report would.
  if (absl::Status s = store.FoldAll(); !s.ok()) return Fail(s);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (absl::Status s = (*db)->Flush(); !s.ok()) return Fail(s);
  const uint64_t flushed = DirectoryBytes(dir);
  if (absl::Status s = (*db)->CompactAll(); !s.ok()) return Fail(s);
  const uint64_t compacted = DirectoryBytes(dir);
  uint64_t keys = 0, sst = 0;
  for (const auto& family : (*db)->Stats()) {
    keys += family.estimated_keys;
    sst += family.sst_file_bytes;
  }
  opened->reset();
  db->reset();
  const uint64_t closed = DirectoryBytes(dir);

  const int64_t samples = samples_per_minute * minutes;
  std::printf(
      "pods=%d processes=%zu relations=%zu minutes=%d data_sets=%lld samples=%lld "
      "updates=%lld write_seconds=%.1f samples/s=%.0f\n"
      "data directory: %s after flush, %s after compaction (SST files %s, ~%llu keys), "
      "%s after close\n",
      pods, processes.size(), relations.size(), minutes,
      static_cast<long long>(processes.size()) * minutes * kRounds, static_cast<long long>(samples),
      static_cast<long long>(updates), seconds, samples / seconds, Mb(flushed).c_str(),
      Mb(compacted).c_str(), Mb(sst).c_str(), static_cast<unsigned long long>(keys),
      Mb(closed).c_str());
  if (keep) {
    std::printf("kept %s\n", dir.c_str());
  } else {
    std::filesystem::remove_all(dir);
  }
  return 0;
}
