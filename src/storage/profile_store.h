#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/profile.h"
#include "storage/stack_fingerprint.h"
#include "storage/stack_visitor.h"

namespace stackhouse::storage {

// One stored thread dump: the stack is a reference into the stack dictionary.
struct StoredDump {
  int32_t sequence = 0;
  int64_t dump_time_ms = 0;
  uint64_t stack_id = 0;
  model::SnapshotLanguage language = model::SnapshotLanguage::kJava;
};

// A thread dump to store whose stack SnapshotStore::ResolveStacks resolved to `stack_id`.
struct ResolvedDump {
  std::string task_id;
  std::string segment_id;
  int64_t dump_time_ms = 0;
  int32_t sequence = 0;
  uint64_t stack_id = 0;
};

// Trace-profiling tasks and their logs. Implementations are thread-safe.
class ProfileTaskStore {
 public:
  virtual ~ProfileTaskStore() = default;

  // Stores `task` (a new one, or a replacement under the same id). Durable when OK.
  virtual absl::Status PutTask(const model::ProfileTask& task) = 0;

  // The stored tasks of one service → whether a new task conflicts with them.
  using TaskConflict = std::function<bool(const std::vector<model::ProfileTask>& of_service)>;
  // Stores new task `task` unless `conflicts` says it conflicts with the stored tasks of its
  // service: then FailedPrecondition, and nothing is written. The check and the write are one
  // step against every other PutNewTask of that service through any store over the same data:
  // the PostgreSQL store locks the service in the database, so that two nodes never both create
  // overlapping tasks. This default lists the tasks and calls PutTask: one step only while the
  // caller lets no other creation of the service run meanwhile (ProfileTaskService, one node).
  virtual absl::Status PutNewTask(const model::ProfileTask& task, const TaskConflict& conflicts);

  // Every stored task, in no particular order.
  virtual absl::StatusOr<std::vector<model::ProfileTask>> ListTasks() const = 0;

  // Appends `log`; it expires with the records written at `task_end_ms`.
  virtual absl::Status AddLog(const model::ProfileTaskLog& log, int64_t task_end_ms) = 0;

  // The logs of `task_id`, newest operation time first.
  virtual absl::StatusOr<std::vector<model::ProfileTaskLog>> ListLogs(
      const std::string& task_id) const = 0;
};

// Thread snapshots, stored once per distinct stack (a dictionary) plus a small record per
// dump. Implementations are thread-safe.
class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;

  // Resolves stacks (frames root first, each with its StackHasher fingerprint) to their
  // dictionary ids, same order, storing new ones durably. Callers may keep the ids for later
  // AddDumps calls (SnapshotWriter keeps them per stream).
  virtual absl::StatusOr<std::vector<uint64_t>> ResolveStacks(
      absl::Span<const PendingStack> stacks) = 0;

  // Stores `dumps`, whose stack ids come from ResolveStacks (at any time before), atomically
  // (durable when OK); a dump replaces a stored one of the same segment and sequence (the last
  // of several in `dumps` wins). The stacks are kept at least as long as the dumps; a backend
  // whose dictionary entries expire answers NotFound for one no longer stored. Dumps of
  // segments not seen yet are accepted (agents often send them before the segment); a dump of
  // sequence 0 marks its segment as profiled by its task.
  virtual absl::Status AddDumps(absl::Span<const ResolvedDump> dumps) = 0;

  // ResolveStacks + AddDumps for snapshots that carry their frames: stores `snapshots`
  // (durable when OK; the dumps atomically, after their new stacks).
  absl::Status AddSnapshots(const std::vector<model::ThreadSnapshot>& snapshots);

  // The ids of the segments profiled by `task_id` (those with a dump of sequence 0, or covered
  // by one of the task's Go profiles), each once, in order of the earliest such dump's time.
  virtual absl::StatusOr<std::vector<std::string>> ListProfiledSegments(
      const std::string& task_id) const = 0;

  // Calls `visit` for every live dump of `segment_id` in ascending sequence order.
  virtual absl::Status ScanDumps(const std::string& segment_id,
                                 const std::function<void(const StoredDump&)>& visit) const = 0;

  // Stores a Go agent's profile once, referenced from each of its segments, which it marks as
  // profiled by its task (durable when OK). It expires like snapshots, from its dump time.
  virtual absl::Status AddGoProfile(const model::GoProfile& profile) = 0;

  // The Go profiles that cover `segment_id`, in dump-time order.
  virtual absl::StatusOr<std::vector<model::GoSegmentProfile>> ListGoProfiles(
      const std::string& segment_id) const = 0;
  // The pprof bytes (uncompressed) under a GoSegmentProfile's profile_key; nullopt if expired.
  virtual absl::StatusOr<std::optional<std::string>> GetGoProfile(
      const std::string& profile_key) const = 0;

  // The frames (root first) of a stack referenced by a dump; NotFound if it has expired.
  virtual absl::StatusOr<std::vector<std::string>> GetStack(uint64_t stack_id) const = 0;

  // Reads the stacks `stack_ids` (fastest in ascending order) and hands them to `visitor`,
  // each distinct frame once (see StackVisitor); a stack that has expired is not visited. The
  // analyses' way to read many stacks. The default reads them one by one (GetStack). Errors:
  // storage failures.
  virtual absl::Status ReadStacks(absl::Span<const uint64_t> stack_ids,
                                  StackVisitor& visitor) const;
};

}  // namespace stackhouse::storage
