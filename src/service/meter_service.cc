#include "service/meter_service.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "common/status_macros.h"
#include "metrics/meter_analyzer.h"
#include "model/ids.h"

namespace stackhouse::service {

absl::Status MeterService::RegisterVirtual(const std::vector<const metrics::VirtualProcess*>& peers,
                                           int64_t now) {
  std::vector<ReportedProcess> to_register;
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&mu_);
    if (virtual_registered_.size() > kMaxRememberedVirtual) virtual_registered_.clear();
    for (const metrics::VirtualProcess* v : peers) {
      auto it = virtual_registered_.find(v->id);
      if (it != virtual_registered_.end() && now - it->second < kVirtualRefreshMs &&
          now >= it->second) {
        continue;
      }
      ReportedProcess p;
      p.detect_type = model::DetectType::kVirtual;
      p.service_name = v->service_name;
      p.instance_name = v->instance_name;
      p.process_name = v->name;
      to_register.push_back(std::move(p));
      ids.push_back(v->id);
    }
  }
  if (to_register.empty()) return absl::OkStatus();
  // The peers live in the reporting instance and take its layer.
  for (auto& p : to_register) {
    const std::string instance_id =
        model::InstanceId(model::ServiceId(p.service_name), p.instance_name);
    SH_ASSIGN_OR_RETURN(auto instance, metadata_->GetInstance(instance_id));
    p.layer = instance ? instance->layer : "";
  }
  SH_RETURN_IF_ERROR(processes_->KeepAlive("", to_register));
  absl::MutexLock lock(&mu_);
  for (const std::string& id : ids) virtual_registered_[id] = now;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> MeterService::AddSampledTraces(std::vector<metrics::SampledTrace> traces) {
  const int64_t now = clock_->NowMillis();
  int64_t dropped = 0;
  std::vector<metrics::SampledTrace> kept;
  std::vector<metrics::RelationRow> relations;
  std::vector<const metrics::VirtualProcess*> peers;
  absl::flat_hash_set<std::string> peer_ids;
  for (metrics::SampledTrace& t : traces) {
    auto known = [&](const std::string& id) {
      for (const auto& v : t.virtual_processes) {
        if (v.id == id) return true;
      }
      return processes_->HasProcess(id);
    };
    if (!known(t.relation.client_process_id) || !known(t.relation.server_process_id)) {
      ++dropped;
      continue;
    }
    relations.push_back(t.relation);
    kept.push_back(std::move(t));
  }
  for (const auto& t : kept) {
    for (const auto& v : t.virtual_processes) {
      if (peer_ids.insert(v.id).second) peers.push_back(&v);
    }
  }
  SH_RETURN_IF_ERROR(RegisterVirtual(peers, now));
  SH_RETURN_IF_ERROR(store_->AddSampledRecords(kept));
  SH_RETURN_IF_ERROR(store_->AddRelations(relations));
  return dropped;
}

absl::StatusOr<MeterIngestStats> MeterService::Ingest(const model::MeterDataSet& data_set) {
  const int64_t now = clock_->NowMillis();
  MeterIngestStats stats;
  stats.samples = static_cast<int64_t>(data_set.samples.size());
  metrics::AnalyzedDataSet analyzed = metrics::AnalyzeDataSet(data_set, now);
  stats.ignored = analyzed.ignored_samples;
  if (analyzed.updates.empty() && analyzed.relations.empty()) return stats;

  // The processes the relations name: virtual ones of this data set, else registered ones.
  absl::flat_hash_set<std::string> virtual_ids;
  for (const auto& v : analyzed.virtual_processes) virtual_ids.insert(v.id);
  absl::flat_hash_map<std::string, bool> known;
  auto is_known = [&](const std::string& id) {
    if (virtual_ids.contains(id)) return true;
    auto [it, inserted] = known.try_emplace(id, false);
    if (inserted) it->second = processes_->HasProcess(id);
    return it->second;
  };
  std::vector<metrics::RelationRow> relations;
  absl::flat_hash_set<std::string> usable_relations;  // "client-server" ids
  absl::flat_hash_set<std::string> used_virtual;
  for (metrics::RelationRow& row : analyzed.relations) {
    if (!is_known(row.client_process_id) || !is_known(row.server_process_id)) continue;
    usable_relations.insert(model::ProcessRelationId(row.client_process_id, row.server_process_id));
    if (virtual_ids.contains(row.client_process_id)) used_virtual.insert(row.client_process_id);
    if (virtual_ids.contains(row.server_process_id)) used_virtual.insert(row.server_process_id);
    relations.push_back(std::move(row));
  }
  std::vector<metrics::MetricUpdate> updates;
  updates.reserve(analyzed.updates.size());
  uint32_t last_ref = 0;  // the analyzer's runs of one entity are looked up once
  bool last_usable = false;
  for (metrics::MetricUpdate& u : analyzed.updates) {
    if (u.metric->scope == metrics::MetricScope::kProcessRelation) {
      if (u.entity_ref == 0 || u.entity_ref != last_ref) {
        last_usable = usable_relations.contains(u.entity_id);
        last_ref = u.entity_ref;
      }
      if (!last_usable) {
        ++stats.unknown_process;
        continue;
      }
    }
    updates.push_back(std::move(u));
  }

  // Virtual peers first, so that no stored relation names a process that is not listed.
  std::vector<const metrics::VirtualProcess*> peers;
  for (const auto& v : analyzed.virtual_processes) {
    if (used_virtual.contains(v.id)) peers.push_back(&v);
  }
  SH_RETURN_IF_ERROR(RegisterVirtual(peers, now));

  SH_RETURN_IF_ERROR(store_->AddMetrics(updates));
  SH_RETURN_IF_ERROR(store_->AddRelations(relations));
  stats.updates = static_cast<int64_t>(updates.size());
  return stats;
}

}  // namespace stackhouse::service
