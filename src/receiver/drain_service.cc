#include "receiver/drain_service.h"

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "receiver/client_stream.h"

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

// Reads every message of one call, counts it, and finishes with one empty message; ends the
// call as idle when the sweeper finds it waiting too long. Deletes itself when done.
class DrainReactor final : public grpc::ServerGenericBidiReactor, public StreamRuntime::Stream {
 public:
  DrainReactor(Counter* dropped, StreamRuntime* runtime, std::string method)
      : dropped_(dropped), runtime_(runtime), method_(std::move(method)) {}

  // Starts reading (once admitted).
  void Start() { ReadNext(); }

  void OnReadDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      waiting_ = false;
      if (idle_) return;  // already ending
    }
    if (ok) {
      dropped_->Increment();
      ++count_;
      request_.Clear();
      ReadNext();
      return;
    }
    // The client half-closed (or the call ended): answer with an empty message.
    grpc::Slice empty("");
    response_ = grpc::ByteBuffer(&empty, 1);
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }

  bool ExpireIfWaitingSince(int64_t since_ms) override {
    absl::MutexLock lock(&mu_);
    if (!waiting_ || idle_ || waiting_since_ms_ >= since_ms) return false;
    idle_ = true;
    return true;
  }

  // Scheduled once the call is idle.
  void Run() override {
    runtime_->CountIdleEnd();
    Finish(IdleStreamStatus(method_, count_, runtime_->idle_timeout_ms(),
                            "Stackhouse drops this service's messages"));
  }

  void OnDone() override {
    runtime_->Release(this);
    delete this;
  }

 private:
  // Reads the next message, under `mu_` so that the sweeper cannot end the call first.
  void ReadNext() {
    absl::MutexLock lock(&mu_);
    waiting_ = true;
    waiting_since_ms_ = runtime_->NowMillis();
    StartRead(&request_);
  }

  Counter* const dropped_;
  StreamRuntime* const runtime_;
  const std::string method_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  size_t count_ = 0;

  absl::Mutex mu_;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
  int64_t waiting_since_ms_ ABSL_GUARDED_BY(mu_) = 0;
  bool idle_ ABSL_GUARDED_BY(mu_) = false;
};

// Ends a call at once with `status`.
class RefuseReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit RefuseReactor(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

bool DrainGrpcService::Drains(absl::string_view method) {
  for (absl::string_view prefix : kDrainedServices) {
    if (absl::StartsWith(method, prefix) && method.size() > prefix.size()) return true;
  }
  return false;
}

grpc::ServerGenericBidiReactor* DrainGrpcService::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  const std::string& method = ctx->method();
  if (!Drains(method)) {
    return new RefuseReactor(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                          absl::StrCat("Stackhouse does not implement ", method)));
  }
  if (grpc::Status s = auth_->Check(*ctx); !s.ok()) return new RefuseReactor(std::move(s));
  auto reactor = std::make_unique<DrainReactor>(
      metrics_->GetCounter("stackhouse_agent_messages_dropped_total",
                           "Messages of agent services Stackhouse accepts and drops (no error to "
                           "the agent), by method",
                           {{"method", method}}),
      streams_, method);
  if (grpc::Status s = streams_->Admit(reactor.get(), method); !s.ok()) {
    return new RefuseReactor(std::move(s));
  }
  reactor->Start();
  return reactor.release();
}

}  // namespace stackhouse::receiver
