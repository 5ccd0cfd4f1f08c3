// Benchmarks of the trace-profiling merge (src/analysis, spec §4.5 steps 5–10) on generated
// Java-like dumps: stacks of depth 60 that share a 15-frame thread entry and long prefixes with
// each other, a few hundred distinct stacks, and consecutive dumps that mostly keep their stack.
//
//   trace_analysis_bench --benchmark_counters_tabular=true
//
// Goals (issue 4): 12,000 dumps in <= 20 ms; 1,000,000 dumps in <= 1 s including the store
// (this merge's share: <= 250 ms). Memory grows with distinct stacks and tree nodes.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "analysis/fetch_plan.h"
#include "analysis/thread_dump.h"
#include "analysis/thread_dump_merge.h"
#include "benchmark/benchmark.h"

namespace stackhouse::analysis {
namespace {

constexpr int kDepth = 60;
constexpr int kSharedEntryDepth = 15;
constexpr int kDistinctStacks = 300;
constexpr int kFramePool = 3000;

// The dumps of one segment (sequence 0..n-1, every ~10 ms) and their tables.
struct Workload {
  FrameTable frames;
  StackTable stacks;
  std::vector<ThreadDump> dumps;
};

// `intern_stacks` = false gives every dump its own stack id (a store without a stack
// dictionary), the merge's worst case.
Workload MakeWorkload(int64_t dumps, bool intern_stacks = true) {
  std::mt19937 rng(42);
  Workload w;
  std::vector<uint32_t> pool;
  for (int i = 0; i < kFramePool; ++i) {
    pool.push_back(w.frames.Intern(absl::StrCat("org.example.service.module", i % 37, ".Class", i,
                                                ".method", i % 11, ": ", 100 + i % 400)));
  }
  // Each stack copies a prefix of one of the 8 stacks made just before it (so that neighbouring
  // ids share long prefixes) and fills the rest with random frames.
  std::vector<std::vector<uint32_t>> stacks;
  std::vector<uint32_t> first(kDepth);
  for (int d = 0; d < kDepth; ++d) first[d] = pool[d < kSharedEntryDepth ? d : rng() % kFramePool];
  stacks.push_back(first);
  while (stacks.size() < kDistinctStacks) {
    const std::vector<uint32_t>& base =
        stacks[stacks.size() - 1 - rng() % std::min<size_t>(8, stacks.size())];
    const int keep = kSharedEntryDepth + static_cast<int>(rng() % (kDepth - kSharedEntryDepth));
    std::vector<uint32_t> stack(base.begin(), base.begin() + keep);
    while (stack.size() < kDepth) stack.push_back(pool[rng() % kFramePool]);
    stacks.push_back(std::move(stack));
  }
  std::vector<uint32_t> ids;
  if (intern_stacks) {
    for (const auto& stack : stacks) ids.push_back(w.stacks.Add(stack));
  }
  // A random walk over neighbouring stacks; 70% of the dumps keep the previous stack.
  int current = 0;
  for (int64_t sequence = 0; sequence < dumps; ++sequence) {
    if (rng() % 10 >= 7) {
      current = (current + kDistinctStacks + static_cast<int>(rng() % 7) - 3) % kDistinctStacks;
    }
    const uint32_t stack_id = intern_stacks ? ids[current] : w.stacks.Add(stacks[current]);
    w.dumps.push_back({0, static_cast<int32_t>(sequence),
                       1'700'000'000'000 + sequence * 10 + static_cast<int64_t>(rng() % 3),
                       stack_id});
  }
  return w;
}

void Analyze(benchmark::State& state, const Workload& w, const std::vector<ThreadDump>& dumps) {
  size_t elements = 0;
  for (auto _ : state) {
    absl::StatusOr<ProfileAnalysis> analysis = AnalyzeThreadDumps(dumps, w.stacks, w.frames, {});
    if (!analysis.ok()) {
      state.SkipWithError(analysis.status().ToString().c_str());
      return;
    }
    elements = 0;
    for (const ProfileTree& tree : analysis->trees) elements += tree.elements.size();
    benchmark::DoNotOptimize(analysis);
  }
  state.counters["dumps"] = static_cast<double>(dumps.size());
  state.counters["elements"] = static_cast<double>(elements);
  state.counters["dumps/s"] = benchmark::Counter(static_cast<double>(dumps.size()),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

// One query over one segment: the dumps arrive in sequence order (the linear path).
void BM_AnalyzeOneSegment(benchmark::State& state) {
  const Workload w = MakeWorkload(state.range(0));
  Analyze(state, w, w.dumps);
}
BENCHMARK(BM_AnalyzeOneSegment)->Arg(12'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// "Exclude children" with overlapping windows, queried latest first: the fetch order is
// four ranges in reverse, each overlapping the next by 1,000 sequences (the sorting path).
void BM_AnalyzeOverlappingQueries(benchmark::State& state) {
  const Workload w = MakeWorkload(state.range(0));
  const int64_t n = state.range(0);
  std::vector<ThreadDump> fetched;
  for (int64_t q = 3; q >= 0; --q) {
    const int64_t begin = std::max<int64_t>(0, q * n / 4 - 1000);
    const int64_t end = (q + 1) * n / 4;
    fetched.insert(fetched.end(), w.dumps.begin() + begin, w.dumps.begin() + end);
  }
  Analyze(state, w, fetched);
}
BENCHMARK(BM_AnalyzeOverlappingQueries)->Arg(12'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// Worst case: no stack dictionary, every dump has its own stack id.
void BM_AnalyzeUninternedStacks(benchmark::State& state) {
  const Workload w = MakeWorkload(state.range(0), /*intern_stacks=*/false);
  Analyze(state, w, w.dumps);
}
BENCHMARK(BM_AnalyzeUninternedStacks)->Arg(12'000)->Unit(benchmark::kMillisecond);

// Steps 1–2 for the 1,000,000 limit: 2,000 ranges.
void BM_PlanFetch(benchmark::State& state) {
  const std::vector<QueryWindow> windows = {{0, true, 0, 1'199'999}};
  for (auto _ : state) {
    absl::StatusOr<FetchPlan> plan = PlanFetch(windows, {500, 1'000'000});
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_PlanFetch)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace stackhouse::analysis

BENCHMARK_MAIN();
