#pragma once

#include "common/clock.h"
#include "storage/database.h"
#include "storage/ebpf_store.h"
#include "storage/stack_dictionary.h"

namespace stackhouse::storage {

// EbpfStore on RocksDB.
//
// Layout: metadata family `r`+process id → ProcessRecord (stamped with the last ping); task
// family `e`+logical id+create time → EbpfTaskRecord; ebpf_schedule family `S`+schedule id →
// record and `T`+task id+schedule id → index (stamped with the end time); ebpf_stack family:
// the stack dictionary, each frame encoded by EncodeEbpfFrame (a 'k'/'u' tag + symbol);
// ebpf_sample family `b`+schedule id+upload time+nonce → one block holding every sample of
// one upload: target type, count, then per sample the 8-byte stack id and varint values.
// A repeated sample thus costs its stack id and a few value bytes. Thread-safe.
class RocksEbpfStore final : public EbpfStore {
 public:
  // `db` and `clock` must outlive the store.
  RocksEbpfStore(Database* db, const Clock* clock)
      : db_(db), clock_(clock), stacks_(db, Family::kEbpfStack, db->max_future_skew_ms()) {}

  absl::Status PutProcesses(const std::vector<model::Process>& processes) override;
  absl::StatusOr<std::vector<model::Process>> ListProcesses() const override;
  absl::Status PutTask(const model::EbpfTask& task) override;
  absl::StatusOr<std::vector<model::EbpfTask>> ListTasks() const override;
  absl::Status PutSchedule(const model::EbpfSchedule& schedule) override;
  absl::StatusOr<std::optional<model::EbpfSchedule>> GetSchedule(
      const std::string& schedule_id) const override;
  absl::StatusOr<std::vector<model::EbpfSchedule>> ListSchedules(
      const std::string& task_id) const override;
  absl::StatusOr<std::vector<uint64_t>> ResolveStacks(
      absl::Span<const PendingStack> stacks) override;
  absl::Status AddSampleBlock(const std::string& schedule_id, int64_t upload_time_ms,
                              absl::Span<const StoredEbpfSample> samples) override;
  absl::Status ScanSamples(
      const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
      const std::function<void(const StoredEbpfSample&)>& visit) const override;
  absl::Status ScanSampleBlocks(const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
                                const std::function<void(EbpfSampleBlock&)>& visit) const override;
  absl::StatusOr<std::vector<model::EbpfSymbol>> GetStack(uint64_t stack_id) const override;

 private:
  Database* const db_;
  const Clock* const clock_;
  StackDictionary stacks_;
};

}  // namespace stackhouse::storage
