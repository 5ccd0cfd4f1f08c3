// Benchmarks of the eBPF stack merge (src/analysis, spec §5.7 steps 5–8) on the workload of
// SkyWalking's own benchmark (apache/skywalking PR #8696, EBPFProfilingAnalyzerBenchmark,
// "HighDatasource": 2 h of 5 s reports from 2,000 processes): 2,880,000 samples of 100 distinct
// stacks of depth 15–39, symbols of 10 random characters drawn from per-depth pools that widen
// with depth (3 at the root … 100 from depth 10), values 0–99; the first 100 samples are the
// distinct stacks, the rest random picks among them. Merge only: no store, no strings.
//
//   ebpf_analysis_bench --benchmark_counters_tabular=true
//
// Goal (issue 5): the merge of that workload in <= 10 ms (the OAP: about 163 ms).
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "analysis/ebpf_stack.h"
#include "analysis/ebpf_stack_merge.h"
#include "analysis/ebpf_time_ranges.h"
#include "analysis/thread_dump.h"
#include "benchmark/benchmark.h"

namespace stackhouse::analysis {
namespace {

constexpr int kMinDepth = 15;
constexpr int kMaxDepth = 40;  // exclusive, as in the Java benchmark
// Distinct symbols per depth: 100 / SkyWalking's "symbol duplicate rate" per depth (30, 27, 25,
// 20, 17, 15, 10, 7, 5, 2, 1 %), the last one for all deeper frames.
constexpr int kSymbolsPerDepth[] = {3, 3, 4, 5, 5, 6, 10, 14, 20, 50, 100};

struct Workload {
  FrameTable symbols;
  EbpfStackTable stacks;
  std::vector<EbpfSample> samples;
};

// `distinct_stacks` random stacks; `samples` samples whose first `distinct_stacks` are the stacks
// in order, the rest picked at random. With samples == distinct_stacks every sample has its own
// stack (a store without a stack dictionary, the merge's worst case per sample).
Workload MakeWorkload(int64_t samples, int distinct_stacks) {
  std::mt19937 rng(42);
  Workload w;
  std::vector<std::vector<uint32_t>> pools(kMaxDepth);
  auto symbol_at = [&](int depth) {
    std::vector<uint32_t>& pool = pools[depth];
    const int wanted = kSymbolsPerDepth[std::min<size_t>(depth, std::size(kSymbolsPerDepth) - 1)];
    if (static_cast<int>(pool.size()) < wanted) {
      static constexpr char kAlphabet[] = "abcdefgABCDEFG1234567890_[]<>.";
      std::string name(10, ' ');
      for (char& c : name) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
      pool.push_back(w.symbols.Intern(name));
      return pool.back();
    }
    return pool[rng() % pool.size()];
  };
  for (int s = 0; s < distinct_stacks; ++s) {
    const int depth = kMinDepth + static_cast<int>(rng() % (kMaxDepth - kMinDepth));
    std::vector<EbpfFrame> frames;
    for (int d = 0; d < depth; ++d) {
      // Root first: user frames, then kernel frames (spec §5.7 step 3).
      frames.push_back(
          {symbol_at(d), d < depth / 2 ? StackType::kUserSpace : StackType::kKernelSpace});
    }
    w.stacks.Add(frames);
  }
  w.samples.reserve(samples);
  for (int64_t i = 0; i < samples; ++i) {
    const auto stack_id = static_cast<uint32_t>(i < distinct_stacks ? i : rng() % distinct_stacks);
    w.samples.push_back({stack_id, static_cast<int64_t>(rng() % 100)});
  }
  return w;
}

const Workload& SkyWalkingHigh() {
  static const Workload* const workload = new Workload(MakeWorkload(2'880'000, 100));
  return *workload;
}

void SetCounters(benchmark::State& state, size_t samples, size_t elements) {
  state.counters["samples"] = static_cast<double>(samples);
  state.counters["elements"] = static_cast<double>(elements);
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(samples),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

size_t CountElements(const EbpfAnalysis& analysis) {
  size_t elements = 0;
  for (const EbpfTree& tree : analysis.trees) elements += tree.elements.size();
  return elements;
}

void Merge(benchmark::State& state, const Workload& w, int threads) {
  size_t elements = 0;
  for (auto _ : state) {
    absl::StatusOr<EbpfAnalysis> analysis =
        MergeEbpfSamples(w.samples, w.stacks, w.symbols, threads);
    if (!analysis.ok()) {
      state.SkipWithError(analysis.status().ToString().c_str());
      return;
    }
    elements = CountElements(*analysis);
    benchmark::DoNotOptimize(analysis);
  }
  SetCounters(state, w.samples.size(), elements);
}

// The goal: the whole merge of SkyWalking's workload, on 1 or 2 threads.
void BM_MergeSkyWalkingHigh(benchmark::State& state) {
  Merge(state, SkyWalkingHigh(), static_cast<int>(state.range(0)));
}
BENCHMARK(BM_MergeSkyWalkingHigh)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Its two steps on their own. Aggregation also on a prefix of 2 × kMinSamplesPerThread samples,
// the smallest input that AggregateSamplesInParallel splits.
void BM_AggregateSkyWalkingHigh(benchmark::State& state) {
  const Workload& w = SkyWalkingHigh();
  const auto samples = absl::MakeConstSpan(w.samples).first(state.range(0));
  for (auto _ : state) {
    absl::StatusOr<std::vector<StackTotal>> totals =
        AggregateSamplesInParallel(samples, w.stacks.size(), static_cast<int>(state.range(1)));
    benchmark::DoNotOptimize(totals);
  }
  SetCounters(state, samples.size(), 0);
}
BENCHMARK(BM_AggregateSkyWalkingHigh)
    ->ArgNames({"samples", "threads"})
    ->ArgsProduct({{2 * kMinSamplesPerThread, 2'880'000}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_BuildTreesSkyWalkingHigh(benchmark::State& state) {
  const Workload& w = SkyWalkingHigh();
  const std::vector<StackTotal> totals = *AggregateSamples(w.samples, w.stacks.size());
  size_t elements = 0;
  for (auto _ : state) {
    absl::StatusOr<EbpfAnalysis> analysis = BuildEbpfTrees(totals, w.stacks, w.symbols);
    elements = CountElements(*analysis);
    benchmark::DoNotOptimize(analysis);
  }
  SetCounters(state, w.samples.size(), elements);
}
BENCHMARK(BM_BuildTreesSkyWalkingHigh)->Unit(benchmark::kMicrosecond);

// A long tail: the same number of samples over 10,000 distinct stacks.
void BM_MergeLongTail(benchmark::State& state) {
  static const Workload* const workload = new Workload(MakeWorkload(2'880'000, 10'000));
  Merge(state, *workload, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_MergeLongTail)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Worst case per sample: every sample its own stack id (no stack dictionary), about 2 million
// tree nodes.
void BM_MergeDistinctStacks(benchmark::State& state) {
  const Workload w = MakeWorkload(state.range(0), static_cast<int>(state.range(0)));
  Merge(state, w, 1);
}
BENCHMARK(BM_MergeDistinctStacks)->Arg(100'000)->Unit(benchmark::kMillisecond);

// Step 1 for a 2 h schedule: 721 windows.
void BM_SplitTimeRanges(benchmark::State& state) {
  const std::vector<EbpfTimeRange> ranges = {{1'700'000'000'000, 1'700'007'200'000}};
  for (auto _ : state) {
    absl::StatusOr<std::vector<ReadWindow>> windows = SplitTimeRanges(ranges);
    benchmark::DoNotOptimize(windows);
  }
}
BENCHMARK(BM_SplitTimeRanges)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace stackhouse::analysis

BENCHMARK_MAIN();
