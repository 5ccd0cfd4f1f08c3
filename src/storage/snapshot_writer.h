#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/profile_store.h"
#include "storage/stack_fingerprint.h"

namespace stackhouse::storage {

// Buffers the thread dumps of one collectSnapshot stream and stores them in batches. The caller
// identifies each dump's stack by its fingerprint (StackHasher over the frames, root first, as
// the agent sent them); the writer remembers the dictionary ids of the stacks this stream has
// seen, so a repeated stack costs a hash and a map lookup, and its frames are built and
// resolved through the store (the shared dictionary) only the first time. The fingerprint is
// trusted without reading the frames back: a stack crafted to collide with another only
// misfiles that stream's own dumps. Not thread-safe: one per stream.
class SnapshotWriter {
 public:
  // The writer forgets the stacks it has seen (after a write) beyond this many.
  static constexpr size_t kMaxRememberedStacks = 1 << 16;
  // New stacks' frames are resolved (with what is buffered) once they hold this many bytes.
  static constexpr size_t kMaxPendingFrameBytes = 16 << 20;

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
  size_t stacks_resolved() const { return stacks_resolved_; }

 private:
  SnapshotStore* const store_;
  const size_t max_batch_;

  // Fingerprint → index into ids_ (the stack's dictionary id once resolved).
  absl::flat_hash_map<StackFingerprint, uint32_t> slots_;
  std::vector<uint64_t> ids_;
  // Stacks first seen since the last write: their slot, fingerprint and frames.
  std::vector<uint32_t> pending_slots_;
  std::vector<StackFingerprint> pending_fingerprints_;
  std::vector<std::vector<std::string>> pending_frames_;
  size_t pending_bytes_ = 0;
  // dumps_[0, buffered_) are the buffered dumps (the elements beyond keep their strings'
  // capacity for the next batch); dump_slots_[i] is the slot of dumps_[i]'s stack.
  std::vector<ResolvedDump> dumps_;
  std::vector<uint32_t> dump_slots_;
  size_t buffered_ = 0;
  size_t stacks_resolved_ = 0;
};

}  // namespace stackhouse::storage
