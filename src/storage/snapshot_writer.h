#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/profile_store.h"
#include "storage/stack_fingerprint.h"
#include "storage/stream_stack_ids.h"

namespace stackhouse::storage {

// Buffers the thread dumps of one collectSnapshot stream and stores them in batches. The caller
// identifies each dump's stack by its fingerprint (StackHasher over the frames, root first, as
// the agent sent them); the stream's StreamStackIds remember the dictionary ids of the stacks
// it has seen, so a repeated stack costs a hash and a map lookup, and its frames are built and
// resolved through the store (the shared dictionary) only the first time. Not thread-safe: one
// per stream.
class SnapshotWriter {
 public:
  // The writer forgets the stacks it has seen (after a write) beyond this many.
  static constexpr size_t kMaxRememberedStacks = StreamStackIds::kMaxRemembered;
  // New stacks' frames are resolved (with what is buffered) once they hold this many bytes.
  static constexpr size_t kMaxPendingFrameBytes = StreamStackIds::kMaxPendingFrameBytes;

  // `store` must outlive the writer. Dumps are written in batches of at most `max_batch`
  // (>= 1).
  SnapshotWriter(SnapshotStore* store, size_t max_batch);

  // Adds a dump; writes the batch when it is full. `frames` appends the stack's frames (root
  // first) and is called only for a stack this writer has not seen. On an error the batch is
  // dropped (as AddSnapshots drops what it was given).
  absl::Status Add(absl::string_view task_id, absl::string_view segment_id, int64_t dump_time_ms,
                   int32_t sequence, const StackFingerprint& fingerprint,
                   absl::FunctionRef<void(std::vector<std::string>*)> frames);

  // Writes what is buffered (durable when OK); the buffer is empty afterwards either way.
  absl::Status Flush();

  // Dumps buffered and not written yet.
  size_t buffered() const { return buffered_; }
  // Number of stacks resolved through the store so far (for tests).
  size_t stacks_resolved() const { return stacks_.resolved(); }

 private:
  SnapshotStore* const store_;
  const size_t max_batch_;

  StreamStackIds stacks_;
  // dumps_[0, buffered_) are the buffered dumps (the elements beyond keep their strings'
  // capacity for the next batch); dump_slots_[i] is the slot of dumps_[i]'s stack.
  std::vector<ResolvedDump> dumps_;
  std::vector<uint32_t> dump_slots_;
  size_t buffered_ = 0;
};

}  // namespace stackhouse::storage
