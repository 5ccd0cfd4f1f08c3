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

}  // namespace stackhouse::analysis::testing
