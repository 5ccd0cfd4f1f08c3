#pragma once

#include <memory>

#include "common/clock.h"
#include "config/config.h"
#include "management/Management.grpc.pb.h"
#include "management/ManagementCompat.grpc.pb.h"
#include "receiver/auth.h"
#include "storage/metadata_store.h"

namespace stackhouse::receiver {

// The agent registry's receiver: `skywalking.v3.ManagementService` (reportInstanceProperties,
// keepAlive), turning reports into services and instances with properties and heartbeats.
// Thread-safe (no state beyond the call).
class ManagementHandler {
 public:
  // Dependencies must outlive the handler.
  ManagementHandler(const AuthGuard* auth, storage::MetadataStore* store,
                    const config::ReceiverConfig* config)
      : auth_(auth), store_(store), config_(config) {}

  grpc::Status ReportInstanceProperties(grpc::ServerContext* context,
                                        const skywalking::v3::InstanceProperties* request,
                                        skywalking::v3::Commands* response);
  grpc::Status KeepAlive(grpc::ServerContext* context,
                         const skywalking::v3::InstancePingPkg* request,
                         skywalking::v3::Commands* response);

 private:
  const AuthGuard* const auth_;
  storage::MetadataStore* const store_;
  const config::ReceiverConfig* const config_;
};

// The gRPC service over a ManagementHandler. `Base` is the generated service class: either
// `skywalking::v3::ManagementService::Service` (`/skywalking.v3.ManagementService/*`) or the
// package-less `::ManagementService::Service` (`/ManagementService/*`) old agents (8.0-8.2)
// call; both have the same methods.
template <typename Base>
class ManagementServiceImpl final : public Base {
 public:
  explicit ManagementServiceImpl(ManagementHandler* handler) : handler_(handler) {}

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

using ManagementService = ManagementServiceImpl<skywalking::v3::ManagementService::Service>;
using ManagementCompatService = ManagementServiceImpl<::ManagementService::Service>;

}  // namespace stackhouse::receiver
