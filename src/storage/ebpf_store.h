#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "model/ebpf.h"
#include "storage/stack_fingerprint.h"

namespace stackhouse::storage {

// eBPF stacks are stored in the stack dictionary with each frame encoded as a tag byte (the
// space the symbol runs in) followed by the symbol name.
inline constexpr char kKernelFrameTag = 'k';
inline constexpr char kUserFrameTag = 'u';

inline char EbpfFrameTag(model::StackType type) {
  return type == model::StackType::kKernel ? kKernelFrameTag : kUserFrameTag;
}

// `symbol` as a dictionary frame: its tag, then its name.
std::string EncodeEbpfFrame(const model::EbpfSymbol& symbol);

// One stored sample: its stack is a reference into the stack dictionary.
struct StoredEbpfSample {
  int64_t upload_time_ms = 0;
  uint64_t stack_id = 0;
  model::EbpfTargetType target_type = model::EbpfTargetType::kOnCpu;
  int64_t dump_count = 0;
  int64_t switch_count = 0;
  int64_t duration_ns = 0;
};

// The samples of one upload, decoded one at a time (no allocation per sample). Valid only
// during the ScanSampleBlocks callback that hands it out. Not thread-safe.
class EbpfSampleBlock {
 public:
  EbpfSampleBlock(int64_t upload_time_ms, model::EbpfTargetType target_type, uint64_t count,
                  absl::string_view encoded)
      : upload_time_ms_(upload_time_ms),
        target_type_(target_type),
        remaining_(count),
        encoded_(encoded) {}

  int64_t upload_time_ms() const { return upload_time_ms_; }
  model::EbpfTargetType target_type() const { return target_type_; }

  // Decodes the next sample into `*sample`; false at the end or on a corrupt block (then
  // `corrupt()` is true).
  bool Next(StoredEbpfSample* sample);
  bool corrupt() const { return corrupt_; }

 private:
  const int64_t upload_time_ms_;
  const model::EbpfTargetType target_type_;
  uint64_t remaining_;
  absl::string_view encoded_;
  bool corrupt_ = false;
};

// eBPF profiling records: processes, tasks, schedules, a dictionary of distinct stacks and
// sample blocks (one record per schedule and upload). Implementations are thread-safe.
class EbpfStore {
 public:
  virtual ~EbpfStore() = default;

  // Stores (replaces) the processes atomically; they expire metricsDataTTL after last_ping.
  virtual absl::Status PutProcesses(const std::vector<model::Process>& processes) = 0;
  // Every live process, ordered by id.
  virtual absl::StatusOr<std::vector<model::Process>> ListProcesses() const = 0;

  // Appends one task record (records sharing a logical id are merged by readers).
  virtual absl::Status PutTask(const model::EbpfTask& task) = 0;
  virtual absl::StatusOr<std::vector<model::EbpfTask>> ListTasks() const = 0;

  // Stores (replaces) a schedule; it expires metricsDataTTL after its end time.
  virtual absl::Status PutSchedule(const model::EbpfSchedule& schedule) = 0;
  virtual absl::StatusOr<std::optional<model::EbpfSchedule>> GetSchedule(
      const std::string& schedule_id) const = 0;
  // The live schedules of `task_id`, in no particular order.
  virtual absl::StatusOr<std::vector<model::EbpfSchedule>> ListSchedules(
      const std::string& task_id) const = 0;

  // Resolves stacks (frames encoded by EncodeEbpfFrame, root first) to their dictionary ids,
  // same order, storing new ones durably. Callers may keep the ids for later blocks.
  virtual absl::StatusOr<std::vector<uint64_t>> ResolveStacks(
      absl::Span<const PendingStack> stacks) = 0;

  // Stores samples of one upload of one schedule, whose stack ids come from ResolveStacks (at
  // any time before), as one block per target type (durable when OK); the stacks are kept at
  // least as long as the samples (NotFound if one is no longer stored). Each sample's target type
  // and the values of that type are used; its upload time is `upload_time_ms`. Samples expire
  // recordDataTTL after `upload_time_ms`.
  virtual absl::Status AddSampleBlock(const std::string& schedule_id, int64_t upload_time_ms,
                                      absl::Span<const StoredEbpfSample> samples) = 0;

  // ResolveStacks + AddSampleBlock for samples that carry their symbols.
  absl::Status AddSamples(const std::string& schedule_id, int64_t upload_time_ms,
                          const std::vector<model::EbpfSample>& samples);

  // Calls `visit` for each live sample of `schedule_id` with from <= upload time < to, in
  // upload-time order.
  virtual absl::Status ScanSamples(
      const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
      const std::function<void(const StoredEbpfSample&)>& visit) const = 0;

  // Calls `visit` for each live upload (block of samples) of `schedule_id` with from <= upload
  // time < to, in upload-time order. The fast path for analysis.
  virtual absl::Status ScanSampleBlocks(
      const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
      const std::function<void(EbpfSampleBlock&)>& visit) const = 0;

  // The symbols (root first) of a stack referenced by a sample; NotFound when expired.
  virtual absl::StatusOr<std::vector<model::EbpfSymbol>> GetStack(uint64_t stack_id) const = 0;
};

}  // namespace stackhouse::storage
