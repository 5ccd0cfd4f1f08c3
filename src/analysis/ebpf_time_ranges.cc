#include "analysis/ebpf_time_ranges.h"

#include <algorithm>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace stackhouse::analysis {

std::vector<ReadWindow> MergeTimeRanges(absl::Span<const EbpfTimeRange> ranges) {
  std::vector<ReadWindow> windows;
  for (const EbpfTimeRange& range : ranges) {
    if (range.start_ms >= range.end_ms) continue;
    const int64_t end =
        range.end_ms == std::numeric_limits<int64_t>::max() ? range.end_ms : range.end_ms + 1;
    windows.push_back({range.start_ms, end});
  }
  std::sort(windows.begin(), windows.end(),
            [](const ReadWindow& a, const ReadWindow& b) { return a.start_ms < b.start_ms; });
  size_t merged = 0;
  for (const ReadWindow& window : windows) {
    if (merged > 0 && window.start_ms <= windows[merged - 1].end_ms) {
      windows[merged - 1].end_ms = std::max(windows[merged - 1].end_ms, window.end_ms);
    } else {
      windows[merged++] = window;
    }
  }
  windows.resize(merged);
  return windows;
}

absl::StatusOr<std::vector<ReadWindow>> SplitTimeRanges(absl::Span<const EbpfTimeRange> ranges,
                                                        const ReadWindowLimits& limits) {
  if (limits.window_ms < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("read window length must be at least 1 ms, not ", limits.window_ms));
  }
  const std::vector<ReadWindow> pieces = MergeTimeRanges(ranges);
  // Count first, so that absurd ranges fail before allocating. No overflow: the pieces are
  // disjoint, so their spans add up to at most 2^64 - 1 ms.
  const auto window_ms = static_cast<uint64_t>(limits.window_ms);
  uint64_t total_ms = 0;
  uint64_t count = 0;
  for (const ReadWindow& piece : pieces) {
    const uint64_t span =
        static_cast<uint64_t>(piece.end_ms) - static_cast<uint64_t>(piece.start_ms);
    total_ms += span;
    count += span / window_ms + (span % window_ms != 0 ? 1 : 0);
  }
  if (count > limits.max_windows) {
    return absl::InvalidArgumentError(
        absl::StrCat("the time ranges cover ", total_ms, " ms, more than ", limits.max_windows,
                     " read windows of ", limits.window_ms, " ms; narrow the time ranges"));
  }
  std::vector<ReadWindow> windows;
  windows.reserve(count);
  for (const ReadWindow& piece : pieces) {
    for (int64_t start = piece.start_ms;;) {
      // end - start fits in uint64 but not always in int64: compare without subtracting.
      const bool last =
          static_cast<uint64_t>(piece.end_ms) - static_cast<uint64_t>(start) <= window_ms;
      const int64_t end = last ? piece.end_ms : start + limits.window_ms;
      windows.push_back({start, end});
      if (last) break;
      start = end;
    }
  }
  return windows;
}

}  // namespace stackhouse::analysis
