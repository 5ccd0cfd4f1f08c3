#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "storage/stack_fingerprint.h"

namespace stackhouse::storage {

// The dictionary ids of the stacks one ingest stream has seen, by fingerprint, so that a
// repeated stack costs a hash and a map lookup: a stack seen for the first time gets a slot at
// once and its frames are kept until Resolve looks the new ones up in the shared dictionary, in
// one batch, when the stream writes. The fingerprint is trusted without reading the frames
// back: a stack crafted to collide with another only misfiles that stream's own records. Shared
// by the stream writers of eBPF samples (service::EbpfSampleWriter) and thread dumps
// (SnapshotWriter). Not thread-safe: one per stream.
class StreamStackIds {
 public:
  // Stacks remembered beyond this many are forgotten at the next Forget(false).
  static constexpr size_t kMaxRemembered = 1 << 16;
  // Resolve is due (pending_bytes() over this) once new stacks' frames hold this many bytes.
  static constexpr size_t kMaxPendingFrameBytes = 16 << 20;

  // The slot of the stack with `fingerprint`; for a stack not seen yet, `frames` appends its
  // frames (root first, as the dictionary stores them) and it is pending until Resolve.
  uint32_t Slot(const StackFingerprint& fingerprint,
                absl::FunctionRef<void(std::vector<std::string>*)> frames);

  // Resolves the pending stacks with `resolve` (a store's ResolveStacks). On an error every
  // slot is forgotten (the records that use them must be dropped) and the error returned.
  absl::Status Resolve(
      absl::FunctionRef<absl::StatusOr<std::vector<uint64_t>>(absl::Span<const PendingStack>)>
          resolve);

  // The dictionary id of `slot`; valid after the Resolve that followed its Slot.
  uint64_t id(uint32_t slot) const { return ids_[slot]; }

  // After a write: forgets every slot if `failed` (an id may name a stack the store no longer
  // has) or if more than kMaxRemembered are remembered. No slot may be pending.
  void Forget(bool failed);

  size_t pending_bytes() const { return pending_bytes_; }
  // Number of stacks resolved so far (for tests).
  size_t resolved() const { return resolved_; }

 private:
  void Clear();

  absl::flat_hash_map<StackFingerprint, uint32_t> slots_;
  std::vector<uint64_t> ids_;  // by slot
  // Stacks first seen since the last Resolve: their slot, fingerprint and frames.
  std::vector<uint32_t> pending_slots_;
  std::vector<StackFingerprint> pending_fingerprints_;
  std::vector<std::vector<std::string>> pending_frames_;
  size_t pending_bytes_ = 0;
  size_t resolved_ = 0;
};

}  // namespace stackhouse::storage
