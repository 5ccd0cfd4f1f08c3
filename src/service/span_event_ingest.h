#pragma once

#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "common/metrics.h"
#include "model/span_event.h"
#include "storage/span_event_store.h"

namespace stackhouse::service {

// The events Rover attaches to the spans of the requests it sampled (grpc-protocol.md §5.10;
// addendum §3), kept by trace for queryTrace. Counts what it stores and what it drops in
// /metrics. Thread-safe.
class SpanEventIngest {
 public:
  // Dependencies must outlive the service.
  SpanEventIngest(storage::SpanEventStore* store, MetricsRegistry* metrics);

  // Stores those of `events` that name a trace in one atomic write (durable when OK); an
  // event without a trace id could never be read, so it is dropped and counted.
  absl::Status Add(std::vector<model::SpanAttachedEvent> events);

  // Counts `count` events the receiver refused (too large, too many tags) as dropped.
  void CountRefused(size_t count) { dropped_->Increment(count); }

 private:
  storage::SpanEventStore* const store_;
  Counter* const stored_;
  Counter* const dropped_;
};

}  // namespace stackhouse::service
