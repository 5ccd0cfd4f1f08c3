#include "analysis/fetch_plan.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace stackhouse::analysis {

absl::StatusOr<FetchPlan> PlanFetch(absl::Span<const QueryWindow> windows,
                                    const AnalysisLimits& limits) {
  if (limits.batch_size < 1 || limits.max_snapshots < 1) {
    return absl::InvalidArgumentError(absl::StrCat("snapshot batch size (", limits.batch_size,
                                                   ") and analysis limit (", limits.max_snapshots,
                                                   ") must be at least 1"));
  }
  FetchPlan plan;
  int64_t total = 0;
  for (const QueryWindow& window : windows) {
    if (!window.found) continue;
    if (window.min_sequence > window.max_sequence) {
      return absl::InvalidArgumentError(absl::StrCat("window of segment ", window.segment_index,
                                                     ": min sequence ", window.min_sequence,
                                                     " > max sequence ", window.max_sequence));
    }
    const int64_t min_sequence = window.min_sequence;
    const int64_t end = int64_t{window.max_sequence} + 1;
    total += end - min_sequence;
    const int64_t cap = std::min(end, min_sequence + limits.max_snapshots);
    for (int64_t start = min_sequence; start < cap; start += limits.batch_size) {
      plan.ranges.push_back(
          {window.segment_index, start, std::min(start + limits.batch_size, cap)});
    }
  }
  if (total > limits.max_snapshots) {
    plan.tip = absl::StrCat("Out of snapshot analyze limit, ", total,
                            " snapshots found, but analysis first ", limits.max_snapshots,
                            " snapshots only.");
  }
  return plan;
}

}  // namespace stackhouse::analysis
