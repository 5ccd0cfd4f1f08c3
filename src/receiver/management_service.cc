#include "receiver/management_service.h"

#include "model/ids.h"
#include "receiver/status_convert.h"

namespace stackhouse::receiver {
namespace {

// Builds the instance an agent report describes, with OAP's name normalisation (§5.3).
model::ServiceInstance ToInstance(const config::ReceiverConfig& config, const std::string& service,
                                  const std::string& instance, const std::string& layer,
                                  std::string* service_name) {
  *service_name = model::TruncateName(service, config.service_name_max_length);
  model::ServiceInstance out;
  out.service_id = model::ServiceId(*service_name);
  out.name = model::TruncateName(instance, config.instance_name_max_length);
  out.id = model::InstanceId(out.service_id, out.name);
  out.layer = layer.empty() ? model::kDefaultLayer : layer;
  return out;
}

}  // namespace

grpc::Status ManagementHandler::ReportInstanceProperties(
    grpc::ServerContext* context, const skywalking::v3::InstanceProperties* request,
    skywalking::v3::Commands* /*response*/) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  std::string service_name;
  model::ServiceInstance instance = ToInstance(
      *config_, request->service(), request->serviceinstance(), request->layer(), &service_name);
  for (const auto& kv : request->properties()) {
    instance.properties.emplace_back(kv.key(), kv.value());
  }
  return ToGrpcStatus(store_->UpsertInstance(service_name, instance, true));
}

grpc::Status ManagementHandler::KeepAlive(grpc::ServerContext* context,
                                          const skywalking::v3::InstancePingPkg* request,
                                          skywalking::v3::Commands* /*response*/) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  std::string service_name;
  model::ServiceInstance instance = ToInstance(
      *config_, request->service(), request->serviceinstance(), request->layer(), &service_name);
  return ToGrpcStatus(store_->UpsertInstance(service_name, instance, false));
}

}  // namespace stackhouse::receiver
