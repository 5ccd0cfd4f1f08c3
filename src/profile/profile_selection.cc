#include "profile/profile_selection.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace stackhouse::profile {
namespace {

using analysis::FlameGraph;

absl::Status CheckRange(int64_t start_ms, int64_t end_ms) {
  if (start_ms > end_ms) {
    return absl::InvalidArgumentError(
        absl::StrCat("time range start ", start_ms, " is after its end ", end_ms));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<const FlameGraph>> LoadTrace(const ProfileSources& sources,
                                                            const TraceSelection& selection) {
  if (selection.queries.empty()) {
    return absl::InvalidArgumentError("a trace selection needs at least one segment query");
  }
  std::vector<std::string> segment_ids;
  for (const SegmentQuery& query : selection.queries) {
    if (query.segment_id.empty()) return absl::InvalidArgumentError("empty segment id");
    SH_RETURN_IF_ERROR(CheckRange(query.start_ms, query.end_ms));
    if (std::find(segment_ids.begin(), segment_ids.end(), query.segment_id) == segment_ids.end()) {
      segment_ids.push_back(query.segment_id);
    }
  }
  SH_ASSIGN_OR_RETURN(TraceProfile profile, LoadTraceProfile(*sources.snapshots, selection.queries,
                                                             sources.max_snapshots));
  if (profile.go) {
    // Go agents' profiles: root-first trees from the samples (the GraphQL trees follow the OAP
    // and start at leaf frames); the time ranges do not apply, as in getSegmentsProfileAnalyze.
    std::vector<analysis::ProfileTree> trees;
    for (const TraceProfile::GoProfileSamples& p : profile.go_profiles) {
      for (auto& tree : analysis::BuildGoFlameTrees(p.samples, p.period_ms)) {
        trees.push_back(std::move(tree));
      }
    }
    if (trees.empty()) {
      return absl::NotFoundError(
          absl::StrCat("no profiling data for segment ", absl::StrJoin(segment_ids, ", ")));
    }
    return std::make_unique<const analysis::ThreadDumpFlameGraph>(std::move(trees),
                                                                  std::move(profile.frames));
  }
  if (!profile.segments_without_dumps.empty()) {
    return absl::NotFoundError(absl::StrCat("no profiling data for segment ",
                                            absl::StrJoin(profile.segments_without_dumps, ", ")));
  }
  if (profile.analysis.trees.empty()) {
    return absl::NotFoundError(absl::StrCat("no profiling data for segment ",
                                            absl::StrJoin(segment_ids, ", "),
                                            " in the given time ranges"));
  }
  return std::make_unique<const analysis::ThreadDumpFlameGraph>(std::move(profile.analysis.trees),
                                                                std::move(profile.frames));
}

absl::StatusOr<std::unique_ptr<const FlameGraph>> LoadEbpf(const ProfileSources& sources,
                                                           const EbpfSelection& selection) {
  if (selection.schedule_ids.empty()) {
    return absl::InvalidArgumentError("an eBPF selection needs at least one schedule id");
  }
  if (selection.ranges.empty()) {
    return absl::InvalidArgumentError("an eBPF selection needs at least one time range");
  }
  for (const analysis::EbpfTimeRange& range : selection.ranges) {
    SH_RETURN_IF_ERROR(CheckRange(range.start_ms, range.end_ms));
  }
  for (const std::string& id : selection.schedule_ids) {
    SH_ASSIGN_OR_RETURN(auto schedule, sources.ebpf_store->GetSchedule(id));
    if (!schedule) return absl::NotFoundError(absl::StrCat("no profiling data for schedule ", id));
  }
  std::shared_ptr<const EbpfProfile> shared;
  if (sources.ebpf_analyzer != nullptr) {
    SH_ASSIGN_OR_RETURN(shared,
                        sources.ebpf_analyzer->Load(selection.schedule_ids, selection.ranges,
                                                    selection.by_duration));
  } else {
    SH_ASSIGN_OR_RETURN(EbpfProfile loaded,
                        LoadEbpfProfile(*sources.ebpf_store, selection.schedule_ids,
                                        selection.ranges, selection.by_duration));
    shared = std::make_shared<const EbpfProfile>(std::move(loaded));
  }
  const EbpfProfile& profile = *shared;
  if (profile.has_on_cpu_samples && profile.has_off_cpu_samples) {
    return absl::InvalidArgumentError(
        "the schedules mix ON_CPU and OFF_CPU samples; select them separately");
  }
  if (profile.analysis.trees.empty()) {
    return absl::NotFoundError(absl::StrCat("no profiling data for schedule ",
                                            absl::StrJoin(selection.schedule_ids, ", "),
                                            " in the given time ranges"));
  }
  return std::make_unique<const analysis::EbpfFlameGraph>(
      profile.analysis.trees, profile.symbols, profile.has_off_cpu_samples, profile.by_duration);
}

}  // namespace

absl::StatusOr<std::unique_ptr<const FlameGraph>> LoadFlameGraph(
    const ProfileSources& sources, const ProfileSelection& selection) {
  if (const auto* trace = std::get_if<TraceSelection>(&selection)) {
    return LoadTrace(sources, *trace);
  }
  return LoadEbpf(sources, std::get<EbpfSelection>(selection));
}

}  // namespace stackhouse::profile
