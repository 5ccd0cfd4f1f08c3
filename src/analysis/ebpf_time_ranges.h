#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"

// Step 1 of the eBPF analysis (graphql-protocol.md §5.7): which upload-time windows to read, with
// Stackhouse's decision (step 4) to read the union of the requested time ranges, so that every
// stored sample is read at most once however the ranges overlap.
namespace stackhouse::analysis {

// One `EBPFProfilingAnalyzeTimeRange`: upload times with start_ms <= t <= end_ms (both
// inclusive, milliseconds).
struct EbpfTimeRange {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// Read the samples with start_ms <= upload time < end_ms.
struct ReadWindow {
  int64_t start_ms = 0;
  int64_t end_ms = 0;

  friend bool operator==(const ReadWindow&, const ReadWindow&) = default;
};

// The union of `ranges` as disjoint half-open windows in ascending order, not split:
//   - a range with start_ms >= end_ms is skipped, as by the OAP (so is the one-millisecond
//     range start == end);
//   - a range [s, e] covers [s, e + 1); for e == INT64_MAX it covers [s, INT64_MAX) (the one
//     instant INT64_MAX is not representable and is left out);
//   - ranges that overlap or touch (the next one starts at or before the previous one's end + 1)
//     merge into one window. Merging touching ranges changes which samples are read not at all,
//     only how the reads are cut.
// Pure; thread-safe. O(n log n).
std::vector<ReadWindow> MergeTimeRanges(absl::Span<const EbpfTimeRange> ranges);

}  // namespace stackhouse::analysis
