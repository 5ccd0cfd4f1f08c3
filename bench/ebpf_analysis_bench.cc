// Benchmarks of the eBPF tree building the server runs (analysis::BuildEbpfTrees, spec §5.7
// steps 5–8 over per-stack totals, as profile::LoadEbpfProfile hands them over) on the workload of
// SkyWalking's own benchmark (apache/skywalking PR #8696, EBPFProfilingAnalyzerBenchmark,
// "HighDatasource": 2 h of 5 s reports from 2,000 processes): 2,880,000 samples of 100 distinct
// stacks of depth 15–39, symbols of 10 random characters drawn from per-depth pools that widen
// with depth (3 at the root … 100 from depth 10), values 0–99; the first 100 samples are the
// distinct stacks, the rest random picks among them, summed per stack as the server's reading
// does. Trees only: the whole analysis, reads and aggregation included, is query_bench's
// BM_EbpfAnalyze* (through /graphql, from RocksDB, raw blocks and roll-ups).
//
//   ebpf_analysis_bench --benchmark_counters_tabular=true
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "analysis/ebpf_stack.h"
#include "analysis/ebpf_stack_merge.h"
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
  size_t samples = 0;
  // The samples summed per stack, in order of first appearance (what the server's reading of
  // the store produces).
  std::vector<StackTotal> totals;
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
  w.samples = static_cast<size_t>(samples);
  w.totals.resize(static_cast<size_t>(distinct_stacks));
  for (int64_t i = 0; i < samples; ++i) {
    const auto stack_id = static_cast<uint32_t>(i < distinct_stacks ? i : rng() % distinct_stacks);
    w.totals[stack_id].stack_id = stack_id;
    w.totals[stack_id].value += static_cast<int64_t>(rng() % 100);
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

void BuildTrees(benchmark::State& state, const Workload& w) {
  size_t elements = 0;
  for (auto _ : state) {
    absl::StatusOr<EbpfAnalysis> analysis = BuildEbpfTrees(w.totals, w.stacks, w.symbols);
    if (!analysis.ok()) {
      state.SkipWithError(analysis.status().ToString().c_str());
      return;
    }
    elements = CountElements(*analysis);
    benchmark::DoNotOptimize(analysis);
  }
  SetCounters(state, w.samples, elements);
}

// SkyWalking's workload: 100 distinct stacks, 2,541 nodes.
void BM_BuildTreesSkyWalkingHigh(benchmark::State& state) { BuildTrees(state, SkyWalkingHigh()); }
BENCHMARK(BM_BuildTreesSkyWalkingHigh)->Unit(benchmark::kMicrosecond);

// A long tail: the same number of samples over 10,000 distinct stacks.
void BM_BuildTreesLongTail(benchmark::State& state) {
  static const Workload* const workload = new Workload(MakeWorkload(2'880'000, 10'000));
  BuildTrees(state, *workload);
}
BENCHMARK(BM_BuildTreesLongTail)->Unit(benchmark::kMillisecond);

// 100,000 distinct stacks, one sample each: about 2 million tree nodes.
void BM_BuildTreesDistinctStacks(benchmark::State& state) {
  const Workload w = MakeWorkload(state.range(0), static_cast<int>(state.range(0)));
  BuildTrees(state, w);
}
BENCHMARK(BM_BuildTreesDistinctStacks)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace stackhouse::analysis

BENCHMARK_MAIN();
