#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "analysis/flame_graph.h"
#include "analysis/thread_dump.h"

// The comparison of two merged profiles of the same kind (Stackhouse's `stackhouseDiff`): one
// tree that is the union of both, with each side's value and share per node.
namespace stackhouse::analysis {

// One node of the union: a path of frames (name and, for eBPF, stack type) from a root.
struct DiffNode {
  int32_t id = 0;         // 1, 2, ... breadth-first over the whole forest (all roots first)
  int32_t parent_id = 0;  // 0 for a root
  uint32_t name = 0;      // id in FlameDiff::names
  std::optional<StackType> stack_type;  // set for eBPF profiles
  // Column 0 of each side (0 where the path is absent on that side): the subtree's total and
  // what ends at the node itself.
  int64_t baseline_value = 0;
  int64_t comparison_value = 0;
  int64_t baseline_self = 0;
  int64_t comparison_self = 0;
  // Value / the side's total (0 when that total is 0); delta = comparison − baseline.
  double baseline_share = 0;
  double comparison_share = 0;
  double share_delta = 0;
  // The same for the self values: what topGains and topLosses rank by.
  double self_share_delta = 0;
};

struct FlameDiff {
  std::string unit;  // PrimaryUnit of both sides: "samples", "nanoseconds" or "switches"
  int64_t baseline_total = 0;
  int64_t comparison_total = 0;
  FrameTable names;
  // By id: nodes[i].id == i + 1, so a parent precedes its children.
  std::vector<DiffNode> nodes;
  // Indices into `nodes`: the largest positive self_share_delta first, and the most negative
  // first; ties by id. At most `top_count` each.
  std::vector<uint32_t> top_gains;
  std::vector<uint32_t> top_losses;
};

// How many nodes topGains and topLosses hold at most.
inline constexpr size_t kDiffTopCount = 20;

// Merges `baseline` and `comparison` (column 0 of each) by path: roots are matched by frame,
// children by frame under matched parents (a frame is a symbol name and, for eBPF, its stack
// type). Nodes are created in order of first appearance, baseline first; children of a node are
// therefore the baseline's in its order, then those only in the comparison. Totals are the sums
// over each side's roots. O(nodes of both) time and memory. Pure; thread-safe.
// Errors: InvalidArgument "cannot diff a <kind>/<unit> profile against a <kind>/<unit> profile"
// when the kinds or primary units differ; ResourceExhausted with 2^31 or more nodes.
absl::StatusOr<FlameDiff> DiffFlameGraphs(const FlameGraph& baseline, const FlameGraph& comparison,
                                          size_t top_count = kDiffTopCount);

}  // namespace stackhouse::analysis
