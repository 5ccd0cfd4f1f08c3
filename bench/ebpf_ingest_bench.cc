// The eBPF ingest path below the receiver, shared by 1–8 threads (one per collectProfilingData
// stream) over one real RocksDB in a temporary directory: each iteration is one upload of one
// stream, as EbpfSampleWriter makes it: the stacks new to the stream are resolved through the
// shared stack dictionary (most already known to it from other streams, a few new to it), then
// a block of samples is appended (which retains its stacks).
//
//   build/bench/ebpf_ingest_bench --benchmark_min_time=1
//
// Items are samples; the figure to watch is the aggregate rate as threads are added (the
// dictionary is what the streams share). BM_EbpfIngestAfterRestart: the same with every stack
// stored but not cached, so that the dictionary reads RocksDB for each.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "storage/database.h"
#include "storage/rocks_ebpf_store.h"

namespace stackhouse {
namespace {

constexpr int64_t kStart = 1700000000000;
constexpr int kDepth = 30;
constexpr int kSharedStacks = 2000;     // stacks every stream meets
constexpr int kResolvedPerUpload = 32;  // stacks new to the stream per upload...
constexpr int kNewPerUpload = 2;        // ... of which this many are new to the dictionary
constexpr int kSamplesPerUpload = 1024;

std::vector<std::string> Frames(const std::string& leaf, int salt) {
  std::vector<std::string> frames;
  frames.reserve(kDepth);
  for (int d = 0; d < kDepth - 1; ++d) {
    frames.push_back(
        absl::StrCat("u", "com.example.service.Handler", d % 7, "::process", (salt + d) % 13));
  }
  frames.push_back(absl::StrCat("u", leaf));
  return frames;
}

// One database and store for the whole program (threads share them like streams do).
struct Shared {
  Shared() : clock(kStart) {
    dir = std::filesystem::temp_directory_path() / absl::StrCat("stackhouse-ingest-", getpid());
    std::filesystem::remove_all(dir);
    storage::DatabaseOptions options;
    options.data_dir = dir.string();
    db = std::move(*storage::Database::Open(options, &clock));
    store = std::make_unique<storage::RocksEbpfStore>(db.get(), &clock);
    for (int i = 0; i < kSharedStacks; ++i) shared.push_back(Frames(absl::StrCat("leaf", i), i));
    std::vector<storage::PendingStack> pending;
    for (const auto& frames : shared)
      pending.push_back({storage::StackHasher::Of(frames), &frames});
    (void)store->ResolveStacks(pending);
  }
  ~Shared() {
    store.reset();
    db.reset();
    std::filesystem::remove_all(dir);
  }

  SimulatedClock clock;
  std::filesystem::path dir;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<storage::RocksEbpfStore> store;
  std::vector<std::vector<std::string>> shared;
};

Shared& GetShared() {
  static Shared* shared = new Shared();  // outlives every benchmark thread
  return *shared;
}

void BM_EbpfIngest(benchmark::State& state) {
  Shared& shared = GetShared();
  const int thread = state.thread_index();
  const std::string schedule = absl::StrCat("schedule-", thread);
  uint64_t upload = 0;
  size_t next_shared = static_cast<size_t>(thread) * 97;
  std::vector<std::vector<std::string>> fresh(kNewPerUpload);
  std::vector<storage::PendingStack> pending;
  std::vector<storage::StoredEbpfSample> samples(kSamplesPerUpload);
  for (auto _ : state) {
    ++upload;
    pending.clear();
    for (int i = 0; i < kNewPerUpload; ++i) {
      fresh[i] = Frames(absl::StrCat("new-", state.threads(), "-", thread, "-", upload, "-", i),
                        thread + i);
      pending.push_back({storage::StackHasher::Of(fresh[i]), &fresh[i]});
    }
    for (int i = kNewPerUpload; i < kResolvedPerUpload; ++i) {
      const auto& frames = shared.shared[next_shared++ % shared.shared.size()];
      pending.push_back({storage::StackHasher::Of(frames), &frames});
    }
    auto ids = shared.store->ResolveStacks(pending);
    if (!ids.ok()) {
      state.SkipWithError(std::string(ids.status().message()).c_str());
      break;
    }
    const int64_t now = shared.clock.NowMillis();
    for (int i = 0; i < kSamplesPerUpload; ++i) {
      storage::StoredEbpfSample& s = samples[i];
      s.stack_id = (*ids)[i % ids->size()];
      s.target_type = model::EbpfTargetType::kOnCpu;
      s.dump_count = 1 + i % 5;
    }
    absl::Status added = shared.store->AddSampleBlock(schedule, now, samples);
    if (!added.ok()) {
      state.SkipWithError(std::string(added.message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kSamplesPerUpload);
}
BENCHMARK(BM_EbpfIngest)->ThreadRange(1, 8)->UseRealTime();

// The same uploads after a restart: every stack is stored but not yet in the dictionary's
// caches, so each one is read from RocksDB (what a server meets when its Rovers reconnect).
constexpr int kColdIterations = 200;
constexpr int kColdMaxThreads = 8;
constexpr int kColdDepth = 10;

struct Cold {
  Cold() {
    Shared& shared = GetShared();
    storage::RocksEbpfStore writer(shared.db.get(), &shared.clock);
    const int total = kColdMaxThreads * kColdIterations * kResolvedPerUpload;
    stacks.reserve(total);
    for (int i = 0; i < total; ++i) {
      std::vector<std::string> frames;
      for (int d = 0; d < kColdDepth - 1; ++d) frames.push_back(absl::StrCat("ucold::f", d));
      frames.push_back(absl::StrCat("ucold::leaf", i));
      stacks.push_back(std::move(frames));
    }
    for (int begin = 0; begin < total; begin += 1024) {
      std::vector<storage::PendingStack> pending;
      for (int i = begin; i < std::min(total, begin + 1024); ++i) {
        pending.push_back({storage::StackHasher::Of(stacks[i]), &stacks[i]});
      }
      (void)writer.ResolveStacks(pending);
    }
  }
  std::vector<std::vector<std::string>> stacks;
  std::unique_ptr<storage::RocksEbpfStore> store;  // fresh caches for each run
};

Cold& GetCold() {
  static Cold* cold = new Cold();
  return *cold;
}

void ResetColdStore(const benchmark::State&) {
  Shared& shared = GetShared();
  GetCold().store = std::make_unique<storage::RocksEbpfStore>(shared.db.get(), &shared.clock);
}

void BM_EbpfIngestAfterRestart(benchmark::State& state) {
  Cold& cold = GetCold();
  const int thread = state.thread_index();
  const std::string schedule = absl::StrCat("cold-schedule-", thread);
  size_t next = static_cast<size_t>(thread) * kColdIterations * kResolvedPerUpload;
  std::vector<storage::PendingStack> pending;
  std::vector<storage::StoredEbpfSample> samples(kSamplesPerUpload);
  for (auto _ : state) {
    pending.clear();
    for (int i = 0; i < kResolvedPerUpload; ++i) {
      const auto& frames = cold.stacks[next++];
      pending.push_back({storage::StackHasher::Of(frames), &frames});
    }
    auto ids = cold.store->ResolveStacks(pending);
    if (!ids.ok()) {
      state.SkipWithError(std::string(ids.status().message()).c_str());
      break;
    }
    for (int i = 0; i < kSamplesPerUpload; ++i) {
      samples[i].stack_id = (*ids)[i % ids->size()];
      samples[i].target_type = model::EbpfTargetType::kOnCpu;
      samples[i].dump_count = 1;
    }
    absl::Status added = cold.store->AddSampleBlock(schedule, kStart, samples);
    if (!added.ok()) {
      state.SkipWithError(std::string(added.message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kSamplesPerUpload);
}
BENCHMARK(BM_EbpfIngestAfterRestart)
    ->ThreadRange(1, kColdMaxThreads)
    ->Iterations(kColdIterations)
    ->UseRealTime()
    ->Setup(ResetColdStore);

}  // namespace
}  // namespace stackhouse

int main(int argc, char** argv) {
  // As the server does (src/server/main.cc): Debian's Abseil keeps Mutex deadlock detection on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
