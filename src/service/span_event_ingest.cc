#include "service/span_event_ingest.h"

#include <algorithm>

namespace stackhouse::service {

SpanEventIngest::SpanEventIngest(storage::SpanEventStore* store, MetricsRegistry* metrics)
    : store_(store),
      stored_(metrics->GetCounter("stackhouse_span_events_total",
                                  "Span-attached events Rover reported and Stackhouse stored "
                                  "(network profiling's sampled HTTP data).")),
      dropped_(metrics->GetCounter(
          "stackhouse_span_events_dropped_total",
          "Span-attached events not stored: without a trace id, too large or with too many "
          "tags.")) {}

absl::Status SpanEventIngest::Add(std::vector<model::SpanAttachedEvent> events) {
  const auto untraced =
      std::remove_if(events.begin(), events.end(),
                     [](const model::SpanAttachedEvent& e) { return e.trace_id.empty(); });
  dropped_->Increment(static_cast<size_t>(events.end() - untraced));
  events.erase(untraced, events.end());
  if (events.empty()) return absl::OkStatus();
  absl::Status written = store_->AddEvents(events);
  if (written.ok()) stored_->Increment(events.size());
  return written;
}

}  // namespace stackhouse::service
