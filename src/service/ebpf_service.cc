#include "service/ebpf_service.h"

#include <algorithm>
#include <limits>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "model/ids.h"
#include "re2/re2.h"
#include "service/cache_refresher.h"
#include "service/ebpf_sample_stream.h"

namespace stackhouse::service {
namespace {

constexpr int64_t kMinuteMs = 60000;
constexpr int64_t kProcessWritePeriodMs = 10000;
constexpr size_t kMaxCachedSchedules = 100000;
constexpr size_t kMaxLabelsJson = 1000;

int64_t Minute(int64_t ms) { return ms >= 0 ? ms / kMinuteMs : (ms - kMinuteMs + 1) / kMinuteMs; }

bool ContainsAll(const std::vector<std::string>& have, const std::vector<std::string>& wanted) {
  for (const std::string& label : wanted) {
    if (std::find(have.begin(), have.end(), label) == have.end()) return false;
  }
  return true;
}

bool SupportsProfiling(const model::KeyValueList& properties, bool fallback) {
  for (const auto& [key, value] : properties) {
    if (key == "support_ebpf_profiling") return value == "true";
  }
  return fallback;
}

// A task record's identity in the store: its logical id and creation time.
bool SameRecord(const model::EbpfTask& a, const model::EbpfTask& b) {
  return a.logical_id == b.logical_id && a.create_time_ms == b.create_time_ms;
}

}  // namespace

std::vector<model::EbpfTask> MergeTaskRecords(std::vector<model::EbpfTask> records) {
  std::sort(records.begin(), records.end(), [](const model::EbpfTask& a, const model::EbpfTask& b) {
    return a.create_time_ms < b.create_time_ms;
  });
  std::vector<model::EbpfTask> merged;
  absl::flat_hash_map<std::string, size_t> index;
  for (model::EbpfTask& record : records) {
    auto [it, inserted] = index.try_emplace(record.logical_id, merged.size());
    if (inserted) {
      merged.push_back(std::move(record));
      continue;
    }
    model::EbpfTask& task = merged[it->second];
    task.fixed_trigger_duration_s =
        std::max(task.fixed_trigger_duration_s, record.fixed_trigger_duration_s);
    task.last_update_time_ms = std::max(task.last_update_time_ms, record.last_update_time_ms);
  }
  std::stable_sort(merged.begin(), merged.end(),
                   [](const model::EbpfTask& a, const model::EbpfTask& b) {
                     return a.create_time_ms > b.create_time_ms;
                   });
  return merged;
}

absl::StatusOr<std::unique_ptr<EbpfService>> EbpfService::Create(storage::EbpfStore* store,
                                                                 storage::MetadataStore* metadata,
                                                                 const Clock* clock,
                                                                 model::NameLimits limits,
                                                                 storage::ChangeFeed* feed) {
  std::unique_ptr<EbpfService> service(new EbpfService(store, metadata, clock, limits, feed));
  SH_ASSIGN_OR_RETURN(auto processes, store->ListProcesses());
  SH_ASSIGN_OR_RETURN(auto tasks, store->ListTasks());
  absl::MutexLock lock(&service->mu_);
  for (model::Process& p : processes) {
    std::string id = p.id;
    service->processes_.emplace(std::move(id), std::move(p));
  }
  service->tasks_ = std::move(tasks);
  return service;
}

absl::Status EbpfService::ReloadTasks() {
  absl::MutexLock reload(&reload_mu_);
  {
    absl::MutexLock lock(&mu_);
    reload_journal_.Start();
  }
  absl::StatusOr<std::vector<model::EbpfTask>> stored = store_->ListTasks();
  absl::MutexLock lock(&mu_);
  reload_journal_.Finish(stored.ok() ? &*stored : nullptr, SameRecord);
  SH_RETURN_IF_ERROR(stored.status());
  tasks_ = *std::move(stored);
  return absl::OkStatus();
}

absl::Status EbpfService::ReloadProcesses() {
  SH_ASSIGN_OR_RETURN(std::vector<model::Process> stored, store_->ListProcesses());
  absl::MutexLock lock(&mu_);
  for (model::Process& p : stored) {
    auto [it, inserted] = processes_.try_emplace(p.id);
    if (inserted || p.last_ping_ms > it->second.last_ping_ms) it->second = std::move(p);
  }
  return absl::OkStatus();
}

void EbpfService::AddStored(const model::EbpfTask& task) {
  if (std::none_of(tasks_.begin(), tasks_.end(),
                   [&](const model::EbpfTask& t) { return SameRecord(t, task); })) {
    tasks_.push_back(task);
  }
  reload_journal_.Note(task);
}

void EbpfService::PublishTask(const model::EbpfTask& task) const {
  PublishChange(feed_, storage::ChangeKind::kEbpfTasks,
                absl::StrCat("eBPF task ", task.logical_id));
}

namespace {

// Merges one report of Rover `agent_id` into `p` (a stored process, or a new one that has its
// id and names set).
void MergeReport(const ReportedProcess& r, const std::string& agent_id, int64_t now,
                 model::Process* p) {
  if (!model::IsBlank(agent_id)) p->agent_id = agent_id;
  if (!r.layer.empty()) p->layer = r.layer;
  for (const auto& [key, value] : r.properties) {
    auto existing = std::find_if(p->properties.begin(), p->properties.end(),
                                 [&](const auto& kv) { return kv.first == key; });
    if (existing != p->properties.end()) {
      existing->second = value;
    } else {
      p->properties.emplace_back(key, value);
    }
  }
  // Labels accumulate: Rover reports one pid under several entities (e.g. MESH with
  // `mesh-application` and K8S_SERVICE with `k8s-service`), and each report's labels stay
  // valid for it (OAP keeps them per service in its service-label table).
  for (const std::string& label : r.labels) {
    if (std::find(p->labels.begin(), p->labels.end(), label) == p->labels.end()) {
      p->labels.push_back(label);
    }
  }
  if (r.detect_type != model::DetectType::kUndefined) p->detect_type = r.detect_type;
  p->profiling_supported = SupportsProfiling(r.properties, p->profiling_supported);
  p->last_ping_ms = now;
}

}  // namespace

EbpfService::Merged EbpfService::Upsert(const std::string& agent_id,
                                        const std::vector<ReportedProcess>& reported, bool force,
                                        int64_t now, std::vector<std::string>* ids, bool commit) {
  Merged merged;
  // Without `commit`, the merge works on copies, so that a report whose write fails leaves
  // the registry as it was.
  absl::flat_hash_map<std::string, model::Process> copies;
  absl::MutexLock lock(&mu_);
  for (const ReportedProcess& r : reported) {
    std::string service_name = model::TruncateName(r.service_name, limits_.service);
    std::string instance_name = model::TruncateName(r.instance_name, limits_.instance);
    std::string service_id = model::ServiceId(service_name);
    std::string instance_id = model::InstanceId(service_id, instance_name);
    std::string id = model::ProcessId(r.process_name, instance_id);
    if (ids != nullptr) ids->push_back(id);

    model::Process* p = nullptr;
    bool inserted = false;
    if (commit) {
      auto [it, added] = processes_.try_emplace(id);
      p = &it->second;
      inserted = added;
      merged.added = merged.added || added;
    } else {
      auto [it, added] = copies.try_emplace(id);
      if (added) {
        auto stored = processes_.find(id);
        inserted = stored == processes_.end();
        if (!inserted) it->second = stored->second;
      }
      p = &it->second;
    }
    if (p->id.empty()) {
      p->id = id;
      p->name = r.process_name;
      p->service_id = service_id;
      p->service_name = service_name;
      p->instance_id = instance_id;
      p->instance_name = instance_name;
      p->first_seen_ms = now;
    }
    MergeReport(r, agent_id, now, p);
    auto written = process_written_.find(id);
    if (force || inserted || written == process_written_.end() ||
        now - written->second >= kProcessWritePeriodMs || now < written->second) {
      merged.changed_ids.insert(id);
      if (commit) process_written_[id] = now;
    }
  }
  if (!commit) {
    for (const std::string& id : merged.changed_ids) merged.changed.push_back(copies[id]);
  }
  return merged;
}

absl::StatusOr<std::vector<std::string>> EbpfService::ReportProcesses(
    const std::string& agent_id, const std::vector<ReportedProcess>& processes) {
  const int64_t now = clock_->NowMillis();
  // Stackhouse registers the service and instance at once (OAP waits for the first
  // keep-alive), so that a service only Rover reports shows up in the pickers immediately.
  // They go first: a stored process always has its service and instance.
  SH_RETURN_IF_ERROR(RegisterOwners(processes));
  std::vector<std::string> ids;
  Merged merged = Upsert(agent_id, processes, true, now, &ids, false);
  SH_RETURN_IF_ERROR(store_->PutProcesses(merged.changed));
  // Merged again into the registry as it is now (a concurrent report may have changed it).
  if (Upsert(agent_id, processes, true, now, nullptr, true).added) {
    PublishChange(feed_, storage::ChangeKind::kEbpfProcesses, "new processes");
  }
  return ids;
}

absl::Status EbpfService::KeepAlive(const std::string& agent_id,
                                    const std::vector<ReportedProcess>& processes) {
  const int64_t now = clock_->NowMillis();
  SH_RETURN_IF_ERROR(RegisterOwners(processes));
  Merged merged = Upsert(agent_id, processes, false, now, nullptr, false);
  if (!merged.changed.empty()) SH_RETURN_IF_ERROR(store_->PutProcesses(merged.changed));
  if (Upsert(agent_id, processes, false, now, nullptr, true).added) {
    PublishChange(feed_, storage::ChangeKind::kEbpfProcesses, "new processes");
  }
  return absl::OkStatus();
}

absl::Status EbpfService::RegisterOwners(const std::vector<ReportedProcess>& processes) {
  for (const ReportedProcess& r : processes) {
    SH_RETURN_IF_ERROR(registry_.Heartbeat({r.service_name, r.instance_name, r.layer}));
  }
  return absl::OkStatus();
}

std::vector<EbpfTaskCommand> EbpfService::QueryTasks(const std::string& agent_id,
                                                     int64_t latest_update_time) const {
  const int64_t now = clock_->NowMillis();
  absl::MutexLock lock(&mu_);
  std::vector<const model::Process*> mine;
  absl::flat_hash_set<std::string> services;
  for (const auto& [id, p] : processes_) {
    if (p.agent_id != agent_id || p.detect_type == model::DetectType::kVirtual) continue;
    if (Minute(p.last_ping_ms) < Minute(now - kAliveWindowMs)) continue;
    if (Minute(p.first_seen_ms) > Minute(now)) continue;
    mine.push_back(&p);
    services.insert(p.service_id);
  }
  if (mine.empty()) return {};
  std::sort(mine.begin(), mine.end(),
            [](const model::Process* a, const model::Process* b) { return a->id < b->id; });

  // Several nodes: a record other nodes stored just before a newer one may not be here yet;
  // such records are neither handed out nor merged (they would move Rover's cursor).
  const int64_t newest =
      feed_ != nullptr ? now - kSharedTaskDelayMs : std::numeric_limits<int64_t>::max();
  std::vector<const model::EbpfTask*> updated;
  for (const model::EbpfTask& t : tasks_) {
    if (!services.contains(t.service_id)) continue;
    if (t.trigger_type != model::EbpfTriggerType::kFixedTime) continue;
    if (latest_update_time > 0 && t.last_update_time_ms <= latest_update_time) continue;
    if (t.last_update_time_ms > newest) continue;
    updated.push_back(&t);
  }
  std::stable_sort(updated.begin(), updated.end(),
                   [](const model::EbpfTask* a, const model::EbpfTask* b) {
                     return a->create_time_ms > b->create_time_ms;
                   });
  if (updated.size() > kMaxTaskRecords) updated.resize(kMaxTaskRecords);
  // Every record of an updated task, so that an extension record (which carries no sampling
  // rules) merges with the record that has them.
  absl::flat_hash_set<absl::string_view> ids;
  for (const model::EbpfTask* t : updated) ids.insert(t->logical_id);
  std::vector<model::EbpfTask> records;
  for (const model::EbpfTask& t : tasks_) {
    if (ids.contains(t.logical_id) && t.last_update_time_ms <= newest) records.push_back(t);
  }

  std::vector<EbpfTaskCommand> commands;
  for (const model::EbpfTask& task : MergeTaskRecords(std::move(records))) {
    if (task.target_type == model::EbpfTargetType::kNetwork) {
      EbpfTaskCommand command{task, {}};
      for (const model::Process* p : mine) {
        if (p->instance_id == task.instance_id) command.process_ids.push_back(p->id);
      }
      if (!command.process_ids.empty()) commands.push_back(std::move(command));
      continue;
    }
    for (const model::Process* p : mine) {
      if (p->service_id != task.service_id || !p->profiling_supported) continue;
      if (!ContainsAll(p->labels, task.process_labels)) continue;
      commands.push_back({task, {p->id}});
    }
  }
  return commands;
}

std::unique_ptr<EbpfSampleStream> EbpfService::OpenSampleStream() {
  return std::make_unique<EbpfSampleStream>(this, store_);
}

absl::StatusOr<std::string> EbpfService::RecordSchedule(const std::string& task_id,
                                                        const std::string& process_id,
                                                        int64_t profiling_start_ms,
                                                        int64_t current_time_ms) {
  std::string id = model::EbpfScheduleId(task_id, process_id, profiling_start_ms);
  std::shared_ptr<CachedSchedule> cached;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = schedules_.find(id); it != schedules_.end()) cached = it->second;
  }
  if (cached == nullptr) {
    SH_ASSIGN_OR_RETURN(auto stored, store_->GetSchedule(id));
    absl::MutexLock lock(&mu_);
    if (schedules_.size() >= kMaxCachedSchedules) {
      absl::erase_if(schedules_, [](const auto& entry) { return !entry.second->writing; });
    }
    auto [it, inserted] = schedules_.try_emplace(id);
    if (inserted) {
      it->second = std::make_shared<CachedSchedule>();
      it->second->schedule =
          stored ? *stored : model::EbpfSchedule{id, task_id, process_id, profiling_start_ms, 0};
    }
    cached = it->second;  // or the one another call loaded meanwhile
  }
  model::EbpfSchedule schedule;
  {
    absl::MutexLock lock(&mu_);
    // One write per schedule at a time, so that a later end is never overwritten by an earlier.
    while (cached->writing) schedule_written_.Wait(&mu_);
    if (cached->schedule.end_time_ms >= current_time_ms) return id;
    cached->writing = true;
    schedule = cached->schedule;
  }
  schedule.end_time_ms = current_time_ms;
  const absl::Status stored = store_->PutSchedule(schedule);
  {
    absl::MutexLock lock(&mu_);
    cached->writing = false;
    if (stored.ok()) cached->schedule.end_time_ms = current_time_ms;
    schedule_written_.SignalAll();
  }
  SH_RETURN_IF_ERROR(stored);
  return id;
}

absl::StatusOr<EbpfTaskCreation> EbpfService::CreateFixedTimeTask(
    const EbpfFixedTimeRequest& request) {
  const int64_t now = clock_->NowMillis();
  const int64_t start = request.start_time_ms <= 0 ? now : request.start_time_ms;
  auto refuse = [](std::string reason) {
    return EbpfTaskCreation{std::nullopt, std::move(reason)};
  };
  if (request.service_id.empty()) return refuse("service could not be empty");
  if (!request.process_labels.empty()) {
    auto missing_labels = [&] {
      std::vector<std::string> have = ServiceLabels(request.service_id);
      std::vector<std::string> missing;
      for (const std::string& label : request.process_labels) {
        if (std::find(have.begin(), have.end(), label) == have.end()) missing.push_back(label);
      }
      return missing;
    };
    std::vector<std::string> missing = missing_labels();
    // Before refusing, the store: a process another node registered a moment ago may not have
    // reached this node's cache yet. A failed re-read is the answer (not a refusal that names
    // labels the store may well have).
    if (!missing.empty()) {
      SH_RETURN_IF_ERROR(ReloadProcesses());
      missing = missing_labels();
    }
    if (!missing.empty()) {
      return refuse(absl::StrCat("The service doesn't have processes with label(s) ",
                                 absl::StrJoin(missing, ", "), "."));
    }
    if (model::GsonStringArray(request.process_labels).size() > kMaxLabelsJson) {
      return refuse("The labels length is bigger than 1000, please reduce the labels count");
    }
  }
  if (!request.target_type) return refuse("the profiling target could not be null");
  if (request.duration_s < 60) {
    return refuse("the fixed time duration must be greater than or equals 60s");
  }
  if (*request.target_type == model::EbpfTargetType::kNetwork) {
    return refuse(kNetworkFixedTimeRefusal);
  }
  // OAP's overlap check (§5.2 #6) can never fail as written; like OAP, none is applied.
  model::EbpfTask task;
  task.logical_id = model::EbpfTaskLogicalId(request.service_id, request.process_labels, start);
  task.service_id = request.service_id;
  task.process_labels = request.process_labels;
  task.start_time_ms = start;
  task.trigger_type = model::EbpfTriggerType::kFixedTime;
  task.fixed_trigger_duration_s = request.duration_s;
  task.target_type = *request.target_type;
  task.create_time_ms = now;
  task.last_update_time_ms = now;
  SH_RETURN_IF_ERROR(store_->PutTask(task));
  {
    absl::MutexLock lock(&mu_);
    AddStored(task);
  }
  PublishTask(task);
  return EbpfTaskCreation{task.logical_id, std::nullopt};
}

absl::StatusOr<std::string> EbpfService::AddWithUniqueId(model::EbpfTask task, int64_t id_time_ms) {
  absl::MutexLock create(&create_mu_);
  // The first id unused among the tasks this node knows and, checked by the store, among those
  // every node stored (another node's may not be in this node's cache yet).
  constexpr int kMaxAttempts = 1000;
  int64_t id_time = id_time_ms;
  for (int attempt = 0;; ++attempt, ++id_time) {
    if (attempt == kMaxAttempts) {
      return absl::ResourceExhaustedError(absl::StrCat("no unused eBPF task id for service ",
                                                       task.service_id, " near time ", id_time_ms));
    }
    task.logical_id = model::EbpfTaskLogicalId(task.service_id, {}, id_time);
    {
      absl::MutexLock lock(&mu_);
      if (std::any_of(tasks_.begin(), tasks_.end(),
                      [&](const model::EbpfTask& t) { return t.logical_id == task.logical_id; })) {
        continue;
      }
    }
    SH_ASSIGN_OR_RETURN(bool stored, store_->PutNewTask(task));
    if (stored) break;
  }
  {
    absl::MutexLock lock(&mu_);
    AddStored(task);
  }
  PublishTask(task);
  return task.logical_id;
}

absl::StatusOr<std::string> EbpfService::AddContinuousTask(model::EbpfTask task) {
  const int64_t id_time = task.start_time_ms;
  return AddWithUniqueId(std::move(task), id_time);
}

namespace {

// OAP's checks of the sampling rules (§5.3 #3), in its order, then RE2's of each regex.
std::optional<std::string> CheckSamplings(const std::vector<model::NetworkSamplingRule>& rules) {
  bool has_default = false;
  absl::flat_hash_set<std::string> regexes;
  for (const model::NetworkSamplingRule& rule : rules) {
    if (!rule.uri_regex || rule.uri_regex->empty()) {
      if (has_default) return "already contains the default sampling config";
      has_default = true;
    } else {
      if (!regexes.insert(*rule.uri_regex).second) {
        return absl::StrCat("already contains the \"", *rule.uri_regex, "\" sampling config");
      }
      RE2::Options options;
      options.set_log_errors(false);
      RE2 compiled(*rule.uri_regex, options);
      if (!compiled.ok()) {
        return absl::StrCat("the URI regex \"", *rule.uri_regex,
                            "\" does not compile: ", compiled.error());
      }
    }
    if (rule.min_duration_ms && *rule.min_duration_ms < 0) {
      return "the min duration must bigger or equals zero";
    }
    if (!rule.settings) return "the rule sampling setting cannot be null";
    const model::NetworkCollectSettings& settings = *rule.settings;
    if (!settings.require_complete_request && !settings.require_complete_response) {
      return "please collect at least one of request or response";
    }
    if (settings.max_request_size && *settings.max_request_size <= 0) {
      return "the max request size must bigger than zero";
    }
    if (settings.max_response_size && *settings.max_response_size <= 0) {
      return "the max response size must bigger than zero";
    }
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<EbpfTaskCreation> EbpfService::CreateNetworkTask(const EbpfNetworkRequest& request) {
  auto refuse = [](std::string reason) {
    return EbpfTaskCreation{std::nullopt, std::move(reason)};
  };
  if (request.instance_id.empty()) return refuse("instance could not be empty");
  {
    absl::MutexLock lock(&mu_);
    if (std::none_of(processes_.begin(), processes_.end(), [&](const auto& entry) {
          return entry.second.instance_id == request.instance_id &&
                 entry.second.detect_type != model::DetectType::kVirtual;
        })) {
      return refuse("The instance doesn't have processes.");
    }
  }
  if (std::optional<std::string> problem = CheckSamplings(request.samplings)) {
    return refuse(*std::move(problem));
  }
  const size_t separator = request.instance_id.find('_');
  if (separator == std::string::npos || separator == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the instance id \"", request.instance_id, "\" names no service"));
  }
  const int64_t now = clock_->NowMillis();
  model::EbpfTask task;
  task.service_id = request.instance_id.substr(0, separator);
  task.instance_id = request.instance_id;
  task.start_time_ms = now;
  task.trigger_type = model::EbpfTriggerType::kFixedTime;
  task.fixed_trigger_duration_s = kNetworkTaskDurationS;
  task.target_type = model::EbpfTargetType::kNetwork;
  task.create_time_ms = now;
  task.last_update_time_ms = now;
  task.extension_config_json = model::NetworkExtensionJson(request.samplings);
  SH_ASSIGN_OR_RETURN(std::string id, AddWithUniqueId(std::move(task), now));
  return EbpfTaskCreation{std::move(id), std::nullopt};
}

absl::StatusOr<std::optional<std::string>> EbpfService::KeepNetworkTask(
    const std::string& task_id) {
  // One keep-alive at a time, so that two of them never both extend the task.
  absl::MutexLock create(&create_mu_);
  std::vector<model::EbpfTask> records;
  {
    absl::MutexLock lock(&mu_);
    for (const model::EbpfTask& t : tasks_) {
      if (t.logical_id == task_id) records.push_back(t);
    }
  }
  if (records.empty()) return std::optional<std::string>("profiling task not exists");
  const model::EbpfTask merged = MergeTaskRecords(std::move(records)).front();
  if (merged.target_type != model::EbpfTargetType::kNetwork) {
    return std::optional<std::string>("current task is not a \"NETWORK\" task");
  }
  const int64_t now = clock_->NowMillis();
  const int64_t remaining_s =
      (merged.start_time_ms + merged.fixed_trigger_duration_s * 1000 - now) / 1000;
  if (remaining_s < 0) return std::optional<std::string>("profiling task has been finished");
  if (remaining_s > kNetworkKeepWindowS) return std::optional<std::string>();
  model::EbpfTask extension;
  extension.logical_id = merged.logical_id;
  extension.service_id = merged.service_id;
  extension.instance_id = merged.instance_id;
  extension.start_time_ms = merged.start_time_ms;
  extension.trigger_type = merged.trigger_type;
  extension.fixed_trigger_duration_s = merged.fixed_trigger_duration_s + kNetworkTaskDurationS;
  extension.target_type = model::EbpfTargetType::kNetwork;
  extension.create_time_ms = now;
  extension.last_update_time_ms = now;
  SH_RETURN_IF_ERROR(store_->PutTask(extension));
  {
    absl::MutexLock lock(&mu_);
    AddStored(extension);
  }
  PublishTask(extension);
  return std::optional<std::string>();
}

std::vector<model::EbpfTask> EbpfService::ListTasks(
    const std::string& service_id, const std::string& instance_id,
    const std::vector<model::EbpfTargetType>& targets, model::EbpfTriggerType trigger) const {
  std::vector<model::EbpfTask> records;
  {
    absl::MutexLock lock(&mu_);
    for (const model::EbpfTask& t : tasks_) {
      if (!service_id.empty() && t.service_id != service_id) continue;
      if (!instance_id.empty() && t.instance_id != instance_id) continue;
      if (!targets.empty() &&
          std::find(targets.begin(), targets.end(), t.target_type) == targets.end()) {
        continue;
      }
      if (t.trigger_type != trigger) continue;
      records.push_back(t);
    }
  }
  return MergeTaskRecords(std::move(records));
}

std::vector<model::Process> EbpfService::ListProcesses(const std::string& service_id,
                                                       const std::string& instance_id) const {
  std::vector<model::Process> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, p] : processes_) {
      if (!service_id.empty() && p.service_id != service_id) continue;
      if (!instance_id.empty() && p.instance_id != instance_id) continue;
      out.push_back(p);
    }
  }
  std::sort(out.begin(), out.end(), [](const model::Process& a, const model::Process& b) {
    return std::tie(a.instance_name, a.name, a.id) < std::tie(b.instance_name, b.name, b.id);
  });
  return out;
}

std::optional<model::Process> EbpfService::GetProcess(const std::string& process_id) const {
  absl::MutexLock lock(&mu_);
  auto it = processes_.find(process_id);
  if (it == processes_.end()) return std::nullopt;
  return it->second;
}

bool EbpfService::HasProcess(absl::string_view process_id) const {
  absl::MutexLock lock(&mu_);
  return processes_.contains(process_id);
}

std::vector<std::string> EbpfService::ServiceLabels(const std::string& service_id) const {
  std::vector<std::string> labels;
  for (const model::Process& p : ListProcesses(service_id, "")) {
    for (const std::string& label : p.labels) {
      if (std::find(labels.begin(), labels.end(), label) == labels.end()) labels.push_back(label);
    }
  }
  return labels;
}

int64_t EbpfService::EstimateScale(const std::string& service_id,
                                   const std::vector<std::string>& labels) const {
  if (service_id.empty()) return 0;
  const int64_t now = clock_->NowMillis();
  int64_t count = 0;
  for (const model::Process& p : ListProcesses(service_id, "")) {
    if (p.detect_type == model::DetectType::kVirtual || !p.profiling_supported) continue;
    if (Minute(p.last_ping_ms) < Minute(now - kRecentWindowMs)) continue;
    if (Minute(p.first_seen_ms) > Minute(now)) continue;
    if (!ContainsAll(p.labels, labels)) continue;
    ++count;
  }
  return count;
}

}  // namespace stackhouse::service
