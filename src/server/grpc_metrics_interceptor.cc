#include "server/grpc_metrics_interceptor.h"

#include <string>

namespace stackhouse::server {
namespace {

class GrpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  GrpcMetricsInterceptor(MetricsRegistry* metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      // gRPC reports a request it cannot parse as INTERNAL with an empty message (proto3 has
      // no initialization errors); every INTERNAL of ours carries a message. Tell the agent
      // what really happened.
      if (status.error_code() == grpc::StatusCode::INTERNAL && status.error_message().empty()) {
        status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "malformed request: not a valid protobuf message for " + method_);
        methods->ModifySendStatus(status);
      }
      metrics_
          ->GetCounter("stackhouse_grpc_calls_total", "gRPC calls by full method and status",
                       {{"method", method_}, {"code", GrpcCodeName(status.error_code())}})
          ->Increment();
    }
    methods->Proceed();
  }

 private:
  MetricsRegistry* const metrics_;
  const std::string method_;
};

}  // namespace

grpc::experimental::Interceptor* GrpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new GrpcMetricsInterceptor(metrics_, info->method() ? info->method() : "unknown");
}

const char* GrpcCodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  auto index = static_cast<size_t>(code);
  return index < std::size(kNames) ? kNames[index] : "UNKNOWN";
}

}  // namespace stackhouse::server
