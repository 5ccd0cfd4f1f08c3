#pragma once

#include <vector>

#include "absl/status/status.h"
#include "model/trace.h"
#include "service/registry.h"
#include "storage/segment_store.h"

namespace stackhouse::service {

// Trace segments as agents report them (grpc-protocol.md §5.5): each is summarised (ids from
// truncated names, endpoint, start, latency, error), its service, instance (a heartbeat) and
// entry endpoints are registered, and the batch is stored for trace profiling. Thread-safe (no
// state beyond its dependencies).
class SegmentIngest {
 public:
  // Dependencies must outlive the service.
  SegmentIngest(storage::SegmentStore* segments, Registry* registry)
      : segments_(segments), registry_(registry) {}

  // Registers what `segments` name, then stores them in one atomic write (durable when OK). A
  // segment without spans is skipped, as OAP does (nothing to analyse). If a registration
  // fails, nothing of the batch is stored and its error is returned.
  absl::Status Add(std::vector<model::Segment> segments);

 private:
  storage::SegmentStore* const segments_;
  Registry* const registry_;
};

}  // namespace stackhouse::service
