#include "service/profile_task_service.h"

#include <algorithm>
#include <initializer_list>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "model/ids.h"
#include "service/cache_refresher.h"

namespace stackhouse::service {
namespace {

constexpr int64_t kMinuteMs = 60000;

int64_t Minute(int64_t ms) { return ms >= 0 ? ms / kMinuteMs : (ms - kMinuteMs + 1) / kMinuteMs; }

// Java's String.trim: strips leading and trailing characters <= U+0020.
std::string JavaTrim(const std::string& s) {
  size_t begin = 0, end = s.size();
  while (begin < end && static_cast<unsigned char>(s[begin]) <= 0x20) ++begin;
  while (end > begin && static_cast<unsigned char>(s[end - 1]) <= 0x20) --end;
  return s.substr(begin, end - begin);
}

bool HasTask(const std::vector<model::ProfileTask>& tasks, const std::string& id) {
  return std::any_of(tasks.begin(), tasks.end(),
                     [&](const model::ProfileTask& t) { return t.id == id; });
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProfileTaskService>> ProfileTaskService::Create(
    storage::ProfileTaskStore* store, const Clock* clock, storage::ChangeFeed* feed) {
  SH_ASSIGN_OR_RETURN(auto tasks, store->ListTasks());
  return std::unique_ptr<ProfileTaskService>(
      new ProfileTaskService(store, clock, feed, std::move(tasks)));
}

absl::Status ProfileTaskService::Reload() {
  absl::MutexLock reload(&reload_mu_);
  {
    absl::MutexLock lock(&mu_);
    reload_journal_.Start();
  }
  absl::StatusOr<std::vector<model::ProfileTask>> stored = store_->ListTasks();
  absl::MutexLock lock(&mu_);
  reload_journal_.Finish(
      stored.ok() ? &*stored : nullptr,
      [](const model::ProfileTask& a, const model::ProfileTask& b) { return a.id == b.id; });
  SH_RETURN_IF_ERROR(stored.status());
  tasks_ = *std::move(stored);
  return absl::OkStatus();
}

void ProfileTaskService::AddStored(const model::ProfileTask& task) {
  if (!HasTask(tasks_, task.id)) tasks_.push_back(task);
  reload_journal_.Note(task);
}

absl::StatusOr<ProfileTaskCreation> ProfileTaskService::CreateTask(
    const ProfileTaskRequest& request) {
  const std::string endpoint = JavaTrim(request.endpoint_name);
  const int64_t now = clock_->NowMillis();
  const int64_t start = request.start_time_ms.value_or(-1) > 0 ? *request.start_time_ms : now;
  const int64_t end = start + int64_t{request.duration_minutes} * kMinuteMs;

  auto refuse = [](const char* reason) {
    return ProfileTaskCreation{std::nullopt, std::string(reason)};
  };
  if (!request.service_id) return refuse("service cannot be null");
  if (endpoint.empty()) return refuse("endpoint name cannot be empty");
  if (request.duration_minutes < 1) return refuse("monitor duration must greater than 1 minutes");
  if (request.min_duration_threshold_ms < 0) {
    return refuse("min duration threshold must greater than or equals zero");
  }
  if (request.max_sampling_count <= 0) return refuse("max sampling count must greater than zero");
  if (request.duration_minutes > 15) {
    return refuse("The duration of the monitoring task cannot be greater than 15 minutes");
  }
  if (request.dump_period_ms < 10) {
    return refuse("dump period must be greater than or equals 10 milliseconds");
  }
  if (request.max_sampling_count >= 10) return refuse("max sampling count must less than 10");

  model::ProfileTask task;
  task.create_time_ms = now;
  task.id = model::ProfileTaskId(now, *request.service_id);
  task.service_id = *request.service_id;
  task.endpoint_name = endpoint;
  task.start_time_ms = start;
  task.duration_minutes = request.duration_minutes;
  task.min_duration_threshold_ms = request.min_duration_threshold_ms;
  task.dump_period_ms = request.dump_period_ms;
  task.max_sampling_count = request.max_sampling_count;
  // Overlap: the service's latest-starting task that starts no later than the new end minute
  // ends at or after the new start.
  auto overlaps = [&](std::initializer_list<const std::vector<model::ProfileTask>*> lists) {
    const model::ProfileTask* latest = nullptr;
    for (const std::vector<model::ProfileTask>* tasks : lists) {
      for (const model::ProfileTask& t : *tasks) {
        if (!request.service_id->empty() && t.service_id != *request.service_id) continue;
        if (Minute(t.start_time_ms) > Minute(end)) continue;
        if (latest == nullptr || t.start_time_ms > latest->start_time_ms) latest = &t;
      }
    }
    return latest != nullptr && latest->EndTimeMs() >= start;
  };
  constexpr char kOverlap[] = "current service already has monitor task execute at this time";
  {
    absl::MutexLock lock(&mu_);
    // Among the tasks this node knows and those being created by other calls.
    if (overlaps({&tasks_, &creating_})) return refuse(kOverlap);
    // Reserved while it is written: overlap checks see it, polls do not.
    creating_.push_back(task);
  }
  // Checked again by the store against what every node stored (another node's new task may not
  // have reached this node's cache yet).
  const absl::Status stored = store_->PutNewTask(
      task,
      [&](const std::vector<model::ProfileTask>& of_service) { return overlaps({&of_service}); });
  {
    absl::MutexLock lock(&mu_);
    auto reserved = std::find_if(creating_.begin(), creating_.end(),
                                 [&](const model::ProfileTask& t) { return t.id == task.id; });
    creating_.erase(reserved);
    if (absl::IsFailedPrecondition(stored)) return refuse(kOverlap);
    SH_RETURN_IF_ERROR(stored);
    AddStored(task);
  }
  PublishChange(feed_, storage::ChangeKind::kProfileTasks, absl::StrCat("profile task ", task.id));
  return ProfileTaskCreation{task.id, std::nullopt};
}

std::vector<model::ProfileTask> ProfileTaskService::Poll(const std::string& service,
                                                         const std::string& instance,
                                                         int64_t last_command_time) {
  const std::string service_id = model::ServiceId(service);
  const std::string instance_id = model::InstanceId(service_id, instance);
  const int64_t now = clock_->NowMillis();
  const int64_t from = Minute(now - kDeliveryWindowMs);
  const int64_t to = Minute(now + kDeliveryWindowMs);
  // Several nodes: a task other nodes created just before a newer one may not be here yet.
  const int64_t newest =
      feed_ != nullptr ? now - kSharedTaskDelayMs : std::numeric_limits<int64_t>::max();
  std::vector<model::ProfileTask> delivered;
  {
    absl::MutexLock lock(&mu_);
    for (const model::ProfileTask& task : tasks_) {
      if (task.service_id != service_id) continue;
      int64_t minute = Minute(task.start_time_ms);
      if (minute < from || minute > to) continue;
      if (task.create_time_ms <= last_command_time || task.create_time_ms > newest) continue;
      delivered.push_back(task);
    }
  }
  std::sort(delivered.begin(), delivered.end(),
            [](const model::ProfileTask& a, const model::ProfileTask& b) {
              return a.create_time_ms < b.create_time_ms;
            });
  // The agent gets its tasks whatever happens to the logs (an error status could make it
  // disable profiling); a failure is logged once per poll.
  size_t failed = 0;
  absl::Status first_failure;
  std::string first_task;
  for (const model::ProfileTask& task : delivered) {
    absl::Status logged = WriteLog(task, instance_id, model::ProfileTaskOperation::kNotified);
    if (!logged.ok() && failed++ == 0) {
      first_failure = std::move(logged);
      first_task = task.id;
    }
  }
  if (failed > 0) {
    GetLogger("task")->error("could not record that {} was notified of {} of {} task(s) ({}): {}",
                             instance_id, failed, delivered.size(), first_task,
                             first_failure.ToString());
  }
  return delivered;
}

absl::Status ProfileTaskService::ReportFinish(const std::string& service,
                                              const std::string& instance,
                                              const std::string& task_id) {
  std::optional<model::ProfileTask> task = GetTask(task_id);
  if (!task) return absl::OkStatus();
  const std::string instance_id = model::InstanceId(model::ServiceId(service), instance);
  return WriteLog(*task, instance_id, model::ProfileTaskOperation::kExecutionFinished);
}

absl::Status ProfileTaskService::WriteLog(const model::ProfileTask& task,
                                          const std::string& instance_id,
                                          model::ProfileTaskOperation operation) {
  model::ProfileTaskLog log;
  log.task_id = task.id;
  log.instance_id = instance_id;
  log.operation = operation;
  log.operation_time_ms = clock_->NowMillis();
  log.id = model::ProfileTaskLogId(task.id, instance_id, static_cast<int>(operation),
                                   log.operation_time_ms);
  return store_->AddLog(log, task.EndTimeMs());
}

std::vector<model::ProfileTask> ProfileTaskService::ListTasks(
    const std::string& service_id, const std::string& endpoint_name) const {
  std::vector<model::ProfileTask> out;
  {
    absl::MutexLock lock(&mu_);
    for (const model::ProfileTask& task : tasks_) {
      if (!service_id.empty() && task.service_id != service_id) continue;
      if (!endpoint_name.empty() && task.endpoint_name != endpoint_name) continue;
      out.push_back(task);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const model::ProfileTask& a, const model::ProfileTask& b) {
                     return a.start_time_ms > b.start_time_ms;
                   });
  return out;
}

std::optional<model::ProfileTask> ProfileTaskService::GetTask(const std::string& task_id) const {
  absl::MutexLock lock(&mu_);
  for (const model::ProfileTask& task : tasks_) {
    if (task.id == task_id) return task;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<model::ProfileTaskLog>> ProfileTaskService::ListLogs(
    const std::string& task_id) const {
  SH_ASSIGN_OR_RETURN(auto logs, store_->ListLogs(task_id));
  for (model::ProfileTaskLog& log : logs) {
    log.id = model::ProfileTaskLogId(log.task_id, log.instance_id, static_cast<int>(log.operation),
                                     log.operation_time_ms);
  }
  return logs;
}

}  // namespace stackhouse::service
