#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "analysis/go_profile_tree.h"
#include "analysis/thread_dump.h"
#include "analysis/thread_dump_merge.h"
#include "storage/profile_store.h"

// Loading profiles from the stores and merging them: what the GraphQL resolvers, the exports
// and the diff share. No GraphQL and no HTTP here.
namespace stackhouse::profile {

// One `SegmentProfileAnalyzeQuery`: a segment's dumps with start <= dump time <= end.
struct SegmentQuery {
  std::string segment_id;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// The merged trees of some segments' dumps, as plain structs.
struct TraceProfile {
  analysis::ProfileAnalysis analysis;  // OAP's tip and the trees
  // The code signatures the trees' frame ids refer to; shared so that results built from the
  // profile can keep it alive.
  std::shared_ptr<const analysis::FrameTable> frames;
  // The queried segment ids that have no stored dump at all (each once, in query order).
  std::vector<std::string> segments_without_dumps;
  // The trees are Go agents' profiles (spec §4.6): ids from 0, the root's parent -1, rooted at
  // leaf frames as the OAP builds them.
  bool go = false;
  // For Go profiles, each profile's samples (frames in `frames`) and period, from which flame
  // graphs are built root first (analysis::BuildGoFlameTrees).
  struct GoProfileSamples {
    int64_t period_ms = 0;
    std::vector<analysis::GoSample> samples;
  };
  std::vector<GoProfileSamples> go_profiles;
};

// The trace-profiling analysis (graphql-protocol.md §4.5): reads each queried segment's dumps
// once, plans the fetch (at most `max_snapshots` per query, with OAP's tip), resolves the
// distinct stacks from the dictionary and merges them. If that builds no tree, the answer is
// one tree per Go agent's profile of the queried segments, if there are any (spec §4.6;
// InvalidArgument if a segment is queried twice then, as the OAP fails; no tip). Shared by
// getSegmentsProfileAnalyze, the exports and the diff. Errors: storage failures; a dump whose
// stack has expired is skipped.
absl::StatusOr<TraceProfile> LoadTraceProfile(const storage::SnapshotStore& snapshots,
                                              const std::vector<SegmentQuery>& queries,
                                              int32_t max_snapshots);

}  // namespace stackhouse::profile
