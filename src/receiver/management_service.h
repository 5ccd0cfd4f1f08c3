#pragma once

#include <memory>

#include "management/Management.grpc.pb.h"
#include "management/ManagementCompat.grpc.pb.h"
#include "receiver/auth.h"
#include "service/registry.h"

namespace stackhouse::receiver {

// The agent registry's receiver: `skywalking.v3.ManagementGrpcService` (reportInstanceProperties,
// keepAlive), handing reports to service::Registry as properties and heartbeats. Thread-safe
// (no state beyond the call).
class ManagementHandler {
 public:
  // Dependencies must outlive the handler.
  ManagementHandler(const AuthGuard* auth, service::Registry* registry)
      : auth_(auth), registry_(registry) {}

  grpc::Status ReportInstanceProperties(grpc::ServerContext* context,
                                        const skywalking::v3::InstanceProperties* request,
                                        skywalking::v3::Commands* response);
  grpc::Status KeepAlive(grpc::ServerContext* context,
                         const skywalking::v3::InstancePingPkg* request,
                         skywalking::v3::Commands* response);

 private:
  const AuthGuard* const auth_;
  service::Registry* const registry_;
};

// The gRPC service over a ManagementHandler. `Base` is the generated service class: either
// `skywalking::v3::ManagementService::Service` (`/skywalking.v3.ManagementGrpcService/*`) or the
// package-less `::ManagementService::Service` (`/ManagementService/*`) old agents (8.0-8.2)
// call; both have the same methods.
template <typename Base>
class ManagementGrpcServiceImpl final : public Base {
 public:
  explicit ManagementGrpcServiceImpl(ManagementHandler* handler) : handler_(handler) {}

  grpc::Status reportInstanceProperties(grpc::ServerContext* context,
                                        const skywalking::v3::InstanceProperties* request,
                                        skywalking::v3::Commands* response) override {
    return handler_->ReportInstanceProperties(context, request, response);
  }
  grpc::Status keepAlive(grpc::ServerContext* context,
                         const skywalking::v3::InstancePingPkg* request,
                         skywalking::v3::Commands* response) override {
    return handler_->KeepAlive(context, request, response);
  }

 private:
  ManagementHandler* const handler_;
};

using ManagementGrpcService = ManagementGrpcServiceImpl<skywalking::v3::ManagementService::Service>;
using ManagementCompatGrpcService = ManagementGrpcServiceImpl<::ManagementService::Service>;

}  // namespace stackhouse::receiver
