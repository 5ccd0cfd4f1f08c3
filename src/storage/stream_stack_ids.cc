#include "storage/stream_stack_ids.h"

namespace stackhouse::storage {

uint32_t StreamStackIds::Slot(const StackFingerprint& fingerprint,
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
  return it->second;
}

absl::Status StreamStackIds::Resolve(
    absl::FunctionRef<absl::StatusOr<std::vector<uint64_t>>(absl::Span<const PendingStack>)>
        resolve) {
  if (pending_slots_.empty()) return absl::OkStatus();
  std::vector<PendingStack> stacks(pending_slots_.size());
  for (size_t i = 0; i < stacks.size(); ++i) {
    stacks[i] = {pending_fingerprints_[i], &pending_frames_[i]};
  }
  absl::StatusOr<std::vector<uint64_t>> ids = resolve(stacks);
  if (ids.ok() && ids->size() != stacks.size()) {
    ids = absl::InternalError("the stack dictionary answered a different number of ids");
  }
  if (!ids.ok()) {
    Clear();
    return ids.status();
  }
  for (size_t i = 0; i < ids->size(); ++i) ids_[pending_slots_[i]] = (*ids)[i];
  resolved_ += ids->size();
  pending_slots_.clear();
  pending_fingerprints_.clear();
  pending_frames_.clear();
  pending_bytes_ = 0;
  return absl::OkStatus();
}

void StreamStackIds::Forget(bool failed) {
  if (failed || slots_.size() > kMaxRemembered) Clear();
}

void StreamStackIds::Clear() {
  slots_.clear();
  ids_.clear();
  pending_slots_.clear();
  pending_fingerprints_.clear();
  pending_frames_.clear();
  pending_bytes_ = 0;
}

}  // namespace stackhouse::storage
