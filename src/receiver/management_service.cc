#include "receiver/management_service.h"

#include "receiver/status_convert.h"

namespace stackhouse::receiver {

grpc::Status ManagementHandler::ReportInstanceProperties(
    grpc::ServerContext* context, const skywalking::v3::InstanceProperties* request,
    skywalking::v3::Commands* /*response*/) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  model::KeyValueList properties;
  properties.reserve(request->properties_size());
  for (const auto& kv : request->properties()) properties.emplace_back(kv.key(), kv.value());
  return ToGrpcStatus(registry_->ReportProperties(
      {request->service(), request->serviceinstance(), request->layer()}, std::move(properties)));
}

grpc::Status ManagementHandler::KeepAlive(grpc::ServerContext* context,
                                          const skywalking::v3::InstancePingPkg* request,
                                          skywalking::v3::Commands* /*response*/) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  return ToGrpcStatus(
      registry_->Heartbeat({request->service(), request->serviceinstance(), request->layer()}));
}

}  // namespace stackhouse::receiver
