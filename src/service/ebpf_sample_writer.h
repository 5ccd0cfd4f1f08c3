#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "storage/ebpf_store.h"
#include "storage/stack_fingerprint.h"
#include "storage/stream_stack_ids.h"

namespace stackhouse::service {

// Buffers the samples of one collectProfilingData stream and writes them as sample blocks.
// The caller identifies each sample's stack by its fingerprint; the stream's
// storage::StreamStackIds remember the dictionary ids of the stacks it has seen, so a repeated
// stack costs a hash and a map lookup, and its frames are built only the first time. After a
// failed write the buffered samples are dropped. Not thread-safe: one per stream.
class EbpfSampleWriter {
 public:
  // Samples are written in blocks of at most this many.
  static constexpr size_t kMaxBlockSamples = 4096;
  // The writer forgets the stacks it has seen (after a write) beyond this many.
  static constexpr size_t kMaxRememberedStacks = storage::StreamStackIds::kMaxRemembered;
  // New stacks' frames are resolved (with what is buffered) once they hold this many bytes.
  static constexpr size_t kMaxPendingFrameBytes = storage::StreamStackIds::kMaxPendingFrameBytes;

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
  size_t stacks_resolved() const { return stacks_.resolved(); }

 private:
  storage::EbpfStore* const store_;
  std::string schedule_id_;
  int64_t upload_time_ms_ = 0;

  storage::StreamStackIds stacks_;
  // The buffered samples and the slot of each one's stack.
  std::vector<storage::StoredEbpfSample> samples_;
  std::vector<uint32_t> sample_slots_;
};

}  // namespace stackhouse::service
