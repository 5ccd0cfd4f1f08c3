#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/trace.h"

namespace stackhouse::storage {

// A segment with what was derived from it at ingest.
struct StoredSegment {
  model::SegmentSummary summary;
  model::Segment segment;
};

// Trace segments, by id and by (trace, instance). Implementations are thread-safe.
class SegmentStore {
 public:
  virtual ~SegmentStore() = default;

  // Stores the segments with their summaries (same length, same order) atomically.
  virtual absl::Status AddSegments(const std::vector<model::Segment>& segments,
                                   const std::vector<model::SegmentSummary>& summaries) = 0;

  // The live segment `segment_id`, or nullopt.
  virtual absl::StatusOr<std::optional<StoredSegment>> GetSegment(
      const std::string& segment_id) const = 0;

  // Every live segment of `trace_id` reported by instance `instance_id`.
  virtual absl::StatusOr<std::vector<StoredSegment>> ListByTraceAndInstance(
      const std::string& trace_id, const std::string& instance_id) const = 0;

  // The live segments of `trace_id` (every instance), at most `limit` of them.
  virtual absl::StatusOr<std::vector<StoredSegment>> ListByTrace(const std::string& trace_id,
                                                                 size_t limit) const = 0;
};

}  // namespace stackhouse::storage
