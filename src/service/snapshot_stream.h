#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "storage/profile_store.h"
#include "storage/snapshot_writer.h"

namespace stackhouse::service {

// The thread dumps of one collectSnapshot stream (grpc-protocol.md §5.4), stored in batches
// through a storage::SnapshotWriter: each dump's stack is hashed from the caller's own strings,
// and its frames are built only for a stack this stream has not sent before. Not thread-safe:
// one per stream.
class SnapshotStream {
 public:
  // Calls `visit(frame)` for every frame of a dump's stack, root first.
  using FrameVisitor = absl::FunctionRef<void(const std::string&)>;
  using StackVisitor = absl::FunctionRef<void(FrameVisitor)>;

  // `store` must outlive the stream. Dumps are written in batches of at most `max_batch`.
  SnapshotStream(storage::SnapshotStore* store, size_t max_batch) : writer_(store, max_batch) {}

  // Adds dump `sequence` of `segment_id` for `task_id`, taken at `dump_time_ms`, whose stack has
  // `frames` frames that `stack` visits (once to hash them; again only for a new stack). Writes
  // the batch when it is full; on an error the batch is dropped.
  absl::Status Add(const std::string& task_id, const std::string& segment_id, int64_t dump_time_ms,
                   int32_t sequence, size_t frames, StackVisitor stack);

  // Writes what is buffered (durable when OK).
  absl::Status Flush() { return writer_.Flush(); }

 private:
  storage::SnapshotWriter writer_;
};

}  // namespace stackhouse::service
