#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

// Steps 1–2 of the trace-profiling analysis (graphql-protocol.md §4.5): which sequence ranges of
// which segments to fetch, and the tip shown when the snapshot limit cuts the analysis.
namespace stackhouse::analysis {

// OAP's `maxPageSizeOfQueryProfileSnapshot`: sequences per fetch range.
inline constexpr int32_t kDefaultSnapshotBatchSize = 500;
// OAP's `maxSizeOfAnalyzeProfileSnapshot`: sequences analysed per query at most.
inline constexpr int32_t kDefaultMaxAnalyzedSnapshots = 12000;

struct AnalysisLimits {
  int32_t batch_size = kDefaultSnapshotBatchSize;        // must be >= 1
  int32_t max_snapshots = kDefaultMaxAnalyzedSnapshots;  // must be >= 1
};

// What the store found for one query `(segment id, time range)`: the smallest and largest
// sequence among the segment's dumps with `start <= dump time <= end`.
struct QueryWindow {
  uint32_t segment_index = 0;  // copied to the FetchRanges of this query
  bool found = false;          // false: no dump in the time range; min/max are ignored
  int32_t min_sequence = 0;
  int32_t max_sequence = 0;
};

// Fetch the dumps of one segment with `start <= sequence < end` (no time filter), in ascending
// sequence order.
struct FetchRange {
  uint32_t segment_index = 0;
  int64_t start = 0;
  int64_t end = 0;

  friend bool operator==(const FetchRange&, const FetchRange&) = default;
};

struct FetchPlan {
  // In fetch order: the dumps of all ranges, concatenated in this order, are the input of
  // AnalyzeThreadDumps.
  std::vector<FetchRange> ranges;
  // "Out of snapshot analyze limit, ..." when the queries' windows together span more than
  // `max_snapshots` sequences, else nullopt.
  std::optional<std::string> tip;
};

// Plans the fetch for `windows` (one per query, in the queries' order), exactly as spec §4.5
// steps 1–2: each found window [min, max] is cut to its first `max_snapshots` sequences and split
// into ranges of `batch_size`; the tip compares the sum of all window sizes with the per-query
// `max_snapshots` (an upstream quirk, kept). Pure; thread-safe.
// Errors: InvalidArgument if a limit is < 1 or a found window has min_sequence > max_sequence.
absl::StatusOr<FetchPlan> PlanFetch(absl::Span<const QueryWindow> windows,
                                    const AnalysisLimits& limits);

}  // namespace stackhouse::analysis
