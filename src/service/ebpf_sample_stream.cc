#include "service/ebpf_sample_stream.h"

#include <utility>
#include <vector>

#include "common/logging.h"
#include "common/status_macros.h"
#include "service/ebpf_service.h"
#include "storage/stack_fingerprint.h"

namespace stackhouse::service {

EbpfSampleStream::~EbpfSampleStream() {
  if (skipped_ > 0) {
    GetLogger("service")->warn("collectProfilingData: skipped {} unusable samples", skipped_);
  }
}

absl::Status EbpfSampleStream::StartUpload(const std::string& task_id,
                                           const std::string& process_id,
                                           int64_t profiling_start_ms, int64_t current_time_ms) {
  has_schedule_ = false;
  std::string schedule_id;
  if (!task_id.empty() && !process_id.empty()) {
    // The upload time stamps the samples and the schedule's end; the start names and starts
    // the schedule.
    SH_ASSIGN_OR_RETURN(schedule_id, ebpf_->RecordSchedule(task_id, process_id, profiling_start_ms,
                                                           current_time_ms));
    has_schedule_ = true;
  }
  return writer_.StartUpload(schedule_id, current_time_ms);
}

absl::Status EbpfSampleStream::Add(const RoverSampleValues& values, size_t frames,
                                   StackVisitor stack) {
  if (!has_schedule_ || frames == 0 || values.dump_count < 0 || values.switch_count < 0 ||
      values.duration_ns < 0) {
    ++skipped_;
    return absl::OkStatus();
  }
  // The stack is hashed from the caller's own strings; its frames are built only if this
  // stream has not seen it yet.
  storage::StackHasher hasher;
  stack([&hasher](model::StackType space, const std::string& symbol) {
    hasher.AddFrame(storage::EbpfFrameTag(space), symbol);
  });
  storage::StoredEbpfSample sample;
  sample.target_type = values.target_type;
  sample.dump_count = values.dump_count;
  sample.switch_count = values.switch_count;
  sample.duration_ns = values.duration_ns;
  return writer_.Add(
      hasher.Finish(),
      [&](std::vector<std::string>* out) {
        out->reserve(frames);
        stack([out](model::StackType space, const std::string& symbol) {
          std::string& frame = out->emplace_back();
          frame.reserve(1 + symbol.size());
          frame.push_back(storage::EbpfFrameTag(space));
          frame.append(symbol);
        });
      },
      sample);
}

}  // namespace stackhouse::service
