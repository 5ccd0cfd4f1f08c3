#include "service/continuous_service.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/ids.h"
#include "service/cache_refresher.h"

namespace stackhouse::service {
namespace {

constexpr int64_t kMinuteMs = 60000;

int64_t Minute(int64_t ms) { return ms >= 0 ? ms / kMinuteMs : (ms - kMinuteMs + 1) / kMinuteMs; }

// `{"networkSamplings":[…]}` with one rule per regex, as OAP builds it (§5.9.2 step 2), except
// that the regex is copied into the rule (OAP leaves it out, which makes every rule a default).
std::string NetworkExtensionJson(const std::vector<std::string>& regexes) {
  std::string out = "{\"networkSamplings\":[";
  for (size_t i = 0; i < regexes.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append("{\"uriRegex\":");
    model::AppendGsonString(&out, regexes[i]);
    out.append(
        ",\"minDuration\":0,\"when4xx\":true,\"when5xx\":true,\"settings\":{"
        "\"requireCompleteRequest\":true,\"requireCompleteResponse\":true}}");
  }
  out.append("]}");
  return out;
}

// Counts `records` into `*count` and `*last` (max start time).
void CountTrigger(const model::EbpfTask& record, int64_t* count, std::optional<int64_t>* last) {
  ++*count;
  if (!*last || record.start_time_ms > **last) *last = record.start_time_ms;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ContinuousService>> ContinuousService::Create(
    storage::ContinuousPolicyStore* store, EbpfService* ebpf,
    const storage::MetadataStore* metadata, const Clock* clock, model::NameLimits limits,
    storage::ChangeFeed* feed) {
  std::unique_ptr<ContinuousService> service(
      new ContinuousService(store, ebpf, metadata, clock, limits, feed));
  SH_RETURN_IF_ERROR(service->Reload());
  return service;
}

absl::Status ContinuousService::Reload() {
  absl::MutexLock write(&write_mu_);
  SH_ASSIGN_OR_RETURN(auto policies, store_->ListPolicies());
  absl::flat_hash_map<std::string, std::shared_ptr<const model::ContinuousPolicy>> loaded;
  for (model::ContinuousPolicy& policy : policies) {
    std::string id = policy.service_id;
    loaded.emplace(std::move(id),
                   std::make_shared<const model::ContinuousPolicy>(std::move(policy)));
  }
  absl::MutexLock lock(&mu_);
  policies_ = std::move(loaded);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> ContinuousService::SetPolicy(
    const std::string& service_id, std::vector<model::ContinuousTarget> targets) {
  if (service_id.empty()) return std::optional<std::string>("the service id cannot be empty");
  if (std::optional<std::string> error = model::ValidateContinuousTargets(targets)) return error;
  auto policy = std::make_shared<model::ContinuousPolicy>();
  policy->service_id = service_id;
  policy->targets = model::NormalizeContinuousTargets(std::move(targets));
  const std::string json = model::ContinuousConfigurationJson(policy->targets);
  if (json.size() > kMaxConfigurationJson) {
    return std::optional<std::string>(
        absl::StrCat("the policy is too large: its configuration JSON has ", json.size(),
                     " bytes, at most ", kMaxConfigurationJson, " are allowed"));
  }
  policy->uuid = model::ContinuousPolicyUuid(json);
  policy->update_time_ms = clock_->NowMillis();
  {
    absl::MutexLock write(&write_mu_);
    SH_RETURN_IF_ERROR(store_->PutPolicy(*policy));
    absl::MutexLock lock(&mu_);
    policies_[service_id] = std::move(policy);
  }
  PublishChange(feed_, storage::ChangeKind::kContinuousPolicies,
                absl::StrCat("the continuous profiling policy of ", service_id));
  return std::optional<std::string>();
}

std::optional<model::ContinuousPolicy> ContinuousService::GetPolicy(
    const std::string& service_id) const {
  absl::MutexLock lock(&mu_);
  auto it = policies_.find(service_id);
  if (it == policies_.end()) return std::nullopt;
  return *it->second;
}

std::vector<std::string> ContinuousService::QueryPolicies(
    const std::vector<PolicyQuery>& queries) const {
  struct Wanted {
    std::string service_id;
    std::string service_name;
    const std::string* uuid;
  };
  std::vector<Wanted> wanted;
  absl::flat_hash_set<std::string> seen;
  for (const PolicyQuery& q : queries) {
    std::string name = model::TruncateName(q.service_name, limits_.service);
    std::string id = model::ServiceId(name);
    if (!seen.insert(id).second) continue;
    wanted.push_back({std::move(id), std::move(name), &q.uuid});
  }
  std::vector<std::shared_ptr<const model::ContinuousPolicy>> found;
  {
    absl::MutexLock lock(&mu_);
    for (const Wanted& w : wanted) {
      auto it = policies_.find(w.service_id);
      found.push_back(it == policies_.end() ? nullptr : it->second);
    }
  }
  std::vector<std::string> entries;
  for (size_t i = 0; i < wanted.size(); ++i) {
    const model::ContinuousPolicy* policy = found[i].get();
    if (policy == nullptr ? wanted[i].uuid->empty() : policy->uuid == *wanted[i].uuid) continue;
    entries.push_back(model::ContinuousPolicyCommandEntry(wanted[i].service_name, policy));
  }
  return entries;
}

absl::StatusOr<std::string> ContinuousService::ReportTask(const ContinuousReport& report) {
  if (model::IsBlank(report.service_name)) {
    return absl::InvalidArgumentError("the continuous profiling report names no service");
  }
  if (report.process_name.empty()) {
    return absl::InvalidArgumentError("the continuous profiling report names no process");
  }
  if (!report.target) {
    return absl::InvalidArgumentError(
        "the continuous profiling report names no target task (onCPU, offCPU or network)");
  }
  if (report.duration_s < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the continuous profiling duration must not be negative: ", report.duration_s, "s"));
  }
  const int64_t now = clock_->NowMillis();
  const std::string service_name = model::TruncateName(report.service_name, limits_.service);
  const std::string instance_name = model::TruncateName(report.instance_name, limits_.instance);

  model::EbpfTask task;
  task.service_id = model::ServiceId(service_name);
  task.instance_id = model::InstanceId(task.service_id, instance_name);
  task.start_time_ms = now;
  task.trigger_type = model::EbpfTriggerType::kContinuousProfiling;
  task.fixed_trigger_duration_s = report.duration_s;
  task.target_type = *report.target;
  task.create_time_ms = now;
  task.last_update_time_ms = now;
  if (task.target_type == model::EbpfTargetType::kNetwork) {
    task.extension_config_json = NetworkExtensionJson(report.sampling_uri_regexes);
  }
  model::ContinuousTrigger& trigger = task.continuous.emplace();
  trigger.process_id = model::ProcessId(report.process_name, task.instance_id);
  trigger.process_name = report.process_name;
  for (const ReportedCause& r : report.causes) {
    model::ContinuousCause& cause = trigger.causes.emplace_back();
    cause.type = r.type;
    cause.uri = r.uri;
    cause.uri_regex = r.uri && r.uri_regex;
    if (r.uri) cause.uri_text = r.uri_text;
    cause.threshold = model::ContinuousCauseValue(r.threshold);
    cause.current = model::ContinuousCauseValue(r.current);
    cause.message = model::ContinuousCauseMessage(r.type, r.threshold, r.current, cause.uri_text);
  }
  return ebpf_->AddContinuousTask(std::move(task));
}

std::vector<model::EbpfTask> ContinuousService::RecentTriggers(
    const std::string& service_id, const std::vector<model::EbpfTargetType>& targets) const {
  const int64_t since = clock_->NowMillis() - kTriggerWindowMs;
  // Continuous tasks have one record each (unique logical ids), so merged = raw records.
  std::vector<model::EbpfTask> records =
      ebpf_->ListTasks(service_id, "", targets, model::EbpfTriggerType::kContinuousProfiling);
  std::erase_if(records, [&](const model::EbpfTask& t) { return t.start_time_ms < since; });
  return records;
}

std::vector<ContinuousTargetSummary> ContinuousService::ServiceTargets(
    const std::string& service_id) const {
  std::optional<model::ContinuousPolicy> policy = GetPolicy(service_id);
  if (!policy || policy->targets.empty()) return {};
  std::vector<model::EbpfTargetType> types;
  for (const model::ContinuousTarget& t : policy->targets) types.push_back(t.type);
  std::vector<model::EbpfTask> records = RecentTriggers(service_id, types);
  std::vector<ContinuousTargetSummary> out;
  for (model::ContinuousTarget& target : policy->targets) {
    ContinuousTargetSummary& summary = out.emplace_back();
    for (const model::EbpfTask& r : records) {
      if (r.target_type == target.type) {
        CountTrigger(r, &summary.triggered_count, &summary.last_trigger_ms);
      }
    }
    summary.target = std::move(target);
  }
  return out;
}

absl::StatusOr<std::vector<MonitoredInstance>> ContinuousService::MonitoringInstances(
    const std::string& service_id, model::EbpfTargetType target) const {
  const int64_t since = clock_->NowMillis() - kTriggerWindowMs;
  std::vector<MonitoredInstance> out;
  absl::flat_hash_map<std::string, size_t> index;  // instance id → position in `out`
  std::vector<std::vector<model::Process>> grouped;
  for (model::Process& p : ebpf_->ListProcesses(service_id, "")) {
    if (p.detect_type == model::DetectType::kVirtual) continue;
    if (Minute(p.last_ping_ms) < Minute(since)) continue;
    auto [it, inserted] = index.try_emplace(p.instance_id, grouped.size());
    if (inserted) grouped.emplace_back();
    grouped[it->second].push_back(std::move(p));
  }
  if (grouped.empty()) return out;
  std::vector<model::EbpfTask> records = RecentTriggers(service_id, {target});
  for (std::vector<model::Process>& processes : grouped) {
    SH_ASSIGN_OR_RETURN(auto instance, metadata_->GetInstance(processes.front().instance_id));
    if (!instance) continue;  // as OAP: instances that cannot be loaded are left out
    MonitoredInstance& m = out.emplace_back();
    m.instance = std::move(*instance);
    for (const model::EbpfTask& r : records) {
      if (r.instance_id == m.instance.id) CountTrigger(r, &m.triggered_count, &m.last_trigger_ms);
    }
    for (model::Process& p : processes) {
      MonitoredProcess& mp = m.processes.emplace_back();
      for (const model::EbpfTask& r : records) {
        if (r.continuous && r.continuous->process_id == p.id) {
          CountTrigger(r, &mp.triggered_count, &mp.last_trigger_ms);
        }
      }
      mp.process = std::move(p);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const MonitoredInstance& a, const MonitoredInstance& b) {
                     return a.instance.name < b.instance.name;
                   });
  return out;
}

}  // namespace stackhouse::service
