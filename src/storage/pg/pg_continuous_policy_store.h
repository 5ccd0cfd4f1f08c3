#pragma once

#include "storage/continuous_policy_store.h"
#include "storage/pg/pg_pool.h"

namespace stackhouse::storage::pg {

// ContinuousPolicyStore on PostgreSQL: table sh_continuous_policy, one row per service (its
// update time, records::ContinuousPolicyRecord; kept until replaced), so every node reads the
// same policies and uuids. Thread-safe.
class PgContinuousPolicyStore final : public ContinuousPolicyStore {
 public:
  // `pool` must outlive the store.
  explicit PgContinuousPolicyStore(Pool* pool) : pool_(pool) {}

  absl::Status PutPolicy(const model::ContinuousPolicy& policy) override;
  absl::StatusOr<std::optional<model::ContinuousPolicy>> GetPolicy(
      const std::string& service_id) const override;
  absl::StatusOr<std::vector<model::ContinuousPolicy>> ListPolicies() const override;

 private:
  Pool* const pool_;
};

}  // namespace stackhouse::storage::pg
