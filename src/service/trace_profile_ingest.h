#pragma once

#include <cstddef>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/profile.h"
#include "service/snapshot_stream.h"
#include "storage/profile_store.h"

namespace stackhouse::service {

// What trace-profiling agents upload for a task (grpc-protocol.md §5.4): the Java and Python
// agents' thread snapshots and the Go agent's pprof profiles. Thread-safe (no state beyond the
// store).
class TraceProfileIngest {
 public:
  // `snapshots` must outlive the service.
  explicit TraceProfileIngest(storage::SnapshotStore* snapshots) : snapshots_(snapshots) {}

  // A collectSnapshot stream's dumps, written in batches of at most `max_batch`; the stream
  // must not outlive the service.
  std::unique_ptr<SnapshotStream> OpenSnapshotStream(size_t max_batch) {
    return std::make_unique<SnapshotStream>(snapshots_, max_batch);
  }

  // Stores `profile` once for every segment its samples are labelled with (durable when OK):
  // true. A profile without a sample labelled with a segment cannot be analysed: it is not
  // stored, a warning names its task, and the answer is false.
  absl::StatusOr<bool> AddGoProfile(const model::GoProfile& profile);

 private:
  storage::SnapshotStore* const snapshots_;
};

}  // namespace stackhouse::service
