#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/continuous.h"

namespace stackhouse::storage {

// Continuous-profiling policies, one per service; they never expire. Implementations are
// thread-safe.
class ContinuousPolicyStore {
 public:
  virtual ~ContinuousPolicyStore() = default;

  // Stores (replaces) the policy of `policy.service_id` durably.
  virtual absl::Status PutPolicy(const model::ContinuousPolicy& policy) = 0;
  // The policy of `service_id`, or nullopt.
  virtual absl::StatusOr<std::optional<model::ContinuousPolicy>> GetPolicy(
      const std::string& service_id) const = 0;
  // Every policy, ordered by service id.
  virtual absl::StatusOr<std::vector<model::ContinuousPolicy>> ListPolicies() const = 0;
};

}  // namespace stackhouse::storage
