#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/ebpf.h"

namespace stackhouse::storage {

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

  // Stores the samples of one upload of one schedule as one block (durable when OK); their
  // stacks go to the dictionary first. Samples expire recordDataTTL after `upload_time_ms`.
  virtual absl::Status AddSamples(const std::string& schedule_id, int64_t upload_time_ms,
                                  const std::vector<model::EbpfSample>& samples) = 0;

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
