#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/pg_stack_dictionary.h"
#include "storage/pg/pg_store_options.h"
#include "storage/profile_store.h"
#include "storage/stack_fingerprint.h"

namespace stackhouse::storage::pg {

// ProfileTaskStore and SnapshotStore on PostgreSQL.
//
// Tables: sh_profile_task (kept until replaced), sh_profile_task_log (expiring recordDataTTL
// after the task's end), sh_profile_dump (segment, sequence, dump time → stack id: unique per
// day partition, so a dump sent again with another time is a second row and readers take the
// one with the latest time),
// sh_profiled_segment (task, dump time, segment of a sequence-0 dump or a Go profile),
// sh_go_profile (one row per upload) with sh_go_segment_profile (a reference per labelled
// segment), all expiring recordDataTTL after their dump time (day partitions, pg_partitions.h);
// and the stack dictionary sh_profile_stack (a PgStackDictionary: one row per distinct stack in
// the database, racing inserts resolve to one id; AddDumps retains the dumps' stacks first).
//
// Thread-safe.
class PgProfileStore final : public ProfileTaskStore, public SnapshotStore {
 public:
  // `pool` and `clock` must outlive the store.
  PgProfileStore(Pool* pool, const Clock* clock, const StoreOptions& options)
      : pool_(pool),
        clock_(clock),
        options_(options),
        stacks_(pool, "sh_profile_stack", options.max_future_skew_ms) {}

  absl::Status PutTask(const model::ProfileTask& task) override;
  // Under a transaction-scoped advisory lock on the service (one per service id), so that nodes
  // creating tasks of one service take turns.
  absl::Status PutNewTask(const model::ProfileTask& task, const TaskConflict& conflicts) override;
  absl::StatusOr<std::vector<model::ProfileTask>> ListTasks() const override;
  absl::Status AddLog(const model::ProfileTaskLog& log, int64_t task_end_ms) override;
  absl::StatusOr<std::vector<model::ProfileTaskLog>> ListLogs(
      const std::string& task_id) const override;

  absl::StatusOr<std::vector<uint64_t>> ResolveStacks(
      absl::Span<const PendingStack> stacks) override;
  absl::Status AddDumps(absl::Span<const ResolvedDump> dumps) override;
  absl::StatusOr<std::vector<std::string>> ListProfiledSegments(
      const std::string& task_id) const override;
  absl::Status ScanDumps(const std::string& segment_id,
                         const std::function<void(const StoredDump&)>& visit) const override;
  absl::Status AddGoProfile(const model::GoProfile& profile) override;
  absl::StatusOr<std::vector<model::GoSegmentProfile>> ListGoProfiles(
      const std::string& segment_id) const override;
  absl::StatusOr<std::optional<std::string>> GetGoProfile(
      const std::string& profile_key) const override;
  absl::StatusOr<std::vector<std::string>> GetStack(uint64_t stack_id) const override;

 private:
  int64_t RecordCutoff() const { return Cutoff(clock_->NowMillis(), options_.record_ttl_ms); }

  // Constant after construction.
  Pool* const pool_;
  const Clock* const clock_;
  const StoreOptions options_;
  PgStackDictionary stacks_;
};

}  // namespace stackhouse::storage::pg
