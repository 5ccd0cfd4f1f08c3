#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/entities.h"
#include "model/trace.h"
#include "storage/metadata_store.h"

namespace stackhouse::service {

// An instance as an agent names it in a report (management, a trace segment, a Rover process).
struct AgentInstance {
  std::string service;
  std::string instance;
  std::string layer;  // empty: model::kDefaultLayer
};

// The agent registry's one rule (grpc-protocol.md §5.3): the names an agent reports are
// truncated to the configured lengths, the ids are derived from the truncated names, an empty
// layer is GENERAL, and the service, its instance and its endpoints are created or refreshed.
// Every receiver and service that learns of an agent goes through here. Thread-safe (no state
// beyond the store).
//
// Heartbeats are coalesced by the store (storage::MetadataStore): a sighting of an instance or
// endpoint less than 10 s after the last one written may be acknowledged without a write, so
// "last seen" times can lag by up to 10 s. Properties are always written.
class Registry {
 public:
  // `store` must outlive the registry.
  Registry(storage::MetadataStore* store, model::NameLimits limits)
      : store_(store), limits_(limits) {}

  // reportInstanceProperties: registers `who` with `properties`, replacing those stored.
  absl::Status ReportProperties(const AgentInstance& who, model::KeyValueList properties);

  // A sign of life of `who` (keepAlive, a segment, a Rover process report): registers it,
  // keeping the stored properties.
  absl::Status Heartbeat(const AgentInstance& who);

  // Registers the endpoints `names` (already truncated, see model::EntryEndpoints) of
  // `service_id` as seen now.
  absl::Status TouchEndpoints(const std::string& service_id, const std::vector<std::string>& names);

  const model::NameLimits& limits() const { return limits_; }

 private:
  absl::Status Upsert(const AgentInstance& who, model::KeyValueList* properties);

  storage::MetadataStore* const store_;
  const model::NameLimits limits_;
};

}  // namespace stackhouse::service
