#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/entities.h"

namespace stackhouse::storage {

// Services and their instances, as agents report them. Implementations are thread-safe.
class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Creates or refreshes `instance` and its service (`service_name`, normal). When
  // `replace_properties` is false the stored properties are kept (a heartbeat); otherwise
  // they are replaced. The instance's layer joins the service's layers. Durable when OK.
  // An implementation may coalesce: a heartbeat of an instance this store wrote less than 10 s
  // before may be acknowledged without a write, so `last_heartbeat_ms` (and the service's
  // `last_seen_ms`) can lag the latest heartbeat by up to 10 s. Callers must not rely on it
  // being more precise (expiry is measured in days).
  virtual absl::Status UpsertInstance(const std::string& service_name,
                                      const model::ServiceInstance& instance,
                                      bool replace_properties) = 0;

  // Every live service, ordered by id.
  virtual absl::StatusOr<std::vector<model::Service>> ListServices() const = 0;

  // The live service with `service_id`, or nullopt.
  virtual absl::StatusOr<std::optional<model::Service>> GetService(
      const std::string& service_id) const = 0;

  // Every live instance of `service_id`, ordered by id.
  virtual absl::StatusOr<std::vector<model::ServiceInstance>> ListInstances(
      const std::string& service_id) const = 0;

  // The live instance with `instance_id`, or nullopt.
  virtual absl::StatusOr<std::optional<model::ServiceInstance>> GetInstance(
      const std::string& instance_id) const = 0;

  // Creates or refreshes the endpoints `endpoint_names` of `service_id` (seen now; coalesced as
  // heartbeats are: a sighting less than 10 s after the last one written may not be written).
  virtual absl::Status TouchEndpoints(const std::string& service_id,
                                      const std::vector<std::string>& endpoint_names) = 0;

  // Live endpoints of `service_id` whose name contains `keyword` (all when empty), newest
  // first-seen time first (then by name), at most `limit` (negative: no limit).
  virtual absl::StatusOr<std::vector<model::Endpoint>> FindEndpoints(const std::string& service_id,
                                                                     const std::string& keyword,
                                                                     int limit) const = 0;

  // The live endpoint `endpoint_id`, or nullopt.
  virtual absl::StatusOr<std::optional<model::Endpoint>> GetEndpoint(
      const std::string& endpoint_id) const = 0;
};

}  // namespace stackhouse::storage
