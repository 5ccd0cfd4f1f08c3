#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graphql/resolver.h"
#include "graphql/schema.h"
#include "graphql/value.h"
#include "profile/ebpf_profile.h"

namespace stackhouse::query {

// The ranges of a `[EBPFProfilingAnalyzeTimeRange!]` argument (coerced), in order; none if
// it is not a list.
std::vector<analysis::EbpfTimeRange> EbpfTimeRangesFromValue(const graphql::Value& ranges);

// analysisEBPFProfilingResult: EbpfAnalyzer::Load as an `EBPFProfilingAnalyzation`.
absl::StatusOr<graphql::Result> AnalyzeEbpfResult(
    const profile::EbpfAnalyzer& analyzer, const std::vector<std::string>& schedule_ids,
    const std::vector<analysis::EbpfTimeRange>& ranges, bool by_duration);

// Binds the getters of `EBPFProfilingStackElement` (the objects AnalyzeEbpfResult returns).
void BindEbpfElementGetters(graphql::SchemaBuilder* builder);

}  // namespace stackhouse::query
