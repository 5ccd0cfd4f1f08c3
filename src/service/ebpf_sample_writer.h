#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "storage/ebpf_store.h"
#include "storage/stack_fingerprint.h"

namespace stackhouse::service {

// Buffers the samples of one collectProfilingData stream and writes them as sample blocks.
// The caller identifies each sample's stack by its fingerprint; the writer remembers the
// dictionary ids of the stacks this stream has seen, so a repeated stack costs a hash and a
// map lookup, and its frames are built only the first time. Not thread-safe: one per stream.
class EbpfSampleWriter {
 public:
  // Samples are written in blocks of at most this many.
  static constexpr size_t kMaxBlockSamples = 4096;
  // The writer forgets the stacks it has seen (after a write) beyond this many.
  static constexpr size_t kMaxRememberedStacks = 1 << 16;
  // New stacks' frames are resolved (with what is buffered) once they hold this many bytes.
  static constexpr size_t kMaxPendingFrameBytes = 16 << 20;

  // `store` must outlive the writer.
  explicit EbpfSampleWriter(storage::EbpfStore* store) : store_(store) {}

  // Later samples belong to this upload. Writes what is buffered first.
  absl::Status StartUpload(const std::string& schedule_id, int64_t upload_time_ms);

  // Adds a sample of the current upload: `sample` carries the target type and its values
  // (its stack id and upload time are set here). `frames` appends the stack's frames (root
  // first, EncodeEbpfFrame's encoding) and is called only for a stack this writer has not seen.
  absl::Status Add(const storage::StackFingerprint& fingerprint,
                   absl::FunctionRef<void(std::vector<std::string>*)> frames,
                   const storage::StoredEbpfSample& sample);

  // Writes what is buffered (durable when OK).
  absl::Status Flush();

  // Number of stacks resolved through the store so far (for tests).
  size_t stacks_resolved() const { return stacks_resolved_; }

 private:
  storage::EbpfStore* const store_;
  std::string schedule_id_;
  int64_t upload_time_ms_ = 0;

  // Fingerprint → index into ids_ (the stack's dictionary id once resolved).
  absl::flat_hash_map<storage::StackFingerprint, uint32_t> slots_;
  std::vector<uint64_t> ids_;
  // Stacks first seen since the last write: their slot and frames.
  std::vector<uint32_t> pending_slots_;
  std::vector<storage::StackFingerprint> pending_fingerprints_;
  std::vector<std::vector<std::string>> pending_frames_;
  size_t pending_bytes_ = 0;
  // The buffered samples and the slot of each one's stack.
  std::vector<storage::StoredEbpfSample> samples_;
  std::vector<uint32_t> sample_slots_;
  size_t stacks_resolved_ = 0;
};

}  // namespace stackhouse::service
