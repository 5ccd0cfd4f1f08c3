#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/span_event.h"

namespace stackhouse::storage {

// The events Rover attaches to spans, by trace. Implementations are thread-safe.
class SpanEventStore {
 public:
  virtual ~SpanEventStore() = default;

  // Stores `events` atomically; each is kept (record retention) from now on. The same event
  // sent twice is stored twice.
  virtual absl::Status AddEvents(const std::vector<model::SpanAttachedEvent>& events) = 0;

  // The live events of `trace_id`, by start time (seconds, nanos), at most `limit` of them
  // (the earliest).
  virtual absl::StatusOr<std::vector<model::SpanAttachedEvent>> ListByTrace(
      const std::string& trace_id, size_t limit) const = 0;
};

}  // namespace stackhouse::storage
