#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "storage/database.h"
#include "storage/metadata_store.h"
#include "storage/touch_coalescer.h"

namespace stackhouse::storage {

// MetadataStore on the metadata column family. Records expire metricsDataTTL after their
// last heartbeat. Thread-safe: read-modify-write of one instance is serialised by mu_.
class RocksMetadataStore final : public MetadataStore {
 public:
  // `db` and `clock` must outlive the store.
  RocksMetadataStore(Database* db, const Clock* clock) : db_(db), clock_(clock) {}

  absl::Status UpsertInstance(const std::string& service_name,
                              const model::ServiceInstance& instance,
                              bool replace_properties) override;
  absl::StatusOr<std::vector<model::Service>> ListServices() const override;
  absl::StatusOr<std::optional<model::Service>> GetService(
      const std::string& service_id) const override;
  absl::StatusOr<std::vector<model::ServiceInstance>> ListInstances(
      const std::string& service_id) const override;
  absl::StatusOr<std::optional<model::ServiceInstance>> GetInstance(
      const std::string& instance_id) const override;
  absl::Status TouchEndpoints(const std::string& service_id,
                              const std::vector<std::string>& endpoint_names) override;
  absl::StatusOr<std::vector<model::Endpoint>> FindEndpoints(const std::string& service_id,
                                                             const std::string& keyword,
                                                             int limit) const override;
  absl::StatusOr<std::optional<model::Endpoint>> GetEndpoint(
      const std::string& endpoint_id) const override;

  // Heartbeats and endpoint sightings of one entity are written at most once per this period.
  static constexpr int64_t kTouchPeriodMs = 10000;

 private:
  // When the endpoint under `key` was first seen: remembered, read once, or `now` if new.
  absl::StatusOr<int64_t> EndpointFirstSeen(const std::string& key, int64_t now)
      ABSL_LOCKS_EXCLUDED(first_seen_mu_);

  // UpsertInstance's read-modify-write, once it is due.
  absl::Status WriteInstance(const std::string& service_name,
                             const model::ServiceInstance& instance, bool replace_properties,
                             int64_t now) ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  Database* const db_;
  const Clock* const clock_;

  // Serialises read-modify-write cycles of UpsertInstance.
  absl::Mutex mu_;

  // When each heartbeat/endpoint key was last written.
  TouchCoalescer touches_{kTouchPeriodMs};
  // First-seen time of each endpoint key this process wrote (bounded; cleared when full).
  absl::Mutex first_seen_mu_;
  absl::flat_hash_map<std::string, int64_t> first_seen_ ABSL_GUARDED_BY(first_seen_mu_);
};

}  // namespace stackhouse::storage
