#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "storage/ebpf_store.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/pg_stack_dictionary.h"
#include "storage/pg/pg_store_options.h"

namespace stackhouse::storage::pg {

// EbpfStore on PostgreSQL.
//
// Tables: sh_ebpf_process (id → last ping, records::ProcessRecord; expiring metricsDataTTL after
// the last ping), sh_ebpf_task (logical id, create time → records::EbpfTaskRecord; kept),
// sh_ebpf_schedule (expiring metricsDataTTL after its end, indexed by task), the stack dictionary
// sh_ebpf_stack (a PgStackDictionary: one row per distinct stack in the database, racing inserts
// resolve to one id; frames encoded by EncodeEbpfFrame) and sh_ebpf_block: one row per upload and
// target type, its samples in EbpfStore::EncodeSampleBlock's format (a repeated sample costs its
// 8-byte stack id and a few value bytes), expiring recordDataTTL after the upload time (day
// partitions, pg_partitions.h). An upload first retains its stacks (PgStackDictionary::Retain,
// NotFound for one that expired), then is one statement (its blocks through unnest, with the
// check that every stack it refers to is in the dictionary), so it is stored whole or not at
// all.
//
// Roll-ups (as RocksEbpfStore's, shared by every node): sh_ebpf_rollup holds a minute's samples
// summed per stack; sh_ebpf_pending the minutes an upload went into since (the same statement
// as the upload upserts the minute with a new generation and deletes its roll-up). RollUp
// writes a closed minute's roll-up in one statement with the deletion of its pending row of
// the generation it read, so an upload that came in meanwhile keeps the minute pending.
// ScanAggregated uses a roll-up only while its minute is not pending (in the same statement), so
// a roll-up an upload raced past is never read. Thread-safe.
class PgEbpfStore final : public EbpfStore {
 public:
  // `pool` and `clock` must outlive the store.
  PgEbpfStore(Pool* pool, const Clock* clock, const StoreOptions& options)
      : pool_(pool),
        clock_(clock),
        options_(options),
        stacks_(pool, "sh_ebpf_stack", options.max_future_skew_ms) {}

  absl::Status PutProcesses(const std::vector<model::Process>& processes) override;
  absl::StatusOr<std::vector<model::Process>> ListProcesses() const override;
  absl::Status PutTask(const model::EbpfTask& task) override;
  // Under a transaction-scoped advisory lock on the logical id.
  absl::StatusOr<bool> PutNewTask(const model::EbpfTask& task) override;
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
  absl::Status ScanAggregated(const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
                              EbpfSampleVisitor& visitor) const override;
  // Every node may run it: two that roll up one minute at once write it once (the other's is
  // counted as retried).
  absl::StatusOr<EbpfRollupStats> RollUp(int64_t max_minutes) override;

  // Tests: called by RollUp after it has read its minutes and before it commits them.
  void SetRollupHookForTest(std::function<void()> hook) { rollup_hook_ = std::move(hook); }

 private:
  int64_t RecordCutoff() const { return Cutoff(clock_->NowMillis(), options_.record_ttl_ms); }
  int64_t MetricsCutoff() const { return Cutoff(clock_->NowMillis(), options_.metrics_ttl_ms); }

  // Constant after construction.
  Pool* const pool_;
  const Clock* const clock_;
  const StoreOptions options_;
  PgStackDictionary stacks_;
  std::function<void()> rollup_hook_;
};

}  // namespace stackhouse::storage::pg
