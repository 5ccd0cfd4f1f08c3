#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "analysis/fetch_plan.h"
#include "analysis/flame_graph.h"
#include "profile/ebpf_profile.h"
#include "profile/trace_profile.h"
#include "storage/ebpf_store.h"
#include "storage/profile_store.h"

// A profile chosen by a person or a script (Stackhouse's exports and `stackhouseDiff`), loaded
// as a FlameGraph: the same analyses as SkyWalking's queries, with stricter input checks.
namespace stackhouse::profile {

// Trace profiling: segments × time ranges (getSegmentsProfileAnalyze's queries).
struct TraceSelection {
  std::vector<SegmentQuery> queries;
};

// eBPF profiling: schedules × time ranges × aggregate type (analysisEBPFProfilingResult's).
struct EbpfSelection {
  std::vector<std::string> schedule_ids;
  std::vector<analysis::EbpfTimeRange> ranges;
  bool by_duration = false;  // aggregateType DURATION (else COUNT)
};

using ProfileSelection = std::variant<TraceSelection, EbpfSelection>;

// Where selections are read from. The stores must outlive every call.
struct ProfileSources {
  const storage::SnapshotStore* snapshots = nullptr;
  const storage::EbpfStore* ebpf_store = nullptr;
  // Per trace query, as getSegmentsProfileAnalyze (config `maxSizeOfAnalyzeProfileSnapshot`).
  int32_t max_snapshots = analysis::kDefaultMaxAnalyzedSnapshots;
  // eBPF analyses go through it when set (identical concurrent ones computed once, the
  // configured sample limit); else LoadEbpfProfile with its default limit.
  std::shared_ptr<const EbpfAnalyzer> ebpf_analyzer;
};

// Checks `selection`, loads it with LoadTraceProfile / LoadEbpfProfile and returns its
// trees as a ThreadDumpFlameGraph / EbpfFlameGraph. Errors:
//   - InvalidArgument: no segment query / schedule / time range, an empty segment id, a time
//     range with start > end, or eBPF schedules that mix On-CPU and Off-CPU samples;
//   - NotFound "no profiling data for ...": a segment without any dump, a schedule that does not
//     exist, or no sample at all in the selection;
//   - storage failures.
// Thread-safe if the stores are.
absl::StatusOr<std::unique_ptr<const analysis::FlameGraph>> LoadFlameGraph(
    const ProfileSources& sources, const ProfileSelection& selection);

}  // namespace stackhouse::profile
