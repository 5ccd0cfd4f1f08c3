#include "storage/snapshot_writer.h"

#include <algorithm>

#include "absl/types/span.h"
#include "common/status_macros.h"

namespace stackhouse::storage {

SnapshotWriter::SnapshotWriter(SnapshotStore* store, size_t max_batch)
    : store_(store), max_batch_(std::max<size_t>(max_batch, 1)) {}

absl::Status SnapshotWriter::Add(absl::string_view task_id, absl::string_view segment_id,
                                 int64_t dump_time_ms, int32_t sequence,
                                 const StackFingerprint& fingerprint,
                                 absl::FunctionRef<void(std::vector<std::string>*)> frames) {
  const uint32_t slot = stacks_.Slot(fingerprint, frames);
  if (buffered_ == dumps_.size()) {
    dumps_.emplace_back();
    dump_slots_.emplace_back();
  }
  ResolvedDump& dump = dumps_[buffered_];
  dump.task_id.assign(task_id.data(), task_id.size());
  dump.segment_id.assign(segment_id.data(), segment_id.size());
  dump.dump_time_ms = dump_time_ms;
  dump.sequence = sequence;
  dump_slots_[buffered_] = slot;
  ++buffered_;
  if (buffered_ >= max_batch_ || stacks_.pending_bytes() >= kMaxPendingFrameBytes) return Flush();
  return absl::OkStatus();
}

absl::Status SnapshotWriter::Flush() {
  if (absl::Status resolved = stacks_.Resolve(
          [this](absl::Span<const PendingStack> stacks) { return store_->ResolveStacks(stacks); });
      !resolved.ok()) {
    buffered_ = 0;  // nothing of this batch is stored
    return resolved;
  }
  if (buffered_ == 0) return absl::OkStatus();
  for (size_t i = 0; i < buffered_; ++i) dumps_[i].stack_id = stacks_.id(dump_slots_[i]);
  absl::Status status = store_->AddDumps(absl::MakeConstSpan(dumps_.data(), buffered_));
  buffered_ = 0;
  stacks_.Forget(!status.ok());
  return status;
}

}  // namespace stackhouse::storage
