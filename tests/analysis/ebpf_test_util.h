#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "analysis/ebpf_stack.h"
#include "analysis/ebpf_stack_merge.h"
#include "analysis/ebpf_time_ranges.h"
#include "analysis/thread_dump.h"
#include "ebpf_reference_merge.h"

// Helpers for the eBPF analysis tests: a compact text notation for stored samples (the spec's
// `value: frames root→leaf` of §10.3, plus an upload time), an in-memory stand-in for the eBPF
// store and the resolver, and a text rendering of results. Thread-compatible.
//
// Frames are words: `name` is a USER_SPACE symbol, `k:name` a KERNEL_SPACE one; `''` and `k:`
// are the empty USER_SPACE and KERNEL_SPACE names. Rendered the same way.
namespace stackhouse::analysis::testing {

using NamedFrame = BasicEbpfFrame<std::string>;

// Parses one frame word (see above).
NamedFrame ParseFrame(absl::string_view word);
// The word for `frame` (the inverse of ParseFrame).
std::string FrameText(absl::string_view name, StackType type);

// One stored record of a schedule (spec §5.0). ON_CPU records carry a dump count; OFF_CPU ones
// a switch count and a duration.
struct TextEbpfSample {
  int64_t upload_time_ms = 0;
  bool off_cpu = false;
  int64_t dump_count = 0;
  int64_t switch_count = 0;
  int64_t duration = 0;
  std::vector<NamedFrame> stack;  // root first
};

struct TextSchedule {
  std::string name;
  std::vector<TextEbpfSample> samples;  // in storage order (any)
};

// A whole `analysisEBPFProfilingResult` scenario.
struct EbpfCase {
  std::vector<TextSchedule> schedules;
  std::vector<std::string> schedule_ids;  // the `scheduleIdList`
  std::vector<EbpfTimeRange> time_ranges;
  bool aggregate_duration = false;  // aggregateType DURATION (else COUNT)
};

// Parses `<upload time> <value>: frames` where value is `<dumpCount>` (ON_CPU) or
// `<switchCount>/<duration>` (OFF_CPU); an empty frame list is an empty stack.
absl::StatusOr<TextEbpfSample> ParseEbpfSample(absl::string_view line);

// Parses the input half of a golden case:
//   aggregate COUNT|DURATION        (optional, default COUNT)
//   schedule <name>                 then one sample per line
//   query <schedule>...             (the scheduleIdList, in order; may list none)
//   range <start> <end>             (one per time range, in order)
// `#` starts a comment line; blank lines are ignored.
absl::StatusOr<EbpfCase> ParseEbpfCase(absl::string_view text);

// Runs spec §5.7 end to end like the resolver will: SplitTimeRanges, the reads (per window, by
// upload time, then stack id, then schedule; stack ids are given to distinct stacks in order of
// first appearance in the case), the value choice of step 3, MergeEbpfSamples. Renders:
//   windows: [0,10000) [10000,20000) [20000,25001)
//   samples: 5
//   tree 1
//   1 A (p0) 11                  (the spec's notation of §10.3)
// or `error: <status>` if a step fails.
std::string RunEbpfCase(const EbpfCase& test_case);

// Renders the trees of `analysis` (the `tree` blocks above).
std::string RenderEbpfTrees(const EbpfAnalysis& analysis, const FrameTable& symbols);

// A plain transcription of spec §5.7 steps 5–8 (sample by sample, strings, a node list per
// parent, exact sums saturated at the end), the reference the fast merge is compared with.
// `samples` in read order.
struct ReferenceEbpfSample {
  std::vector<NamedFrame> stack;  // root first
  int64_t value = 0;
};
std::string ReferenceEbpfTrees(const std::vector<ReferenceEbpfSample>& samples);

}  // namespace stackhouse::analysis::testing
