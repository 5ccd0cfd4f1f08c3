#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "graphql/resolver.h"
#include "graphql/schema.h"
#include "graphql/value.h"
#include "profile/trace_profile.h"
#include "storage/profile_store.h"

namespace stackhouse::query {

// The queries of a `[SegmentProfileAnalyzeQuery!]!` argument (coerced), in order.
std::vector<profile::SegmentQuery> SegmentQueriesFromValue(const graphql::Value& queries);

// getSegmentsProfileAnalyze: profile::LoadTraceProfile as a `ProfileAnalyzation`.
absl::StatusOr<graphql::Result> AnalyzeSegmentsResult(
    const storage::SnapshotStore& snapshots, const std::vector<profile::SegmentQuery>& queries,
    int32_t max_snapshots);

// Binds the getters of `ProfileStackElement` (the objects AnalyzeSegmentsResult returns).
void BindProfileElementGetters(graphql::SchemaBuilder* builder);

}  // namespace stackhouse::query
