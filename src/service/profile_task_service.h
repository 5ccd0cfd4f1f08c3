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
// Every task is kept in memory (tasks are few), so agents' polls never read storage.
// Thread-safe: polls and creations may run concurrently.
class ProfileTaskService {
 public:
  // Tasks are delivered while their start minute lies within this window around now.
  static constexpr int64_t kDeliveryWindowMs = 5 * 60 * 1000;

  // Loads the stored tasks. `store` and `clock` must outlive the service.
  static absl::StatusOr<std::unique_ptr<ProfileTaskService>> Create(
      storage::ProfileTaskStore* store, const Clock* clock);

  // Validates `request` in OAP's order (graphql-protocol.md §4.1); a refusal is a result with
  // `error_reason`, not an error. Errors are storage failures; then the task does not exist.
  // Concurrent creations for one service are checked against each other (at most one of two
  // overlapping tasks is created). Does not hold up polls while it writes.
  absl::StatusOr<ProfileTaskCreation> CreateTask(const ProfileTaskRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The tasks for an agent of `service`/`instance` (raw names) that polls with
  // `last_command_time`: those of its service in the delivery window created after
  // `last_command_time`. Writes a NOTIFIED log per task delivered; failed log writes are
  // logged (one error line per poll), not returned, so that the agent still gets its tasks.
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
                     std::vector<model::ProfileTask> tasks)
      : store_(store), clock_(clock), tasks_(std::move(tasks)) {}

  absl::Status WriteLog(const model::ProfileTask& task, const std::string& instance_id,
                        model::ProfileTaskOperation operation);

  // Constant after construction.
  storage::ProfileTaskStore* const store_;
  const Clock* const clock_;

  // Guards the task lists only: storage is read and written outside it.
  mutable absl::Mutex mu_;
  std::vector<model::ProfileTask> tasks_ ABSL_GUARDED_BY(mu_);
  // Tasks being written by CreateTask: they count for overlap checks but are not delivered,
  // listed or found until stored.
  std::vector<model::ProfileTask> creating_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stackhouse::service
