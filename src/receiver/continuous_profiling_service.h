#pragma once

#include "ebpf/profiling/Continuous.grpc.pb.h"
#include "receiver/auth.h"
#include "service/continuous_service.h"

namespace stackhouse::receiver {

// `/skywalking.v3.ContinuousProfilingGrpcService/*`: Rover polls the policies of its services
// (§3.4, §5.9.1) and reports the tasks it triggered (§3.5, §5.9.2). Thread-safe.
class ContinuousProfilingGrpcService final
    : public skywalking::v3::ContinuousProfilingService::Service {
 public:
  ContinuousProfilingGrpcService(const AuthGuard* auth, service::ContinuousService* continuous)
      : auth_(auth), continuous_(continuous) {}

  // No command when nothing changed, else one ContinuousProfilingPolicyQuery command.
  grpc::Status queryPolicies(grpc::ServerContext* context,
                             const skywalking::v3::ContinuousProfilingPolicyQuery* request,
                             skywalking::v3::Commands* response) override;
  // Exactly one ContinuousProfilingReportTask command when OK; INVALID_ARGUMENT for a report
  // that cannot make a task (no service, process or target, an unknown monitor type, ...).
  grpc::Status reportProfilingTask(grpc::ServerContext* context,
                                   const skywalking::v3::ContinuousProfilingReport* request,
                                   skywalking::v3::Commands* response) override;

 private:
  const AuthGuard* const auth_;
  service::ContinuousService* const continuous_;
};

}  // namespace stackhouse::receiver
