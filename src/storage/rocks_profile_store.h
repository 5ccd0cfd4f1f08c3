#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "storage/database.h"
#include "storage/profile_store.h"

namespace stackhouse::storage {

// ProfileTaskStore and SnapshotStore on RocksDB.
//
// Layout: task family `p`+task id → task; task_log family `l`+task+time+instance+op → log;
// snapshot family `d`+segment+sequence → (stack id, language) stamped with the dump time,
// `p`+task+dump time+segment → profiled-segment index (sequence 0 only); profile_stack family
// `k`+stack id → frames. Distinct stacks are stored once (64-bit content hash, probing on a
// collision), so a repeated dump costs a few dozen bytes. Thread-safe.
class RocksProfileStore final : public ProfileTaskStore, public SnapshotStore {
 public:
  // `db` and `clock` must outlive the store.
  RocksProfileStore(Database* db, const Clock* clock) : db_(db), clock_(clock) {}

  absl::Status PutTask(const model::ProfileTask& task) override;
  absl::StatusOr<std::vector<model::ProfileTask>> ListTasks() const override;
  absl::Status AddLog(const model::ProfileTaskLog& log, int64_t task_end_ms) override;
  absl::StatusOr<std::vector<model::ProfileTaskLog>> ListLogs(
      const std::string& task_id) const override;

  absl::Status AddSnapshots(const std::vector<model::ThreadSnapshot>& snapshots) override;
  absl::StatusOr<std::vector<std::string>> ListProfiledSegments(
      const std::string& task_id) const override;
  absl::Status ScanDumps(const std::string& segment_id,
                         const std::function<void(const StoredDump&)>& visit) const override;
  absl::StatusOr<std::vector<std::string>> GetStack(uint64_t stack_id) const override;

 private:
  // Finds or creates the dictionary entry of `frames`, adding new or stale entries to
  // `batch`; returns its id.
  absl::StatusOr<uint64_t> ResolveStack(const std::vector<std::string>& frames, int64_t now,
                                        WriteBatch* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(dict_mu_);

  // Constant after construction.
  Database* const db_;
  const Clock* const clock_;

  // Serialises dictionary look-ups and inserts, so two new stacks never take one id.
  absl::Mutex dict_mu_;
  // Stack id → when this process last wrote its entry (bounded; cleared when full).
  absl::flat_hash_map<uint64_t, int64_t> written_stacks_ ABSL_GUARDED_BY(dict_mu_);
  // Stable content hash → (id, a second, process-local hash of the content), for stacks this
  // process resolved; the second hash tells a collision from a hit without a read.
  struct KnownStack {
    uint64_t id;
    size_t check;
  };
  absl::flat_hash_map<uint64_t, KnownStack> known_stacks_ ABSL_GUARDED_BY(dict_mu_);
};

}  // namespace stackhouse::storage
