#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/pg_store_options.h"
#include "storage/profile_store.h"
#include "storage/stack_fingerprint.h"

namespace stackhouse::storage::pg {

// ProfileTaskStore and SnapshotStore on PostgreSQL.
//
// Tables: sh_profile_task (kept until replaced), sh_profile_task_log (expiring recordDataTTL
// after the task's end), sh_profile_dump (segment, sequence → dump time, stack id),
// sh_profiled_segment (task, dump time, segment of a sequence-0 dump or a Go profile),
// sh_go_profile (one row per upload) with sh_go_segment_profile (a reference per labelled
// segment), all expiring recordDataTTL after their dump time; and the stack dictionary
// sh_profile_stack: one row per distinct stack in the database, unique by the SHA-256 of its
// frames, so nodes that insert the same new stack at once get the same id (INSERT … ON CONFLICT
// DO UPDATE … RETURNING). Stack ids are the dictionary's bigserial ids. Each process caches
// the ids it resolved (by fingerprint, checked with a per-process seeded hash), so a repeated
// stack costs no round trip. Dictionary rows do not expire yet.
//
// Thread-safe.
class PgProfileStore final : public ProfileTaskStore, public SnapshotStore {
 public:
  // `pool` and `clock` must outlive the store.
  PgProfileStore(Pool* pool, const Clock* clock, const StoreOptions& options)
      : pool_(pool), clock_(clock), options_(options) {}

  absl::Status PutTask(const model::ProfileTask& task) override;
  absl::StatusOr<std::vector<model::ProfileTask>> ListTasks() const override;
  absl::Status AddLog(const model::ProfileTaskLog& log, int64_t task_end_ms) override;
  absl::StatusOr<std::vector<model::ProfileTaskLog>> ListLogs(
      const std::string& task_id) const override;

  absl::StatusOr<std::vector<uint64_t>> ResolveStacks(
      absl::Span<const PendingStack> stacks) override ABSL_LOCKS_EXCLUDED(mu_);
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
  struct Known {
    uint64_t id;
    size_t check;  // absl::HashOf(frames), seeded per process
  };

  int64_t RecordCutoff() const { return Cutoff(clock_->NowMillis(), options_.record_ttl_ms); }

  // Constant after construction.
  Pool* const pool_;
  const Clock* const clock_;
  const StoreOptions options_;

  absl::Mutex mu_;
  // The ids of stacks this process resolved (bounded; cleared when full).
  absl::flat_hash_map<StackFingerprint, Known> known_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::storage::pg
