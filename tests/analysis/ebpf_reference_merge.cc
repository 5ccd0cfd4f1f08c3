#include "ebpf_reference_merge.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stackhouse::analysis::testing {

absl::StatusOr<std::vector<StackTotal>> AggregateSamples(absl::Span<const EbpfSample> samples,
                                                         size_t stack_count) {
  std::vector<absl::int128> sums(stack_count);
  std::vector<uint8_t> seen(stack_count);
  std::vector<uint32_t> first_seen;
  for (const EbpfSample& sample : samples) {
    if (sample.stack_id >= stack_count) {
      return absl::InvalidArgumentError(
          absl::StrCat("eBPF sample refers to stack ", sample.stack_id, " of ", stack_count));
    }
    if (!seen[sample.stack_id]) {
      seen[sample.stack_id] = 1;
      first_seen.push_back(sample.stack_id);
    }
    sums[sample.stack_id] += sample.value;
  }
  std::vector<StackTotal> totals;
  totals.reserve(first_seen.size());
  for (uint32_t stack_id : first_seen) totals.push_back({stack_id, sums[stack_id]});
  return totals;
}

absl::StatusOr<EbpfAnalysis> MergeEbpfSamples(absl::Span<const EbpfSample> samples,
                                              const EbpfStackTable& stacks,
                                              const FrameTable& symbols) {
  SH_ASSIGN_OR_RETURN(std::vector<StackTotal> totals, AggregateSamples(samples, stacks.size()));
  return BuildEbpfTrees(totals, stacks, symbols);
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

}  // namespace stackhouse::analysis::testing
