#include "service/registry.h"

#include "model/ids.h"

namespace stackhouse::service {

absl::Status Registry::Upsert(const AgentInstance& who, model::KeyValueList* properties) {
  const std::string service_name = model::TruncateName(who.service, limits_.service);
  model::ServiceInstance instance;
  instance.service_id = model::ServiceId(service_name);
  instance.name = model::TruncateName(who.instance, limits_.instance);
  instance.id = model::InstanceId(instance.service_id, instance.name);
  instance.layer = who.layer.empty() ? model::kDefaultLayer : who.layer;
  if (properties != nullptr) instance.properties = std::move(*properties);
  return store_->UpsertInstance(service_name, instance, properties != nullptr);
}

absl::Status Registry::ReportProperties(const AgentInstance& who, model::KeyValueList properties) {
  return Upsert(who, &properties);
}

absl::Status Registry::Heartbeat(const AgentInstance& who) { return Upsert(who, nullptr); }

absl::Status Registry::TouchEndpoints(const std::string& service_id,
                                      const std::vector<std::string>& names) {
  return store_->TouchEndpoints(service_id, names);
}

}  // namespace stackhouse::service
