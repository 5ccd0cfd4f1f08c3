#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "analysis/thread_dump.h"

// Steps 5–10 of the trace-profiling analysis (graphql-protocol.md §4.5): thread dumps merged
// into trees of code signatures with count, duration and self duration.
namespace stackhouse::analysis {

// One node of a merged tree: a code signature reached by one path from the tree's root.
// The numbers are GraphQL `Int`s: values outside the int32 range saturate at INT32_MIN /
// INT32_MAX (the OAP fails the whole query instead).
struct ProfileElement {
  int32_t id = 0;         // 1, 2, ... in breadth-first order within the tree
  int32_t parent_id = 0;  // 0 for the tree's root
  uint32_t frame_id = 0;  // FrameTable id of the code signature
  int32_t count = 0;      // dumps whose stack passes through this node
  // Milliseconds: over the node's dumps sorted by sequence, the sum over runs of consecutive
  // sequences of (last dump time − first dump time). Negative if dump times go backwards.
  int32_t duration = 0;
  // duration − Σ children's duration (with the saturated values).
  int32_t duration_child_excluded = 0;

  friend bool operator==(const ProfileElement&, const ProfileElement&) = default;
};

struct ProfileTree {
  std::vector<ProfileElement> elements;  // breadth-first: ascending id, the root first
};

// The answer of `getSegmentsProfileAnalyze`.
struct ProfileAnalysis {
  std::optional<std::string> tip;
  std::vector<ProfileTree> trees;  // one per distinct root frame, by first appearance
};

// Spec step 5 with Stackhouse's key: removes every dump whose (segment_index, sequence) occurred
// earlier in `dumps`, keeping the order of the others. O(n) if the keys never decrease, else
// O(n log n) time and about 20 bytes per dump of scratch memory. Thread-compatible.
void RemoveDuplicateDumps(std::vector<ThreadDump>* dumps);

// Merges `dumps` (Java dumps in fetch order, i.e. the concatenated FetchPlan ranges; step 4's
// language filter is the caller's) into trees, exactly as spec §4.5 steps 5–10, with these
// Stackhouse decisions for several segments (for a single segment the result equals the OAP's):
//   - duplicates are dumps with equal (segment_index, sequence) (the OAP: equal sequence only);
//     the first one is kept, even if its stack is empty;
//   - runs of consecutive sequences never span two segments: a node's duration is the sum of
//     its durations within each segment;
//   - trees are ordered by first appearance of their root frame, children by first appearance
//     of their path, both in fetch order.
// Dumps with an empty stack count for de-duplication but are then dropped (step 6). `tip` is
// passed through to the result (FetchPlan::tip).
//
// Cost: O(n) plus O(depth) per distinct stack id when the dump keys never decrease (one query,
// or queries of different segments in increasing segment_index; duplicates allowed only next to
// each other), else O(n log n) with about 20 bytes per dump of scratch memory. Other memory grows
// with distinct stacks and tree nodes, not with dumps × depth. Pure; thread-safe for concurrent
// calls.
//
// Errors: InvalidArgument if a dump's stack_id is not in `stacks`, a stack holds a frame id not
// in `frames`, or there are more than 2^32 − 1 dumps.
absl::StatusOr<ProfileAnalysis> AnalyzeThreadDumps(absl::Span<const ThreadDump> dumps,
                                                   const StackTable& stacks,
                                                   const FrameTable& frames,
                                                   std::optional<std::string> tip);

}  // namespace stackhouse::analysis
