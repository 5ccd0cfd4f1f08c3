#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "analysis/ebpf_stack.h"
#include "analysis/ebpf_stack_merge.h"
#include "analysis/thread_dump.h"

// The eBPF merge over a list of samples, for tests: the spec's vectors (testdata/ebpf) run on
// it, and the server's streaming aggregation (profile::LoadEbpfProfile, which reads raw blocks
// and roll-ups) is compared with it. The server itself never builds such a list.
namespace stackhouse::analysis::testing {

// One sample as read for analysis (spec §5.7 steps 2–3).
struct EbpfSample {
  // Index into the EbpfStackTable the samples are merged with.
  uint32_t stack_id = 0;
  // The value chosen for the aggregate type (step 3): dumpCount for ON_CPU; for OFF_CPU the
  // duration if the aggregate type is DURATION, otherwise the switch count.
  int64_t value = 0;
};

// The values of `samples` (in read order) summed per stack id: one entry per distinct stack id,
// in order of first appearance; samples with value 0 count as appearances.
// Errors: InvalidArgument if a sample's stack_id is >= stack_count.
absl::StatusOr<std::vector<StackTotal>> AggregateSamples(absl::Span<const EbpfSample> samples,
                                                         size_t stack_count);

// AggregateSamples, then BuildEbpfTrees: spec §5.7 steps 5–8 over `samples` in read order.
absl::StatusOr<EbpfAnalysis> MergeEbpfSamples(absl::Span<const EbpfSample> samples,
                                              const EbpfStackTable& stacks,
                                              const FrameTable& symbols);

}  // namespace stackhouse::analysis::testing
