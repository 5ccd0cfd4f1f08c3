#include "storage/rocks_continuous_policy_store.h"

#include "common/status_macros.h"
#include "stackhouse/records.pb.h"
#include "storage/key_codec.h"

namespace stackhouse::storage {
namespace {

constexpr char kPolicyPrefix = 'c';

std::string PolicyKey(absl::string_view service_id) {
  std::string key(1, kPolicyPrefix);
  AppendString(&key, service_id);
  return key;
}

absl::StatusOr<model::ContinuousPolicy> Decode(std::string service_id, const Record& record) {
  records::ContinuousPolicyRecord pb;
  if (!pb.ParseFromString(record.value)) {
    return absl::DataLossError("cannot decode a stored continuous-profiling policy");
  }
  model::ContinuousPolicy policy;
  policy.service_id = std::move(service_id);
  policy.uuid = pb.uuid();
  policy.update_time_ms = record.timestamp_ms;
  for (const records::ContinuousTargetRecord& t : pb.targets()) {
    if (t.target_type() < 1 || t.target_type() > 3) {
      return absl::DataLossError("a stored continuous-profiling policy has an unknown target");
    }
    model::ContinuousTarget& target = policy.targets.emplace_back();
    target.type = static_cast<model::EbpfTargetType>(t.target_type());
    for (const records::ContinuousCheckItemRecord& i : t.items()) {
      if (i.monitor_type() < 1 || i.monitor_type() > 5) {
        return absl::DataLossError("a stored continuous-profiling policy has an unknown monitor");
      }
      model::ContinuousCheckItem& item = target.items.emplace_back();
      item.type = static_cast<model::ContinuousMonitorType>(i.monitor_type());
      item.threshold = i.threshold();
      item.period = i.period();
      item.count = i.count();
      if (i.has_uri_list()) item.uri_list.emplace(i.uri_list().begin(), i.uri_list().end());
      if (i.has_uri_regex()) item.uri_regex = i.uri_regex();
    }
  }
  return policy;
}

}  // namespace

absl::Status RocksContinuousPolicyStore::PutPolicy(const model::ContinuousPolicy& policy) {
  records::ContinuousPolicyRecord pb;
  pb.set_uuid(policy.uuid);
  for (const model::ContinuousTarget& target : policy.targets) {
    records::ContinuousTargetRecord* t = pb.add_targets();
    t->set_target_type(static_cast<int32_t>(target.type));
    for (const model::ContinuousCheckItem& item : target.items) {
      records::ContinuousCheckItemRecord* i = t->add_items();
      i->set_monitor_type(static_cast<int32_t>(item.type));
      i->set_threshold(item.threshold);
      i->set_period(item.period);
      i->set_count(item.count);
      if (item.uri_list) {
        i->set_has_uri_list(true);
        for (const std::string& uri : *item.uri_list) i->add_uri_list(uri);
      }
      if (item.uri_regex) {
        i->set_has_uri_regex(true);
        i->set_uri_regex(*item.uri_regex);
      }
    }
  }
  return db_->Put(Family::kTask, PolicyKey(policy.service_id), policy.update_time_ms,
                  pb.SerializeAsString());
}

absl::StatusOr<std::optional<model::ContinuousPolicy>> RocksContinuousPolicyStore::GetPolicy(
    const std::string& service_id) const {
  SH_ASSIGN_OR_RETURN(auto record, db_->Get(Family::kTask, PolicyKey(service_id)));
  if (!record) return std::nullopt;
  SH_ASSIGN_OR_RETURN(model::ContinuousPolicy policy, Decode(service_id, *record));
  return policy;
}

absl::StatusOr<std::vector<model::ContinuousPolicy>> RocksContinuousPolicyStore::ListPolicies()
    const {
  std::vector<model::ContinuousPolicy> policies;
  absl::Status status;
  SH_RETURN_IF_ERROR(
      db_->ScanPrefix(Family::kTask, std::string(1, kPolicyPrefix), [&](const Record& record) {
        KeyReader reader(record.key);
        std::string service_id;
        if (!reader.Skip(1) || !reader.ReadString(&service_id)) {
          status = absl::DataLossError("cannot decode a stored continuous-profiling policy key");
          return false;
        }
        auto policy = Decode(std::move(service_id), record);
        if (!policy.ok()) {
          status = policy.status();
          return false;
        }
        policies.push_back(std::move(*policy));
        return true;
      }));
  SH_RETURN_IF_ERROR(status);
  return policies;
}

}  // namespace stackhouse::storage
