#pragma once

#include "storage/continuous_policy_store.h"
#include "storage/database.h"

namespace stackhouse::storage {

// ContinuousPolicyStore on RocksDB: task family (no retention), `c`+service id →
// ContinuousPolicyRecord stamped with the update time. Thread-safe.
class RocksContinuousPolicyStore final : public ContinuousPolicyStore {
 public:
  // `db` must outlive the store.
  explicit RocksContinuousPolicyStore(Database* db) : db_(db) {}

  absl::Status PutPolicy(const model::ContinuousPolicy& policy) override;
  absl::StatusOr<std::optional<model::ContinuousPolicy>> GetPolicy(
      const std::string& service_id) const override;
  absl::StatusOr<std::vector<model::ContinuousPolicy>> ListPolicies() const override;

 private:
  Database* const db_;
};

}  // namespace stackhouse::storage
