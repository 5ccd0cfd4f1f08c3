#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "analysis/ebpf_stack.h"
#include "analysis/thread_dump.h"

// Steps 5–8 of the eBPF analysis (graphql-protocol.md §5.7): samples merged into trees of
// symbols with summed values. The work is split in two so that it grows with distinct stacks,
// not with samples × depth:
//   1. AggregateSamples: one pass over the samples, summing values per stack id and remembering
//      the order in which stack ids first appear (parallel: AggregateSamplesInParallel, or
//      AggregateSamples per consecutive part of the read order and CombineStackTotals);
//   2. BuildEbpfTrees: one walk per distinct stack.
// This gives the spec's trees exactly: a node (a path from a root) is created by the first
// sample whose stack starts with that path, and that sample is also the first one of its stack,
// so creating nodes stack by stack in order of first appearance creates them in the same order
// as sample by sample; a node's dumpCount is the sum over the samples through it either way.
// MergeEbpfSamples does both steps.
namespace stackhouse::analysis {

// One node of a merged tree: a (symbol, stack type) reached by one path from the tree's root.
struct EbpfElement {
  int32_t id = 0;          // 1, 2, ... in breadth-first order within the tree
  int32_t parent_id = 0;   // 0 for the tree's root
  uint32_t symbol_id = 0;  // FrameTable id of the symbol name (possibly the empty name)
  StackType type = StackType::kUserSpace;
  // The sum of the values of the samples whose stack passes through this node: a GraphQL
  // `Long`. Sums are exact and then saturate at INT64_MIN / INT64_MAX (the OAP wraps around), so
  // the result does not depend on the order of the samples or on how they were split up.
  int64_t dump_count = 0;

  friend bool operator==(const EbpfElement&, const EbpfElement&) = default;
};

struct EbpfTree {
  std::vector<EbpfElement> elements;  // breadth-first: ascending id, the root first
};

// The answer of `analysisEBPFProfilingResult` (its `tip` is always null).
struct EbpfAnalysis {
  // One per distinct root frame (symbol and type) in order of first appearance; none without
  // samples or with only empty stacks.
  std::vector<EbpfTree> trees;
};

// The samples of one stack id, summed.
struct StackTotal {
  uint32_t stack_id = 0;
  // The exact sum of the samples' values (|sum| < 2^63 × the number of samples).
  absl::int128 value = 0;

  friend bool operator==(const StackTotal&, const StackTotal&) = default;
};

// Sums the values of `samples` (in read order, see EbpfSample) per stack id: one entry per
// distinct stack id, in order of first appearance; samples with value 0 count as appearances.
// O(n + stack_count) time, about 20 bytes per possible stack id of scratch memory. Pure;
// thread-safe for concurrent calls.
// Errors: InvalidArgument if a sample's stack_id is >= stack_count.
absl::StatusOr<std::vector<StackTotal>> AggregateSamples(absl::Span<const EbpfSample> samples,
                                                         size_t stack_count);

// The totals of a read order cut into consecutive parts, from the totals of each part in read
// order: AggregateSamples(p1 ++ p2 ++ ...) == CombineStackTotals({AggregateSamples(p1),
// AggregateSamples(p2), ...}). Parts may be empty. O(total entries + largest stack id) time,
// 4 bytes of scratch memory per stack id up to the largest. Pure; thread-safe.
std::vector<StackTotal> CombineStackTotals(absl::Span<const std::vector<StackTotal>> parts);

// AggregateSamples with the samples cut into up to `threads` consecutive parts aggregated on
// their own threads (the calling thread does one), then combined; the same result and errors.
// Parts are at least kMinSamplesPerThread long, so small inputs run on the calling thread only;
// `threads` < 1 counts as 1. Falls back to fewer threads if the system refuses to start one.
// Pure; thread-safe.
absl::StatusOr<std::vector<StackTotal>> AggregateSamplesInParallel(
    absl::Span<const EbpfSample> samples, size_t stack_count, int threads);

// Below this many samples per thread AggregateSamplesInParallel does not start another thread:
// starting and joining one costs tens of microseconds, aggregating 2^18 samples about 0.3 ms.
inline constexpr size_t kMinSamplesPerThread = 1 << 18;

// Spec §5.7 steps 5–8 for `totals` (as AggregateSamples returns them; in general, each entry adds
// its value along the path of its stack, in order): empty stacks are dropped; the others are
// grouped by their root frame, children are matched on (symbol, type) in order of creation, and
// nodes are numbered breadth-first per tree. O(distinct stacks × depth); memory grows with tree
// nodes. Pure; thread-safe for concurrent calls.
// Errors: InvalidArgument if a stack id is not in `stacks` or a stack holds a symbol id not in
// `symbols` (or >= 2^31); ResourceExhausted with 2^31 or more tree nodes.
absl::StatusOr<EbpfAnalysis> BuildEbpfTrees(absl::Span<const StackTotal> totals,
                                            const EbpfStackTable& stacks,
                                            const FrameTable& symbols);

// The whole merge: AggregateSamples (in parallel if `threads` > 1) then BuildEbpfTrees, i.e. spec
// §5.7 steps 5–8 over `samples` in read order (windows in order; within a window by upload time,
// then stack id, then schedule). Every sample counts, including identical samples of different
// schedules (Stackhouse's step 4: the caller reads the union of the time ranges instead of
// de-duplicating). Pure; thread-safe for concurrent calls.
// Errors: as AggregateSamples and BuildEbpfTrees.
absl::StatusOr<EbpfAnalysis> MergeEbpfSamples(absl::Span<const EbpfSample> samples,
                                              const EbpfStackTable& stacks,
                                              const FrameTable& symbols, int threads = 1);

}  // namespace stackhouse::analysis
