#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "analysis/ebpf_stack.h"
#include "analysis/thread_dump.h"

// Steps 5–8 of the eBPF analysis (graphql-protocol.md §5.7): per-stack totals merged into trees of
// symbols with summed values. The caller aggregates the samples per stack while it reads them
// (profile::LoadEbpfProfile: a sum and a first appearance per distinct stack, from raw blocks
// and roll-ups alike), so the merge grows with distinct stacks, not with samples × depth:
// BuildEbpfTrees walks each distinct stack once. This gives the spec's trees exactly: a node (a
// path from a root) is created by the first sample whose stack starts with that path, and that
// sample is also the first one of its stack, so creating nodes stack by stack in order of first
// appearance creates them in the same order as sample by sample; a node's dumpCount is the sum
// over the samples through it either way.
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

// Spec §5.7 steps 5–8 for `totals` (one entry per distinct stack in order of first appearance;
// in general, each entry adds its value along the path of its stack, in order): empty stacks are
// dropped; the others are grouped by their root frame, children are matched on (symbol, type) in
// order of creation, and nodes are numbered breadth-first per tree. O(distinct stacks × depth);
// memory grows with tree nodes. Pure; thread-safe for concurrent calls. Errors: InvalidArgument if
// a stack id is not in `stacks` or a stack holds a symbol id not in `symbols` (or >= 2^31);
// ResourceExhausted with 2^31 or more tree nodes.
absl::StatusOr<EbpfAnalysis> BuildEbpfTrees(absl::Span<const StackTotal> totals,
                                            const EbpfStackTable& stacks,
                                            const FrameTable& symbols);

}  // namespace stackhouse::analysis
