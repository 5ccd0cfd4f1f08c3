#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ebpf/profiling/Continuous.grpc.pb.h"
#include "ebpf/profiling/Process.grpc.pb.h"
#include "ebpf/profiling/Profile.grpc.pb.h"
#include "grpcpp/channel.h"
#include "language-agent/Meter.grpc.pb.h"

namespace stackhouse::sim {

// The skywalking.v3 calls SkyWalking Rover makes (grpc-protocol.md §4.4), each with a deadline of
// `timeout_ms` and, when `token` is non-empty, the `authentication` metadata (Rover sends no
// agent-version). Failures come back as absl::Status with gRPC's code and message; nothing is
// logged here. Thread-compatible: use one client per thread.
class RoverClient {
 public:
  RoverClient(const std::shared_ptr<grpc::Channel>& channel, std::string token, int64_t timeout_ms);

  absl::StatusOr<skywalking::v3::EBPFReportProcessDownstream> ReportProcesses(
      const skywalking::v3::EBPFProcessReportList& list);
  absl::Status KeepAlive(const skywalking::v3::EBPFProcessPingPkgList& list);
  absl::StatusOr<skywalking::v3::Commands> QueryTasks(
      const skywalking::v3::EBPFProfilingTaskQuery& query);
  absl::StatusOr<skywalking::v3::Commands> QueryPolicies(
      const skywalking::v3::ContinuousProfilingPolicyQuery& query);
  absl::StatusOr<skywalking::v3::Commands> ReportProfilingTask(
      const skywalking::v3::ContinuousProfilingReport& report);

  // One collectProfilingData stream carrying `count` messages, the i-th being `next(i)` (which
  // may return a reference it reuses: each message is serialized before the next call). With
  // `coalesce`, writes carry gRPC's buffer hint so that the transport may batch several messages
  // into one frame and syscall (as grpc-go's writer does for Rover); the last one is flushed.
  absl::Status CollectProfilingData(
      int64_t count, absl::FunctionRef<const skywalking::v3::EBPFProfilingData&(int64_t)> next,
      bool coalesce = false);

  absl::Status CollectProfilingData(const std::vector<skywalking::v3::EBPFProfilingData>& data);

  // One MeterReportService/collectBatch stream of `count` collections, the i-th being `next(i)`
  // (same contract and `coalesce` as CollectProfilingData). Rover sends its meters this way.
  absl::Status CollectMeterBatch(
      int64_t count, absl::FunctionRef<const skywalking::v3::MeterDataCollection&(int64_t)> next,
      bool coalesce = false);

 private:
  void Prepare(grpc::ClientContext* context) const;

  std::string token_;
  int64_t timeout_ms_;
  std::unique_ptr<skywalking::v3::EBPFProcessService::Stub> process_;
  std::unique_ptr<skywalking::v3::EBPFProfilingService::Stub> profiling_;
  std::unique_ptr<skywalking::v3::MeterReportService::Stub> meter_;
  std::unique_ptr<skywalking::v3::ContinuousProfilingService::Stub> continuous_;
};

}  // namespace stackhouse::sim
