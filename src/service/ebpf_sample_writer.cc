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
  sample_slots_.push_back(stacks_.Slot(fingerprint, frames));
  samples_.push_back(sample);
  samples_.back().upload_time_ms = upload_time_ms_;
  if (samples_.size() >= kMaxBlockSamples || stacks_.pending_bytes() >= kMaxPendingFrameBytes) {
    return Flush();
  }
  return absl::OkStatus();
}

absl::Status EbpfSampleWriter::Flush() {
  absl::Status status = stacks_.Resolve([this](absl::Span<const storage::PendingStack> stacks) {
    return store_->ResolveStacks(stacks);
  });
  if (status.ok() && !samples_.empty()) {
    for (size_t i = 0; i < samples_.size(); ++i)
      samples_[i].stack_id = stacks_.id(sample_slots_[i]);
    status = store_->AddSampleBlock(schedule_id_, upload_time_ms_, samples_);
    stacks_.Forget(!status.ok());
  }
  samples_.clear();
  sample_slots_.clear();
  return status;
}

}  // namespace stackhouse::service
