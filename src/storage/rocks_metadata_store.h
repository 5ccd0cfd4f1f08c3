#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "storage/database.h"
#include "storage/metadata_store.h"

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

 private:
  // Constant after construction.
  Database* const db_;
  const Clock* const clock_;

  // Serialises read-modify-write cycles of UpsertInstance.
  absl::Mutex mu_;
};

}  // namespace stackhouse::storage
