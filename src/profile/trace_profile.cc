#include "profile/trace_profile.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "analysis/fetch_plan.h"
#include "analysis/thread_dump_merge.h"
#include "common/status_macros.h"
#include "wire/go_profile.h"

namespace stackhouse::profile {

namespace {

// Spec §4.6: the Go agents' profiles of the queried segments, if any, as one tree each (each
// stored profile decoded once, however many of its segments are queried).
absl::StatusOr<std::optional<TraceProfile>> LoadGoProfiles(
    const storage::SnapshotStore& snapshots, const std::vector<SegmentQuery>& queries) {
  std::vector<model::GoSegmentProfile> profiles;
  for (const SegmentQuery& query : queries) {
    SH_ASSIGN_OR_RETURN(std::vector<model::GoSegmentProfile> of_segment,
                        snapshots.ListGoProfiles(query.segment_id));
    for (auto& p : of_segment) profiles.push_back(std::move(p));
  }
  if (profiles.empty()) return std::nullopt;
  absl::flat_hash_set<absl::string_view> queried;
  for (const SegmentQuery& query : queries) {
    if (!queried.insert(query.segment_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("segment ", query.segment_id,
                       " is queried more than once; a Go agent's profile is analysed whole, "
                       "so query each Go segment once"));
    }
  }
  TraceProfile profile;
  profile.go = true;
  auto frames = std::make_shared<analysis::FrameTable>();
  absl::flat_hash_map<std::string, std::optional<wire::GoProfileReader>> readers;
  for (const model::GoSegmentProfile& p : profiles) {
    auto [it, inserted] = readers.try_emplace(p.profile_key);
    if (inserted) {
      SH_ASSIGN_OR_RETURN(std::optional<std::string> bytes, snapshots.GetGoProfile(p.profile_key));
      if (!bytes) continue;  // expired since it was listed
      auto reader = wire::GoProfileReader::Parse(*bytes);
      if (!reader.ok()) {
        return absl::DataLossError(absl::StrCat("cannot decode the stored Go profile of segment ",
                                                p.segment_id, ": ", reader.status().message()));
      }
      it->second.emplace(std::move(*reader));
    }
    if (!it->second) continue;
    const wire::GoProfileReader& reader = *it->second;
    std::vector<analysis::GoSample> samples = reader.Samples(p.segment_id, frames.get());
    profile.analysis.trees.push_back(
        analysis::BuildGoProfileTree(samples, reader.period_ms(), frames.get()));
    profile.go_profiles.push_back({reader.period_ms(), std::move(samples)});
  }
  profile.frames = std::move(frames);
  return profile;
}

// Interns the frames of the stacks read, each once (a frame's text is hashed once per analysis,
// not once per stack that holds it), and adds the stacks to a StackTable.
class StackLoader final : public storage::StackVisitor {
 public:
  StackLoader(analysis::FrameTable* frames, analysis::StackTable* stacks,
              absl::FunctionRef<void(size_t, uint32_t)> added)
      : frames_(frames), stacks_(stacks), added_(added) {}

  void Frame(absl::string_view frame) override { frame_ids_.push_back(frames_->Intern(frame)); }

  void Stack(size_t index, absl::Span<const uint32_t> numbers) override {
    ids_.clear();
    for (uint32_t number : numbers) ids_.push_back(frame_ids_[number]);
    added_(index, stacks_->Add(ids_));
  }

 private:
  analysis::FrameTable* const frames_;
  analysis::StackTable* const stacks_;
  const absl::FunctionRef<void(size_t, uint32_t)> added_;
  std::vector<uint32_t> frame_ids_;  // by frame number: the FrameTable id
  std::vector<uint32_t> ids_;
};

}  // namespace

absl::StatusOr<TraceProfile> LoadTraceProfile(const storage::SnapshotStore& snapshots,
                                              const std::vector<SegmentQuery>& queries,
                                              int32_t max_snapshots) {
  TraceProfile profile;
  // Each distinct segment's dumps, read once, in ascending sequence order.
  std::vector<std::string> segment_ids;
  std::vector<std::vector<storage::StoredDump>> segment_dumps;
  std::vector<analysis::QueryWindow> windows;
  for (const SegmentQuery& query : queries) {
    auto known = std::find(segment_ids.begin(), segment_ids.end(), query.segment_id);
    uint32_t index = static_cast<uint32_t>(known - segment_ids.begin());
    if (known == segment_ids.end()) {
      segment_ids.push_back(query.segment_id);
      segment_dumps.emplace_back();
      auto& dumps = segment_dumps.back();
      SH_RETURN_IF_ERROR(snapshots.ScanDumps(
          query.segment_id, [&dumps](const storage::StoredDump& d) { dumps.push_back(d); }));
      if (dumps.empty()) profile.segments_without_dumps.push_back(query.segment_id);
    }
    analysis::QueryWindow window;
    window.segment_index = index;
    for (const storage::StoredDump& d : segment_dumps[index]) {
      if (d.dump_time_ms < query.start_ms || d.dump_time_ms > query.end_ms) continue;
      if (!window.found) {
        window.found = true;
        window.min_sequence = window.max_sequence = d.sequence;
      }
      window.min_sequence = std::min(window.min_sequence, d.sequence);
      window.max_sequence = std::max(window.max_sequence, d.sequence);
    }
    windows.push_back(window);
  }
  analysis::AnalysisLimits limits;
  limits.max_snapshots = max_snapshots;
  SH_ASSIGN_OR_RETURN(analysis::FetchPlan plan, analysis::PlanFetch(windows, limits));

  // The dumps in fetch order with provisional stack ids (indices into `stack_ids`, the
  // distinct dictionary ids in order of first appearance); the stacks are read afterwards in
  // the order of their ids (their keys), so that neighbours share the blocks read.
  std::vector<uint64_t> stack_ids;
  absl::flat_hash_map<uint64_t, uint32_t> provisional;  // dictionary id → index in stack_ids
  std::vector<analysis::ThreadDump> dumps;
  for (const analysis::FetchRange& range : plan.ranges) {
    const auto& all = segment_dumps[range.segment_index];
    auto first = std::lower_bound(
        all.begin(), all.end(), range.start,
        [](const storage::StoredDump& d, int64_t sequence) { return d.sequence < sequence; });
    for (auto it = first; it != all.end() && it->sequence < range.end; ++it) {
      if (it->language != model::SnapshotLanguage::kJava) continue;
      auto [slot, inserted] =
          provisional.try_emplace(it->stack_id, static_cast<uint32_t>(stack_ids.size()));
      if (inserted) stack_ids.push_back(it->stack_id);
      dumps.push_back({range.segment_index, it->sequence, it->dump_time_ms, slot->second});
    }
  }
  std::vector<uint32_t> by_id(stack_ids.size());
  for (uint32_t i = 0; i < by_id.size(); ++i) by_id[i] = i;
  std::sort(by_id.begin(), by_id.end(),
            [&](uint32_t a, uint32_t b) { return stack_ids[a] < stack_ids[b]; });
  std::vector<uint64_t> sorted_ids(by_id.size());
  for (size_t i = 0; i < by_id.size(); ++i) sorted_ids[i] = stack_ids[by_id[i]];
  auto frames = std::make_shared<analysis::FrameTable>();
  analysis::StackTable stacks;
  constexpr int64_t kExpired = -1;
  std::vector<int64_t> table_ids(stack_ids.size(), kExpired);
  const auto added = [&](size_t i, uint32_t table_id) { table_ids[by_id[i]] = table_id; };
  StackLoader loader(frames.get(), &stacks, added);
  // Its dumps are skipped when a stack has expired (it is not visited).
  SH_RETURN_IF_ERROR(snapshots.ReadStacks(sorted_ids, loader));
  size_t kept = 0;
  for (analysis::ThreadDump& dump : dumps) {
    const int64_t table_id = table_ids[dump.stack_id];
    if (table_id == kExpired) continue;
    dump.stack_id = static_cast<uint32_t>(table_id);
    dumps[kept++] = dump;
  }
  dumps.resize(kept);
  SH_ASSIGN_OR_RETURN(profile.analysis,
                      analysis::AnalyzeThreadDumps(dumps, stacks, *frames, plan.tip));
  profile.frames = std::move(frames);
  if (!profile.analysis.trees.empty()) return profile;
  // No Java tree: the OAP falls back to the Go agents' profiles (spec §4.5 step 10, §4.6).
  SH_ASSIGN_OR_RETURN(std::optional<TraceProfile> go, LoadGoProfiles(snapshots, queries));
  if (go) return std::move(*go);
  return profile;
}

}  // namespace stackhouse::profile
