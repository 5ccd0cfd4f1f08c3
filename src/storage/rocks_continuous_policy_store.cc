#include "storage/rocks_continuous_policy_store.h"

#include "common/status_macros.h"
#include "storage/key_codec.h"
#include "storage/store_records.h"

namespace stackhouse::storage {
namespace {

constexpr char kPolicyPrefix = 'c';

std::string PolicyKey(absl::string_view service_id) {
  std::string key(1, kPolicyPrefix);
  AppendString(&key, service_id);
  return key;
}

absl::StatusOr<model::ContinuousPolicy> Decode(std::string service_id, const Record& record) {
  SH_ASSIGN_OR_RETURN(model::ContinuousPolicy policy, DecodeContinuousPolicy(record.value));
  policy.service_id = std::move(service_id);
  policy.update_time_ms = record.timestamp_ms;
  return policy;
}

}  // namespace

absl::Status RocksContinuousPolicyStore::PutPolicy(const model::ContinuousPolicy& policy) {
  return db_->Put(Family::kTask, PolicyKey(policy.service_id), policy.update_time_ms,
                  EncodeContinuousPolicy(policy));
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
