#include "service/ebpf_sample_writer.h"

#include "common/status_macros.h"

namespace stackhouse::service {

absl::Status EbpfSampleWriter::StartUpload(const std::string& schedule_id, int64_t upload_time_ms) {
  SH_RETURN_IF_ERROR(Flush());
  schedule_id_ = schedule_id;
  upload_time_ms_ = upload_time_ms;
  return absl::OkStatus();
}

absl::Status EbpfSampleWriter::Add(const storage::StackFingerprint& fingerprint,
                                   absl::FunctionRef<void(std::vector<std::string>*)> frames,
                                   const storage::StoredEbpfSample& sample) {
  auto [it, inserted] = slots_.try_emplace(fingerprint, static_cast<uint32_t>(ids_.size()));
  if (inserted) {
    ids_.push_back(0);
    pending_slots_.push_back(it->second);
    pending_fingerprints_.push_back(fingerprint);
    std::vector<std::string>& added = pending_frames_.emplace_back();
    frames(&added);
    for (const std::string& frame : added) pending_bytes_ += frame.size() + sizeof(frame);
  }
  sample_slots_.push_back(it->second);
  samples_.push_back(sample);
  samples_.back().upload_time_ms = upload_time_ms_;
  if (samples_.size() >= kMaxBlockSamples || pending_bytes_ >= kMaxPendingFrameBytes) {
    return Flush();
  }
  return absl::OkStatus();
}

absl::Status EbpfSampleWriter::Flush() {
  if (!pending_slots_.empty()) {
    std::vector<storage::PendingStack> stacks(pending_slots_.size());
    for (size_t i = 0; i < stacks.size(); ++i) {
      stacks[i] = {pending_fingerprints_[i], &pending_frames_[i]};
    }
    SH_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, store_->ResolveStacks(stacks));
    for (size_t i = 0; i < ids.size(); ++i) ids_[pending_slots_[i]] = ids[i];
    stacks_resolved_ += ids.size();
    pending_slots_.clear();
    pending_fingerprints_.clear();
    pending_frames_.clear();
    pending_bytes_ = 0;
  }
  if (samples_.empty()) return absl::OkStatus();
  for (size_t i = 0; i < samples_.size(); ++i) samples_[i].stack_id = ids_[sample_slots_[i]];
  absl::Status status = store_->AddSampleBlock(schedule_id_, upload_time_ms_, samples_);
  samples_.clear();
  sample_slots_.clear();
  if (slots_.size() > kMaxRememberedStacks) {
    slots_.clear();
    ids_.clear();
  }
  return status;
}

}  // namespace stackhouse::service
