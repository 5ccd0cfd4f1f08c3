#include "receiver/drain_service.h"

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"

namespace stackhouse::receiver {
namespace {

// Services whose every method is drained (full path prefixes, service name and slash).
constexpr absl::string_view kDrainedServices[] = {
    "/skywalking.v3.JVMMetricReportService/",
    "/skywalking.v3.CLRMetricReportService/",
    "/skywalking.v3.ConfigurationDiscoveryService/",
    "/skywalking.v3.EventService/",
    // Rover's access-log module (Kubernetes network monitoring, not profiling).
    "/skywalking.v3.EBPFAccessLogService/",
    "/skywalking.v10.AsyncProfilerTask/",
    "/skywalking.v10.PprofTask/",
};

// Reads every message of one call, counts it, and finishes with one empty message.
class DrainReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit DrainReactor(Counter* dropped) : dropped_(dropped) { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (ok) {
      dropped_->Increment();
      request_.Clear();
      StartRead(&request_);
      return;
    }
    // The client half-closed (or the call ended): answer with an empty message.
    grpc::Slice empty("");
    response_ = grpc::ByteBuffer(&empty, 1);
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }

  void OnDone() override { delete this; }

 private:
  Counter* const dropped_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

// Ends a call at once with `status`.
class RefuseReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit RefuseReactor(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

bool DrainService::Drains(absl::string_view method) {
  for (absl::string_view prefix : kDrainedServices) {
    if (absl::StartsWith(method, prefix) && method.size() > prefix.size()) return true;
  }
  return false;
}

grpc::ServerGenericBidiReactor* DrainService::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  const std::string& method = ctx->method();
  if (!Drains(method)) {
    return new RefuseReactor(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                          absl::StrCat("Stackhouse does not implement ", method)));
  }
  if (grpc::Status s = auth_->Check(*ctx); !s.ok()) return new RefuseReactor(std::move(s));
  return new DrainReactor(metrics_->GetCounter(
      "stackhouse_agent_messages_dropped_total",
      "Messages of agent services Stackhouse accepts and drops (no error to the agent), by method",
      {{"method", method}}));
}

}  // namespace stackhouse::receiver
