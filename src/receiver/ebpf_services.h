#pragma once

#include "ebpf/profiling/Process.grpc.pb.h"
#include "ebpf/profiling/Profile.grpc.pb.h"
#include "receiver/agent_time_guard.h"
#include "receiver/auth.h"
#include "receiver/client_stream.h"
#include "service/ebpf_service.h"

namespace stackhouse::receiver {

// `/skywalking.v3.EBPFProcessService/*`: Rover registers the processes it finds (§5.7) and
// is answered with their ids, echoing each entity verbatim in the same oneof branch.
// Thread-safe.
class EbpfProcessGrpcService final : public skywalking::v3::EBPFProcessService::Service {
 public:
  EbpfProcessGrpcService(const AuthGuard* auth, service::EbpfService* ebpf)
      : auth_(auth), ebpf_(ebpf) {}

  grpc::Status reportProcesses(grpc::ServerContext* context,
                               const skywalking::v3::EBPFProcessReportList* request,
                               skywalking::v3::EBPFReportProcessDownstream* response) override;
  grpc::Status keepAlive(grpc::ServerContext* context,
                         const skywalking::v3::EBPFProcessPingPkgList* request,
                         skywalking::v3::Commands* response) override;

 private:
  const AuthGuard* const auth_;
  service::EbpfService* const ebpf_;
};

// `/skywalking.v3.EBPFProfilingService/*`: task delivery (§3.3, §5.8) and the stream of
// On-CPU/Off-CPU samples (served through ClientStreamReactor). Thread-safe (per-stream state
// lives in the call's consumer).
class EbpfProfilingGrpcService final
    : public ClientStreamService<skywalking::v3::EBPFProfilingService::Service> {
 public:
  // Dependencies must outlive the service.
  EbpfProfilingGrpcService(const AuthGuard* auth, AgentTimeGuard* times, service::EbpfService* ebpf,
                           StreamRuntime* streams);

  grpc::Status queryTasks(grpc::ServerContext* context,
                          const skywalking::v3::EBPFProfilingTaskQuery* request,
                          skywalking::v3::Commands* response) override;
  // Starts a collectProfilingData stream (PERMISSION_DENIED without the token); its consumer
  // hands the samples to a service::EbpfSampleStream, which stores them in blocks of one
  // upload and at most 4,096 samples and skips those it cannot analyse. At an unreadable message,
  // or a task header whose profiling start or current time AgentTimeGuard refuses, it stores the
  // samples before it and answers INVALID_ARGUMENT saying so.
  grpc::Status StartCollectProfilingData(
      const grpc::CallbackServerContext& context,
      std::unique_ptr<StreamConsumer<skywalking::v3::EBPFProfilingData>>* consumer);

 private:
  class SampleConsumer;

  static constexpr int kCollectProfilingDataIndex = 1;  // its place in ebpf/profiling/Profile.proto

  const AuthGuard* const auth_;
  AgentTimeGuard* const times_;
  service::EbpfService* const ebpf_;
};

// Appends the `EBPFProfilingTaskQuery` command for one task and its processes (§3.3).
void AppendEbpfTaskCommand(const service::EbpfTaskCommand& command,
                           skywalking::v3::Commands* commands);

// The stack of a Rover sample: its kernel stack and its user stack (one of each, the last one
// of a type wins), each listed innermost first.
class RoverStack {
 public:
  explicit RoverStack(
      const google::protobuf::RepeatedPtrField<skywalking::v3::EBPFProfilingStackMetadata>& stacks);

  // Number of symbols, kernel and user.
  size_t size() const { return size_; }

  // Calls `visit(space, symbol)` for each frame root first (graphql-protocol.md §5.7 step 3:
  // the kernel then user lists reversed as a whole), `space` a model::StackType.
  template <typename Visit>
  void ForEachRootFirst(Visit&& visit) const {
    if (user_ != nullptr) {
      for (int i = user_->stacksymbols_size() - 1; i >= 0; --i) {
        visit(model::StackType::kUser, user_->stacksymbols(i));
      }
    }
    if (kernel_ != nullptr) {
      for (int i = kernel_->stacksymbols_size() - 1; i >= 0; --i) {
        visit(model::StackType::kKernel, kernel_->stacksymbols(i));
      }
    }
  }

 private:
  const skywalking::v3::EBPFProfilingStackMetadata* kernel_ = nullptr;
  const skywalking::v3::EBPFProfilingStackMetadata* user_ = nullptr;
  size_t size_ = 0;
};

}  // namespace stackhouse::receiver
