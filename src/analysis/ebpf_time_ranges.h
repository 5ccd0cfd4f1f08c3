#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

// Step 1 of the eBPF analysis (graphql-protocol.md §5.7): which upload-time windows to read, with
// Stackhouse's decision (step 4) to read the union of the requested time ranges, so that every
// stored sample is read at most once however the ranges overlap.
namespace stackhouse::analysis {

// The OAP's window length: one read covers at most 10 s of upload time.
inline constexpr int64_t kEbpfReadWindowMs = 10'000;
// Stackhouse's cap on the windows of one analysis (about 116 days of 10 s windows, 16 MB): wider
// ranges are an error rather than millions of reads (the OAP starts them all and gives up after
// its 30 s deadline).
inline constexpr size_t kDefaultMaxReadWindows = 1'000'000;

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

struct ReadWindowLimits {
  int64_t window_ms = kEbpfReadWindowMs;        // must be >= 1
  size_t max_windows = kDefaultMaxReadWindows;  // more windows are an error
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

// Spec §5.7 step 1 over the union: each window of MergeTimeRanges(ranges), cut into consecutive
// windows of `limits.window_ms` from its start (the last one shorter). Reading the windows in
// order and, within a window, by upload time then stack then schedule gives the samples in
// ascending upload time, each once. For a single range this is exactly the OAP's split, e.g.
// [0, 25000] → [0,10000) [10000,20000) [20000,25001). No ranges, or only skipped ones, give no
// windows (the OAP then answers `{tip: null, trees: []}`). Pure; thread-safe.
// Errors: InvalidArgument if limits.window_ms < 1 or more than limits.max_windows windows would
// be needed (e.g. a year of 10 s windows); the message says how many.
absl::StatusOr<std::vector<ReadWindow>> SplitTimeRanges(absl::Span<const EbpfTimeRange> ranges,
                                                        const ReadWindowLimits& limits = {});

}  // namespace stackhouse::analysis
