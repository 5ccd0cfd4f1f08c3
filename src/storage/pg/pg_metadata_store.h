#pragma once

#include <string>

#include "common/clock.h"
#include "storage/metadata_store.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/pg_store_options.h"
#include "storage/touch_coalescer.h"

namespace stackhouse::storage::pg {

// MetadataStore on PostgreSQL (tables sh_service, sh_instance, sh_endpoint). Each write is one
// statement (INSERT … ON CONFLICT DO UPDATE), so nodes that report the same service at once
// merge their layers instead of losing one. Records expire metricsDataTTL after their last
// heartbeat or sighting (hidden from readers; an expired row written again starts afresh, as in
// RocksDB). Heartbeats and endpoint sightings are coalesced per process (kTouchPeriodMs).
// Thread-safe.
class PgMetadataStore final : public MetadataStore {
 public:
  // `pool` and `clock` must outlive the store.
  PgMetadataStore(Pool* pool, const Clock* clock, const StoreOptions& options)
      : pool_(pool), clock_(clock), options_(options) {}

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
  int64_t MetricsCutoff() const { return Cutoff(clock_->NowMillis(), options_.metrics_ttl_ms); }

  // Constant after construction.
  Pool* const pool_;
  const Clock* const clock_;
  const StoreOptions options_;

  // When each heartbeat/endpoint key was last written.
  TouchCoalescer touches_{kTouchPeriodMs};
};

}  // namespace stackhouse::storage::pg
