#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "model/profile.h"
#include "service/reload_journal.h"
#include "storage/change_feed.h"
#include "storage/profile_store.h"

namespace stackhouse::service {

// What an operator asks for (graphql ProfileTaskCreationRequest).
struct ProfileTaskRequest {
  std::optional<std::string> service_id;  // null is refused
  std::string endpoint_name;
  std::optional<int64_t> start_time_ms;  // null or <= 0: now
  int32_t duration_minutes = 0;
  int32_t min_duration_threshold_ms = 0;
  int32_t dump_period_ms = 0;
  int32_t max_sampling_count = 0;
};

// Either the new task's id or OAP's reason for refusing it.
struct ProfileTaskCreation {
  std::optional<std::string> id;
  std::optional<std::string> error_reason;
};

// The lifecycle of trace-profiling tasks: creation with OAP's validation, delivery to the
// agents that poll (with NOTIFIED logs), completion reports, and reads for the query side.
// Every task is kept in memory (tasks are few), so agents' polls never read storage; with
// several nodes over one store, Reload brings in the tasks other nodes created (see
// CacheRefresher). Thread-safe: polls, creations and reloads may run concurrently.
class ProfileTaskService {
 public:
  // Tasks are delivered while their start minute lies within this window around now.
  static constexpr int64_t kDeliveryWindowMs = 5 * 60 * 1000;

  // Loads the stored tasks. `store`, `clock` and `feed` must outlive the service; `feed`
  // (null: one node) is told of every task created.
  static absl::StatusOr<std::unique_ptr<ProfileTaskService>> Create(
      storage::ProfileTaskStore* store, const Clock* clock, storage::ChangeFeed* feed = nullptr);

  // Re-reads the tasks from the store, keeping those this node created meanwhile. On an error
  // the tasks are as they were. Polls are held up only while the list is swapped.
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);

  // Validates `request` in OAP's order (graphql-protocol.md §4.1); a refusal is a result with
  // `error_reason`, not an error. Errors are storage failures; then the task does not exist.
  // Concurrent creations for one service are checked against each other (at most one of two
  // overlapping tasks is created; on one node only, see docs/scale-out.md). Does not hold up
  // polls while it writes. A created task is published to the feed.
  absl::StatusOr<ProfileTaskCreation> CreateTask(const ProfileTaskRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The tasks for an agent of `service`/`instance` (raw names) that polls with
  // `last_command_time`: those of its service in the delivery window created after
  // `last_command_time` (with a feed: and kSharedTaskDelayMs ago or earlier). Writes a NOTIFIED log
  // per task delivered; failed log writes are logged (one error line per poll), not returned, so
  // that the agent still gets its tasks.
  std::vector<model::ProfileTask> Poll(const std::string& service, const std::string& instance,
                                       int64_t last_command_time) ABSL_LOCKS_EXCLUDED(mu_);

  // Records EXECUTION_FINISHED for a known task; an unknown task is ignored.
  absl::Status ReportFinish(const std::string& service, const std::string& instance,
                            const std::string& task_id) ABSL_LOCKS_EXCLUDED(mu_);

  // Tasks filtered by service id and endpoint name (each only when non-empty), newest start
  // time first.
  std::vector<model::ProfileTask> ListTasks(const std::string& service_id,
                                            const std::string& endpoint_name) const
      ABSL_LOCKS_EXCLUDED(mu_);

  std::optional<model::ProfileTask> GetTask(const std::string& task_id) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // The logs of `task_id`, newest first.
  absl::StatusOr<std::vector<model::ProfileTaskLog>> ListLogs(const std::string& task_id) const;

 private:
  ProfileTaskService(storage::ProfileTaskStore* store, const Clock* clock,
                     storage::ChangeFeed* feed, std::vector<model::ProfileTask> tasks)
      : store_(store), clock_(clock), feed_(feed), tasks_(std::move(tasks)) {}

  // Adds a stored task to the cache unless a reload brought it in already.
  void AddStored(const model::ProfileTask& task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Status WriteLog(const model::ProfileTask& task, const std::string& instance_id,
                        model::ProfileTaskOperation operation);

  // Constant after construction.
  storage::ProfileTaskStore* const store_;
  const Clock* const clock_;
  storage::ChangeFeed* const feed_;  // null: one node

  // Serialises Reload (its read of the store and its swap).
  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Guards the task lists only: storage is read and written outside it.
  mutable absl::Mutex mu_;
  std::vector<model::ProfileTask> tasks_ ABSL_GUARDED_BY(mu_);
  // The tasks this node stored while a Reload read the store.
  ReloadJournal<model::ProfileTask> reload_journal_ ABSL_GUARDED_BY(mu_);
  // Tasks being written by CreateTask: they count for overlap checks but are not delivered,
  // listed or found until stored.
  std::vector<model::ProfileTask> creating_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::service
