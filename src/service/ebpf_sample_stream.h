#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "model/ebpf.h"
#include "service/ebpf_sample_writer.h"

namespace stackhouse::service {

class EbpfService;

// The values of one Rover sample (grpc-protocol.md §2.7): On-CPU carries a dump count,
// Off-CPU a switch count and a duration.
struct RoverSampleValues {
  model::EbpfTargetType target_type = model::EbpfTargetType::kOnCpu;
  int64_t dump_count = 0;
  int64_t switch_count = 0;
  int64_t duration_ns = 0;
};

// The samples of one collectProfilingData stream (grpc-protocol.md §5.8), written to the eBPF
// store in blocks through an EbpfSampleWriter. A task header starts an upload and records its
// schedule; samples that cannot be analysed (no task before them, no profiling branch, no
// stack, a negative count or duration) are skipped and counted, where OAP would fail the stream
// on some of them. Not thread-safe: one per stream.
class EbpfSampleStream {
 public:
  // Calls `visit(space, symbol)` for every frame of a sample's stack, root first.
  using FrameVisitor = absl::FunctionRef<void(model::StackType, const std::string&)>;
  using StackVisitor = absl::FunctionRef<void(FrameVisitor)>;

  // Dependencies must outlive the stream.
  EbpfSampleStream(EbpfService* ebpf, storage::EbpfStore* store) : ebpf_(ebpf), writer_(store) {}
  // Logs how many samples were skipped, if any.
  ~EbpfSampleStream();

  // A task header: later samples belong to the upload of `process_id` for `task_id` at
  // `current_time_ms`, whose schedule (started at `profiling_start_ms`) is created or extended
  // to it first. Without a task or process id, later samples are skipped until the next header.
  // Writes what is buffered first.
  absl::Status StartUpload(const std::string& task_id, const std::string& process_id,
                           int64_t profiling_start_ms, int64_t current_time_ms);

  // Adds a sample of the current upload whose stack has `frames` frames that `stack` visits
  // (hashed each time, built into strings only for a stack this stream has not seen).
  absl::Status Add(const RoverSampleValues& values, size_t frames, StackVisitor stack);

  // A message without a profiling branch: counted as skipped.
  void SkipSample() { ++skipped_; }

  // Writes what is buffered (durable when OK).
  absl::Status Flush() { return writer_.Flush(); }

  size_t skipped() const { return skipped_; }

 private:
  EbpfService* const ebpf_;
  EbpfSampleWriter writer_;
  bool has_schedule_ = false;
  size_t skipped_ = 0;
};

}  // namespace stackhouse::service
