#pragma once

#include "common/metrics.h"
#include "grpcpp/support/server_interceptor.h"

namespace stackhouse::server {

// Counts every gRPC call by full method and status code in `stackhouse_grpc_calls_total`, and
// turns gRPC's undescribed INTERNAL for an unparsable request into INVALID_ARGUMENT naming the
// method. Thread-safe; one interceptor object per call.
class GrpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `metrics` must outlive the server.
  explicit GrpcMetricsInterceptorFactory(MetricsRegistry* metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  MetricsRegistry* const metrics_;
};

// The canonical upper-case name of a gRPC status code, e.g. "PERMISSION_DENIED".
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace stackhouse::server
