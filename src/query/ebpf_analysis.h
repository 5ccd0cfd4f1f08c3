#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graphql/resolver.h"
#include "graphql/schema.h"
#include "storage/ebpf_store.h"

namespace stackhouse::query {

// One `EBPFProfilingAnalyzeTimeRange` (both ends inclusive, ms).
struct EbpfTimeRange {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// analysisEBPFProfilingResult (graphql-protocol.md §5.7): reads the samples of `schedule_ids`
// in the union of `ranges` (each sample once), resolves the distinct stacks and merges them
// into `EBPFProfilingAnalyzation` trees. Values: dumpCount for On-CPU; for Off-CPU the
// duration when `by_duration`, else the switch count. Errors: storage failures; samples whose
// stack has expired are skipped.
absl::StatusOr<graphql::Result> AnalyzeEbpfResult(const storage::EbpfStore& store,
                                                  const std::vector<std::string>& schedule_ids,
                                                  const std::vector<EbpfTimeRange>& ranges,
                                                  bool by_duration);

// Binds the getters of `EBPFProfilingStackElement` (the objects AnalyzeEbpfResult returns).
void BindEbpfElementGetters(graphql::SchemaBuilder* builder);

}  // namespace stackhouse::query
