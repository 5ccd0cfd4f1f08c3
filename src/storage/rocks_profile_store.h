#pragma once

#include "common/clock.h"
#include "storage/database.h"
#include "storage/profile_store.h"
#include "storage/stack_dictionary.h"

namespace stackhouse::storage {

// ProfileTaskStore and SnapshotStore on RocksDB.
//
// Layout: task family `p`+task id → task; task_log family `l`+task+time+instance+op → log;
// snapshot family `d`+segment+sequence → (stack id, language) stamped with the dump time,
// `p`+task+dump time+segment → profiled-segment index (sequence 0 only); profile_stack family:
// the stack dictionary (`k`+stack id → frame ids, `f`+frame id → frame; StackDictionary); `G`+dump
// time+nonce → a Go agent's pprof upload, and `g`+segment+dump time+nonce → a reference to it per
// labelled segment. Distinct stacks are stored once (by content fingerprint, probing on a
// collision), so a repeated dump costs a few dozen bytes. Thread-safe.
class RocksProfileStore final : public ProfileTaskStore, public SnapshotStore {
 public:
  // `db` and `clock` must outlive the store.
  RocksProfileStore(Database* db, const Clock* clock)
      : db_(db), clock_(clock), stacks_(db, Family::kProfileStack, db->max_future_skew_ms()) {}

  absl::Status PutTask(const model::ProfileTask& task) override;
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
  absl::Status ReadStacks(absl::Span<const uint64_t> stack_ids,
                          StackVisitor& visitor) const override;

 private:
  // Constant after construction.
  Database* const db_;
  const Clock* const clock_;

  StackDictionary stacks_;
};

}  // namespace stackhouse::storage
