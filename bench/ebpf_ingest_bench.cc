// The eBPF ingest path below the receiver, shared by 1–8 threads (one per collectProfilingData
// stream) over one real RocksDB in a temporary directory: each iteration is one upload of one
// stream, as EbpfSampleWriter makes it: the stacks new to the stream are resolved through the
// shared stack dictionary (most already known to it from other streams, a few new to it), then
// a block of samples is appended (which retains its stacks).
//
//   build/bench/ebpf_ingest_bench --benchmark_min_time=1
//
// Items are samples; the figure to watch is the aggregate rate as threads are added (the
// dictionary is what the streams share).
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

}  // namespace
}  // namespace stackhouse

BENCHMARK_MAIN();
