#pragma once

#include "ebpf/profiling/Process.grpc.pb.h"
#include "ebpf/profiling/Profile.grpc.pb.h"
#include "receiver/auth.h"
#include "task/ebpf_service.h"

namespace stackhouse::receiver {

// `/skywalking.v3.EBPFProcessService/*`: Rover registers the processes it finds (§5.7) and
// is answered with their ids, echoing each entity verbatim in the same oneof branch.
// Thread-safe.
class EbpfProcessService final : public skywalking::v3::EBPFProcessService::Service {
 public:
  EbpfProcessService(const AuthGuard* auth, task::EbpfService* ebpf) : auth_(auth), ebpf_(ebpf) {}

  grpc::Status reportProcesses(grpc::ServerContext* context,
                               const skywalking::v3::EBPFProcessReportList* request,
                               skywalking::v3::EBPFReportProcessDownstream* response) override;
  grpc::Status keepAlive(grpc::ServerContext* context,
                         const skywalking::v3::EBPFProcessPingPkgList* request,
                         skywalking::v3::Commands* response) override;

 private:
  const AuthGuard* const auth_;
  task::EbpfService* const ebpf_;
};

// `/skywalking.v3.EBPFProfilingService/*`: task delivery (§3.3, §5.8) and the stream of
// On-CPU/Off-CPU samples. Thread-safe (per-stream state lives in the call).
class EbpfProfilingService final : public skywalking::v3::EBPFProfilingService::Service {
 public:
  // Samples of one upload are stored in blocks of at most this many.
  static constexpr size_t kMaxBlockSamples = 4096;

  EbpfProfilingService(const AuthGuard* auth, task::EbpfService* ebpf, storage::EbpfStore* store)
      : auth_(auth), ebpf_(ebpf), store_(store) {}

  grpc::Status queryTasks(grpc::ServerContext* context,
                          const skywalking::v3::EBPFProfilingTaskQuery* request,
                          skywalking::v3::Commands* response) override;
  grpc::Status collectProfilingData(grpc::ServerContext* context,
                                    grpc::ServerReader<skywalking::v3::EBPFProfilingData>* reader,
                                    skywalking::v3::Commands* response) override;

 private:
  const AuthGuard* const auth_;
  task::EbpfService* const ebpf_;
  storage::EbpfStore* const store_;
};

// Appends the `EBPFProfilingTaskQuery` command for one task and its processes (§3.3).
void AppendEbpfTaskCommand(const task::EbpfTaskCommand& command,
                           skywalking::v3::Commands* commands);

// The root-first stack of a Rover sample (graphql-protocol.md §5.7 step 3): the kernel stack
// then the user stack (one of each, the last one of a type wins), each listed innermost
// first, reversed as a whole.
std::vector<model::EbpfSymbol> RootFirstStack(
    const google::protobuf::RepeatedPtrField<skywalking::v3::EBPFProfilingStackMetadata>& stacks);

}  // namespace stackhouse::receiver
