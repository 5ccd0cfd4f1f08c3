#pragma once

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "analysis/thread_dump.h"
#include "analysis/thread_dump_merge.h"

// The Go agent's trace profiles (graphql-protocol.md §4.6): one tree per stored pprof profile of
// a segment, weighted by the profiler's sampling period. Pure computation.
namespace stackhouse::analysis {

// One pprof sample of the segment: `count` = its first value (1 if it has none) and its frames
// (FrameTable ids) in the order the tree is walked — the pprof location order, leaf first, as
// the OAP does (spec §4.6 step 3).
struct GoSample {
  int64_t count = 1;
  std::vector<uint32_t> frames;
};

// Spec §4.6 step 3: the pprof period in milliseconds from `period` and the unit of
// `period_type` ("nanoseconds"/"ns"/"" → max(1, period / 1e6), "microseconds"/"us", "milliseconds"/
// "ms", "seconds"/"s", "hz"/"HZ" → max(1, 1000 / period); period <= 0 or another unit → 10).
int64_t GoPeriodMillis(int64_t period, absl::string_view unit);

// Spec §4.6 step 3: the tree of `samples` (each weighs count × period_ms milliseconds). Elements
// are keyed by (parent, frame) from the first frame of each sample; several roots get a virtual
// root `root` (interned in `frames`); ids are renumbered breadth-first from 0, each node's
// children by duration, longest first (ties in creation order); the root's parent_id is -1.
// Durations and counts saturate at INT32_MAX. No samples → a tree with no elements.
ProfileTree BuildGoProfileTree(absl::Span<const GoSample> samples, int64_t period_ms,
                               FrameTable* frames);

// The same samples for flame graphs (exports, diff, the web page): merged root first (the
// reverse of the walk order), one tree per distinct root frame in order of first appearance,
// numbered like the Java trees (breadth-first from 1, the root's parent_id 0, children in order
// of first appearance); count = samples, duration = count × period_ms. Saturating.
std::vector<ProfileTree> BuildGoFlameTrees(absl::Span<const GoSample> samples, int64_t period_ms);

}  // namespace stackhouse::analysis
