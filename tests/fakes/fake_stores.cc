#include "fakes/fake_stores.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "model/ids.h"
#include "storage/varint.h"

namespace stackhouse::fakes {
namespace {

template <typename Map>
auto Find(const Map& map, const std::string& key) -> std::optional<typename Map::mapped_type> {
  auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

}  // namespace

absl::Status FakeMetadataStore::UpsertInstance(const std::string& service_name,
                                               const model::ServiceInstance& instance,
                                               bool replace_properties) {
  const int64_t now = clock_->NowMillis();
  absl::MutexLock lock(&mu_);
  auto [service, new_service] = services_.try_emplace(instance.service_id);
  if (new_service) {
    service->second.id = instance.service_id;
    service->second.first_seen_ms = now;
  }
  service->second.name = service_name;
  service->second.last_seen_ms = now;
  std::vector<std::string>& layers = service->second.layers;
  if (!instance.layer.empty() &&
      std::find(layers.begin(), layers.end(), instance.layer) == layers.end()) {
    layers.push_back(instance.layer);
    std::sort(layers.begin(), layers.end());
  }
  auto [stored, new_instance] = instances_.try_emplace(instance.id);
  model::ServiceInstance& i = stored->second;
  if (new_instance) i.first_seen_ms = now;
  i.id = instance.id;
  i.service_id = instance.service_id;
  i.name = instance.name;
  if (!instance.layer.empty()) i.layer = instance.layer;
  if (replace_properties || new_instance) i.properties = instance.properties;
  i.last_heartbeat_ms = now;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<model::Service>> FakeMetadataStore::ListServices() const {
  absl::MutexLock lock(&mu_);
  std::vector<model::Service> out;
  for (const auto& [id, service] : services_) out.push_back(service);
  return out;
}

absl::StatusOr<std::optional<model::Service>> FakeMetadataStore::GetService(
    const std::string& service_id) const {
  absl::MutexLock lock(&mu_);
  return Find(services_, service_id);
}

absl::StatusOr<std::vector<model::ServiceInstance>> FakeMetadataStore::ListInstances(
    const std::string& service_id) const {
  absl::MutexLock lock(&mu_);
  std::vector<model::ServiceInstance> out;
  for (const auto& [id, instance] : instances_) {
    if (instance.service_id == service_id) out.push_back(instance);
  }
  return out;
}

absl::StatusOr<std::optional<model::ServiceInstance>> FakeMetadataStore::GetInstance(
    const std::string& instance_id) const {
  absl::MutexLock lock(&mu_);
  return Find(instances_, instance_id);
}

absl::Status FakeMetadataStore::TouchEndpoints(const std::string& service_id,
                                               const std::vector<std::string>& endpoint_names) {
  const int64_t now = clock_->NowMillis();
  absl::MutexLock lock(&mu_);
  for (const std::string& name : endpoint_names) {
    const std::string id = model::EndpointId(service_id, name);
    auto [it, inserted] = endpoints_.try_emplace(id);
    if (inserted) it->second = {id, service_id, name, now, now};
    it->second.last_seen_ms = now;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<model::Endpoint>> FakeMetadataStore::FindEndpoints(
    const std::string& service_id, const std::string& keyword, int limit) const {
  std::vector<model::Endpoint> out;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, e] : endpoints_) {
      if (e.service_id == service_id && absl::StrContains(e.name, keyword)) out.push_back(e);
    }
  }
  std::sort(out.begin(), out.end(), [](const model::Endpoint& a, const model::Endpoint& b) {
    if (a.first_seen_ms != b.first_seen_ms) return a.first_seen_ms > b.first_seen_ms;
    return a.name < b.name;
  });
  if (limit >= 0 && out.size() > static_cast<size_t>(limit)) out.resize(limit);
  return out;
}

absl::StatusOr<std::optional<model::Endpoint>> FakeMetadataStore::GetEndpoint(
    const std::string& endpoint_id) const {
  absl::MutexLock lock(&mu_);
  return Find(endpoints_, endpoint_id);
}

absl::Status FakeProfileTaskStore::PutTask(const model::ProfileTask& task) {
  absl::MutexLock lock(&mu_);
  tasks_[task.id] = task;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<model::ProfileTask>> FakeProfileTaskStore::ListTasks() const {
  absl::MutexLock lock(&mu_);
  std::vector<model::ProfileTask> out;
  for (const auto& [id, task] : tasks_) out.push_back(task);
  return out;
}

absl::Status FakeProfileTaskStore::AddLog(const model::ProfileTaskLog& log,
                                          int64_t /*task_end_ms*/) {
  absl::MutexLock lock(&mu_);
  logs_.push_back(log);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<model::ProfileTaskLog>> FakeProfileTaskStore::ListLogs(
    const std::string& task_id) const {
  std::vector<model::ProfileTaskLog> out;
  {
    absl::MutexLock lock(&mu_);
    for (const model::ProfileTaskLog& log : logs_) {
      if (log.task_id == task_id) out.push_back(log);
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const model::ProfileTaskLog& a, const model::ProfileTaskLog& b) {
                     return a.operation_time_ms > b.operation_time_ms;
                   });
  return out;
}

absl::StatusOr<std::vector<uint64_t>> FakeSnapshotStore::ResolveStacks(
    absl::Span<const storage::PendingStack> stacks) {
  absl::MutexLock lock(&mu_);
  std::vector<uint64_t> ids;
  ids.reserve(stacks.size());
  for (const storage::PendingStack& stack : stacks) {
    auto [it, inserted] = stack_ids_.try_emplace(*stack.frames, stacks_.size() + 1);
    if (inserted) stacks_.push_back(*stack.frames);
    ids.push_back(it->second);
  }
  return ids;
}

absl::Status FakeSnapshotStore::AddDumps(absl::Span<const storage::ResolvedDump> dumps) {
  absl::MutexLock lock(&mu_);
  for (const storage::ResolvedDump& d : dumps) {
    if (d.stack_id == 0 || d.stack_id > stacks_.size()) {
      return absl::NotFoundError(absl::StrCat("stack ", d.stack_id, " is not stored"));
    }
  }
  for (const storage::ResolvedDump& d : dumps) {
    dumps_[d.segment_id][d.sequence] = {d.sequence, d.dump_time_ms, d.stack_id,
                                        model::SnapshotLanguage::kJava};
    if (d.sequence == 0) profiled_[d.task_id].push_back({d.dump_time_ms, d.segment_id});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FakeSnapshotStore::ListProfiledSegments(
    const std::string& task_id) const {
  absl::MutexLock lock(&mu_);
  auto it = profiled_.find(task_id);
  if (it == profiled_.end()) return std::vector<std::string>{};
  std::vector<Profiled> profiled = it->second;
  std::stable_sort(profiled.begin(), profiled.end(), [](const Profiled& a, const Profiled& b) {
    return a.dump_time_ms < b.dump_time_ms;
  });
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const Profiled& p : profiled) {
    if (seen.insert(p.segment_id).second) out.push_back(p.segment_id);
  }
  return out;
}

absl::Status FakeSnapshotStore::ScanDumps(
    const std::string& segment_id,
    const std::function<void(const storage::StoredDump&)>& visit) const {
  std::vector<storage::StoredDump> dumps;
  {
    absl::MutexLock lock(&mu_);
    auto it = dumps_.find(segment_id);
    if (it != dumps_.end()) {
      for (const auto& [sequence, dump] : it->second) dumps.push_back(dump);
    }
  }
  for (const storage::StoredDump& dump : dumps) visit(dump);
  return absl::OkStatus();
}

absl::Status FakeSnapshotStore::AddGoProfile(const model::GoProfile& profile) {
  absl::MutexLock lock(&mu_);
  const std::string key = absl::StrCat("go-", go_profiles_.size() + 1);
  go_profiles_[key] = profile.pprof;
  for (const std::string& segment : profile.segment_ids) {
    go_segments_[segment].push_back({profile.task_id, segment, profile.dump_time_ms, key});
    profiled_[profile.task_id].push_back({profile.dump_time_ms, segment});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<model::GoSegmentProfile>> FakeSnapshotStore::ListGoProfiles(
    const std::string& segment_id) const {
  absl::MutexLock lock(&mu_);
  std::vector<model::GoSegmentProfile> out =
      Find(go_segments_, segment_id).value_or(std::vector<model::GoSegmentProfile>{});
  std::stable_sort(out.begin(), out.end(),
                   [](const model::GoSegmentProfile& a, const model::GoSegmentProfile& b) {
                     return a.dump_time_ms < b.dump_time_ms;
                   });
  return out;
}

absl::StatusOr<std::optional<std::string>> FakeSnapshotStore::GetGoProfile(
    const std::string& profile_key) const {
  absl::MutexLock lock(&mu_);
  return Find(go_profiles_, profile_key);
}

absl::StatusOr<std::vector<std::string>> FakeSnapshotStore::GetStack(uint64_t stack_id) const {
  absl::MutexLock lock(&mu_);
  if (stack_id == 0 || stack_id > stacks_.size()) {
    return absl::NotFoundError(absl::StrCat("stack ", stack_id, " is not stored"));
  }
  return stacks_[stack_id - 1];
}

absl::Status FakeSegmentStore::AddSegments(const std::vector<model::Segment>& segments,
                                           const std::vector<model::SegmentSummary>& summaries) {
  if (segments.size() != summaries.size()) {
    return absl::InvalidArgumentError("segments and summaries differ in length");
  }
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < segments.size(); ++i) {
    segments_[segments[i].segment_id] = {summaries[i], segments[i]};
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<storage::StoredSegment>> FakeSegmentStore::GetSegment(
    const std::string& segment_id) const {
  absl::MutexLock lock(&mu_);
  return Find(segments_, segment_id);
}

absl::StatusOr<std::vector<storage::StoredSegment>> FakeSegmentStore::ListByTraceAndInstance(
    const std::string& trace_id, const std::string& instance_id) const {
  absl::MutexLock lock(&mu_);
  std::vector<storage::StoredSegment> out;
  for (const auto& [id, s] : segments_) {
    if (s.summary.trace_id == trace_id && s.summary.instance_id == instance_id) out.push_back(s);
  }
  return out;
}

absl::StatusOr<std::vector<storage::StoredSegment>> FakeSegmentStore::ListByTrace(
    const std::string& trace_id, size_t limit) const {
  absl::MutexLock lock(&mu_);
  std::vector<storage::StoredSegment> out;
  for (const auto& [id, s] : segments_) {
    if (out.size() >= limit) break;
    if (s.summary.trace_id == trace_id) out.push_back(s);
  }
  return out;
}

absl::Status FakeEbpfStore::PutProcesses(const std::vector<model::Process>& processes) {
  absl::MutexLock lock(&mu_);
  for (const model::Process& p : processes) processes_[p.id] = p;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<model::Process>> FakeEbpfStore::ListProcesses() const {
  absl::MutexLock lock(&mu_);
  std::vector<model::Process> out;
  for (const auto& [id, p] : processes_) out.push_back(p);
  return out;
}

absl::Status FakeEbpfStore::PutTask(const model::EbpfTask& task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(task);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<model::EbpfTask>> FakeEbpfStore::ListTasks() const {
  absl::MutexLock lock(&mu_);
  return tasks_;
}

absl::Status FakeEbpfStore::PutSchedule(const model::EbpfSchedule& schedule) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = schedules_.try_emplace(schedule.schedule_id, schedule);
  if (!inserted) {
    const int64_t end_time_ms = std::max(it->second.end_time_ms, schedule.end_time_ms);
    it->second = schedule;
    it->second.end_time_ms = end_time_ms;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<model::EbpfSchedule>> FakeEbpfStore::GetSchedule(
    const std::string& schedule_id) const {
  absl::MutexLock lock(&mu_);
  return Find(schedules_, schedule_id);
}

absl::StatusOr<std::vector<model::EbpfSchedule>> FakeEbpfStore::ListSchedules(
    const std::string& task_id) const {
  absl::MutexLock lock(&mu_);
  std::vector<model::EbpfSchedule> out;
  for (const auto& [id, s] : schedules_) {
    if (s.task_id == task_id) out.push_back(s);
  }
  return out;
}

absl::StatusOr<std::vector<uint64_t>> FakeEbpfStore::ResolveStacks(
    absl::Span<const storage::PendingStack> stacks) {
  absl::MutexLock lock(&mu_);
  std::vector<uint64_t> ids;
  for (const storage::PendingStack& stack : stacks) {
    auto [it, inserted] = stack_ids_.try_emplace(*stack.frames, stacks_.size() + 1);
    if (inserted) stacks_.push_back(*stack.frames);
    ids.push_back(it->second);
  }
  return ids;
}

absl::Status FakeEbpfStore::AddSampleBlock(const std::string& schedule_id, int64_t upload_time_ms,
                                           absl::Span<const storage::StoredEbpfSample> samples) {
  absl::MutexLock lock(&mu_);
  for (const storage::StoredEbpfSample& s : samples) {
    if (s.stack_id == 0 || s.stack_id > stacks_.size()) {
      return absl::NotFoundError(absl::StrCat("stack ", s.stack_id, " is not in the dictionary"));
    }
  }
  for (model::EbpfTargetType type :
       {model::EbpfTargetType::kOnCpu, model::EbpfTargetType::kOffCpu}) {
    Block block{upload_time_ms, type, 0, {}};
    for (const storage::StoredEbpfSample& s : samples) {
      if (s.target_type != type) continue;
      ++block.count;
      storage::PutFixed64(&block.encoded, s.stack_id);
      if (type == model::EbpfTargetType::kOnCpu) {
        storage::PutVarint64(&block.encoded,
                             static_cast<uint64_t>(std::max<int64_t>(0, s.dump_count)));
      } else {
        storage::PutVarint64(&block.encoded,
                             static_cast<uint64_t>(std::max<int64_t>(0, s.switch_count)));
        storage::PutVarint64(&block.encoded,
                             static_cast<uint64_t>(std::max<int64_t>(0, s.duration_ns)));
      }
    }
    if (block.count > 0) blocks_[schedule_id].push_back(std::move(block));
  }
  return absl::OkStatus();
}

absl::Status FakeEbpfStore::ScanSamples(
    const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
    const std::function<void(const storage::StoredEbpfSample&)>& visit) const {
  return ScanSampleBlocks(schedule_id, from_ms, to_ms, [&](storage::EbpfSampleBlock& block) {
    storage::StoredEbpfSample sample;
    while (block.Next(&sample)) visit(sample);
  });
}

absl::Status FakeEbpfStore::ScanSampleBlocks(
    const std::string& schedule_id, int64_t from_ms, int64_t to_ms,
    const std::function<void(storage::EbpfSampleBlock&)>& visit) const {
  std::vector<Block> blocks;
  {
    absl::MutexLock lock(&mu_);
    auto it = blocks_.find(schedule_id);
    if (it != blocks_.end()) blocks = it->second;
  }
  std::stable_sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) {
    return a.upload_time_ms < b.upload_time_ms;
  });
  for (const Block& b : blocks) {
    if (b.upload_time_ms < from_ms || b.upload_time_ms >= to_ms) continue;
    storage::EbpfSampleBlock block(b.upload_time_ms, b.target_type, b.count, b.encoded);
    visit(block);
    if (block.corrupt()) return absl::DataLossError("cannot decode a sample block");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<model::EbpfSymbol>> FakeEbpfStore::GetStack(uint64_t stack_id) const {
  absl::MutexLock lock(&mu_);
  if (stack_id == 0 || stack_id > stacks_.size()) {
    return absl::NotFoundError(absl::StrCat("stack ", stack_id, " is not stored"));
  }
  std::vector<model::EbpfSymbol> out;
  for (const std::string& frame : stacks_[stack_id - 1]) {
    model::EbpfSymbol symbol;
    symbol.type = !frame.empty() && frame[0] == storage::kKernelFrameTag ? model::StackType::kKernel
                                                                         : model::StackType::kUser;
    symbol.name = frame.empty() ? "" : frame.substr(1);
    out.push_back(std::move(symbol));
  }
  return out;
}

absl::Status FakeUiTemplateStore::PutTemplate(const storage::UiTemplate& t) {
  absl::MutexLock lock(&mu_);
  templates_[t.id] = t;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<storage::UiTemplate>> FakeUiTemplateStore::GetTemplate(
    const std::string& id) const {
  absl::MutexLock lock(&mu_);
  return Find(templates_, id);
}

absl::StatusOr<std::vector<storage::UiTemplate>> FakeUiTemplateStore::ListTemplates() const {
  absl::MutexLock lock(&mu_);
  std::vector<storage::UiTemplate> out;
  for (const auto& [id, t] : templates_) out.push_back(t);
  return out;
}

}  // namespace stackhouse::fakes
