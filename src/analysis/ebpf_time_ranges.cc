#include "analysis/ebpf_time_ranges.h"

#include <algorithm>
#include <limits>

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

}  // namespace stackhouse::analysis
