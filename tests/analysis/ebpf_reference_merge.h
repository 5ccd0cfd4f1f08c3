#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "analysis/ebpf_stack.h"
#include "analysis/ebpf_stack_merge.h"
#include "analysis/ebpf_time_ranges.h"
#include "analysis/thread_dump.h"

// The spec's eBPF analysis step by step, for tests: read windows (step 1), then the merge over a
// list of samples (steps 5–8). The spec's vectors (testdata/ebpf) run on it, and the server's
// path (profile::LoadEbpfProfile, which reads the union of the ranges in chunks and sums per
// stack while it reads raw blocks and roll-ups) is compared with it; the server itself never
// builds windows or a list of samples.
namespace stackhouse::analysis::testing {

// The OAP's window length: one read covers at most 10 s of upload time.
inline constexpr int64_t kEbpfReadWindowMs = 10'000;
// The harness's cap on the windows of one analysis (about 116 days of 10 s windows): wider
// ranges are an error (the OAP starts them all and gives up after its 30 s deadline; the server
// reads in chunks and has no such limit).
inline constexpr size_t kDefaultMaxReadWindows = 1'000'000;

struct ReadWindowLimits {
  int64_t window_ms = kEbpfReadWindowMs;        // must be >= 1
  size_t max_windows = kDefaultMaxReadWindows;  // more windows are an error
};

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
