#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graphql/resolver.h"
#include "graphql/schema.h"
#include "storage/profile_store.h"

namespace stackhouse::query {

// One `SegmentProfileAnalyzeQuery`: a segment's dumps with start <= dump time <= end.
struct SegmentQuery {
  std::string segment_id;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// getSegmentsProfileAnalyze (graphql-protocol.md §4.5): reads each queried segment's dumps
// once, plans the fetch (at most `max_snapshots` per query, with OAP's tip), resolves the
// distinct stacks from the dictionary and merges them into `ProfileAnalyzation` trees.
// Errors: storage failures; a dump whose stack has expired is skipped.
absl::StatusOr<graphql::Result> AnalyzeSegmentsResult(const storage::SnapshotStore& snapshots,
                                                      const std::vector<SegmentQuery>& queries,
                                                      int32_t max_snapshots);

// Binds the getters of `ProfileStackElement` (the objects AnalyzeSegmentsResult returns).
void BindProfileElementGetters(graphql::SchemaBuilder* builder);

}  // namespace stackhouse::query
