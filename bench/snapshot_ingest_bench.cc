// The trace-profiling snapshot ingest path below the receiver, shared by 1–4 threads (one per
// collectSnapshot stream) over one real RocksDB in a temporary directory. Each iteration is one
// batch of 256 thread dumps of depth 60 drawn from the stream's 64 stacks (as `stackhouse-sim
// java-load` sends them), starting from the frames as the parsed message holds them:
//
// - BM_SnapshotIngestAddSnapshots: what the receiver did before issue 15 goal 3: each dump's
//   frames copied into a model::ThreadSnapshot, the batch stored with AddSnapshots (every
//   stack fingerprinted, hashed again with the seeded check and looked up in the shared
//   dictionary).
// - BM_SnapshotIngestWriter: what it does now: each stack fingerprinted from the frames and
//   looked up in the stream's SnapshotWriter; frames copied only for a stack new to the stream.
//
//   build/bench/snapshot_ingest_bench --benchmark_min_time=1
//
// Items are dumps; the aggregate rate over all threads (wall clock).
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "storage/database.h"
#include "storage/rocks_profile_store.h"
#include "storage/snapshot_writer.h"

namespace stackhouse {
namespace {

constexpr int64_t kStart = 1700000000000;
constexpr int kDepth = 60;
constexpr int kStacksPerStream = 64;
constexpr int kBatch = 256;
constexpr int kSegments = 64;

// One database and store for the whole program (threads share them like streams do).
struct Shared {
  Shared() : clock(kStart) {
    dir = std::filesystem::temp_directory_path() / absl::StrCat("stackhouse-snapshots-", getpid());
    std::filesystem::remove_all(dir);
    storage::DatabaseOptions options;
    options.data_dir = dir.string();
    db = std::move(*storage::Database::Open(options, &clock));
    store = std::make_unique<storage::RocksProfileStore>(db.get(), &clock);
    for (int s = 0; s < kSegments; ++s) segments.push_back(absl::StrCat("seg-", s, ".31.17000"));
  }
  ~Shared() {
    store.reset();
    db.reset();
    std::filesystem::remove_all(dir);
  }
  SimulatedClock clock;
  std::filesystem::path dir;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<storage::RocksProfileStore> store;
  std::vector<std::string> segments;
};

Shared& GetShared() {
  static Shared* shared = new Shared();
  return *shared;
}

// Stream `thread`'s stacks: Java frames of ~70 bytes, a shared prefix, distinct leaves.
std::vector<std::vector<std::string>> StreamStacks(int thread) {
  std::vector<std::vector<std::string>> stacks(kStacksPerStream);
  for (int i = 0; i < kStacksPerStream; ++i) {
    for (int d = 0; d < kDepth; ++d) {
      stacks[i].push_back(d < 40 ? absl::StrCat("org.apache.catalina.core.StandardWrapperValve.",
                                                "invokeFilterChain", d, ":", 100 + d)
                                 : absl::StrCat("com.example.orders.OrderService.handle", thread,
                                                "_", i, "_", d, ":", 42 + d));
    }
  }
  return stacks;
}

void BM_SnapshotIngestAddSnapshots(benchmark::State& state) {
  Shared& shared = GetShared();
  const int thread = state.thread_index();
  const auto stacks = StreamStacks(thread);
  const std::string task = "task";
  int64_t next = 0;
  for (auto _ : state) {
    std::vector<model::ThreadSnapshot> batch;
    batch.reserve(kBatch);
    for (int j = 0; j < kBatch; ++j, ++next) {
      model::ThreadSnapshot& s = batch.emplace_back();
      s.task_id = task;
      s.segment_id = absl::StrCat(shared.segments[next % kSegments], "-", thread);
      s.sequence = static_cast<int32_t>(next / kSegments);
      s.dump_time_ms = kStart + s.sequence * 10;
      const auto& frames = stacks[next % kStacksPerStream];
      s.frames.assign(frames.begin(), frames.end());
    }
    if (absl::Status added = shared.store->AddSnapshots(batch); !added.ok()) {
      state.SkipWithError(std::string(added.message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_SnapshotIngestAddSnapshots)->ThreadRange(1, 4)->UseRealTime();

void BM_SnapshotIngestWriter(benchmark::State& state) {
  Shared& shared = GetShared();
  const int thread = state.thread_index();
  const auto stacks = StreamStacks(thread);
  storage::SnapshotWriter writer(shared.store.get(), kBatch);
  const std::string task = "task";
  std::vector<std::string> segments;
  for (const std::string& s : shared.segments) segments.push_back(absl::StrCat(s, "-w", thread));
  int64_t next = 0;
  for (auto _ : state) {
    for (int j = 0; j < kBatch; ++j, ++next) {
      const auto& frames = stacks[next % kStacksPerStream];
      storage::StackHasher hasher;
      for (const std::string& frame : frames) hasher.AddFrame(frame);
      const auto sequence = static_cast<int32_t>(next / kSegments);
      absl::Status added = writer.Add(
          task, segments[next % kSegments], kStart + sequence * 10, sequence, hasher.Finish(),
          [&](std::vector<std::string>* out) { out->assign(frames.begin(), frames.end()); });
      if (!added.ok()) {
        state.SkipWithError(std::string(added.message()).c_str());
        return;
      }
    }
  }
  if (absl::Status flushed = writer.Flush(); !flushed.ok()) {
    state.SkipWithError(std::string(flushed.message()).c_str());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_SnapshotIngestWriter)->ThreadRange(1, 4)->UseRealTime();

}  // namespace
}  // namespace stackhouse

BENCHMARK_MAIN();
