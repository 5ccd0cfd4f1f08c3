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
  auto [it, inserted] = slots_.try_emplace(fingerprint, static_cast<uint32_t>(ids_.size()));
  if (inserted) {
    ids_.push_back(0);
    pending_slots_.push_back(it->second);
    pending_fingerprints_.push_back(fingerprint);
    std::vector<std::string>& added = pending_frames_.emplace_back();
    frames(&added);
    for (const std::string& frame : added) pending_bytes_ += frame.size() + sizeof(frame);
  }
  if (buffered_ == dumps_.size()) {
    dumps_.emplace_back();
    dump_slots_.emplace_back();
  }
  ResolvedDump& dump = dumps_[buffered_];
  dump.task_id.assign(task_id.data(), task_id.size());
  dump.segment_id.assign(segment_id.data(), segment_id.size());
  dump.dump_time_ms = dump_time_ms;
  dump.sequence = sequence;
  dump_slots_[buffered_] = it->second;
  ++buffered_;
  if (buffered_ >= max_batch_ || pending_bytes_ >= kMaxPendingFrameBytes) return Flush();
  return absl::OkStatus();
}

absl::Status SnapshotWriter::Flush() {
  if (!pending_slots_.empty()) {
    std::vector<PendingStack> stacks(pending_slots_.size());
    for (size_t i = 0; i < stacks.size(); ++i) {
      stacks[i] = {pending_fingerprints_[i], &pending_frames_[i]};
    }
    absl::StatusOr<std::vector<uint64_t>> ids = store_->ResolveStacks(stacks);
    if (!ids.ok()) {
      // Nothing of this batch is stored; the stacks first seen in it are forgotten with it.
      slots_.clear();
      ids_.clear();
      pending_slots_.clear();
      pending_fingerprints_.clear();
      pending_frames_.clear();
      pending_bytes_ = 0;
      buffered_ = 0;
      return ids.status();
    }
    for (size_t i = 0; i < ids->size(); ++i) ids_[pending_slots_[i]] = (*ids)[i];
    stacks_resolved_ += ids->size();
    pending_slots_.clear();
    pending_fingerprints_.clear();
    pending_frames_.clear();
    pending_bytes_ = 0;
  }
  if (buffered_ == 0) return absl::OkStatus();
  for (size_t i = 0; i < buffered_; ++i) dumps_[i].stack_id = ids_[dump_slots_[i]];
  absl::Status status = store_->AddDumps(absl::MakeConstSpan(dumps_.data(), buffered_));
  buffered_ = 0;
  if (!status.ok() || slots_.size() > kMaxRememberedStacks) {
    // After a failed write an id may name a stack the store no longer has: resolve again.
    slots_.clear();
    ids_.clear();
  }
  return status;
}

}  // namespace stackhouse::storage
