#include "service/segment_ingest.h"

#include <utility>

#include "common/status_macros.h"

namespace stackhouse::service {

absl::Status SegmentIngest::Add(std::vector<model::Segment> segments) {
  const model::NameLimits& limits = registry_->limits();
  std::vector<model::Segment> kept;
  std::vector<model::SegmentSummary> summaries;
  kept.reserve(segments.size());
  summaries.reserve(segments.size());
  for (model::Segment& segment : segments) {
    if (segment.spans.empty()) continue;
    model::SegmentSummary summary = model::Summarize(segment, limits);
    SH_RETURN_IF_ERROR(registry_->Heartbeat({segment.service, segment.service_instance, ""}));
    SH_RETURN_IF_ERROR(
        registry_->TouchEndpoints(summary.service_id, model::EntryEndpoints(segment, limits)));
    kept.push_back(std::move(segment));
    summaries.push_back(std::move(summary));
  }
  if (kept.empty()) return absl::OkStatus();
  return segments_->AddSegments(kept, summaries);
}

}  // namespace stackhouse::service
