#include "storage/pg/pg_continuous_policy_store.h"

#include "common/status_macros.h"
#include "storage/store_records.h"

namespace stackhouse::storage::pg {
namespace {

absl::StatusOr<std::vector<model::ContinuousPolicy>> Policies(const Result& r) {
  std::vector<model::ContinuousPolicy> policies;
  policies.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    SH_ASSIGN_OR_RETURN(model::ContinuousPolicy policy, DecodeContinuousPolicy(r.Bytes(row, 2)));
    policy.service_id = r.String(row, 0);
    policy.update_time_ms = r.Int64(row, 1);
    policies.push_back(std::move(policy));
  }
  return policies;
}

}  // namespace

absl::Status PgContinuousPolicyStore::PutPolicy(const model::ContinuousPolicy& policy) {
  Params params;
  params.Text(policy.service_id).Int64(policy.update_time_ms).Bytes(EncodeContinuousPolicy(policy));
  return pool_
      ->ExecPrepared("sh_put_continuous_policy",
                     "INSERT INTO sh_continuous_policy (service_id, update_time_ms, body) "
                     "VALUES ($1, $2, $3) ON CONFLICT (service_id) DO UPDATE SET "
                     "update_time_ms = EXCLUDED.update_time_ms, body = EXCLUDED.body",
                     params)
      .status();
}

absl::StatusOr<std::optional<model::ContinuousPolicy>> PgContinuousPolicyStore::GetPolicy(
    const std::string& service_id) const {
  SH_ASSIGN_OR_RETURN(Result r, pool_->ExecPrepared("sh_get_continuous_policy",
                                                    "SELECT service_id, update_time_ms, body "
                                                    "FROM sh_continuous_policy "
                                                    "WHERE service_id = $1",
                                                    Params().Text(service_id)));
  SH_ASSIGN_OR_RETURN(std::vector<model::ContinuousPolicy> policies, Policies(r));
  if (policies.empty()) return std::nullopt;
  return std::move(policies[0]);
}

absl::StatusOr<std::vector<model::ContinuousPolicy>> PgContinuousPolicyStore::ListPolicies() const {
  SH_ASSIGN_OR_RETURN(Result r, pool_->ExecPrepared("sh_list_continuous_policies",
                                                    "SELECT service_id, update_time_ms, body "
                                                    "FROM sh_continuous_policy "
                                                    "ORDER BY service_id"));
  return Policies(r);
}

}  // namespace stackhouse::storage::pg
