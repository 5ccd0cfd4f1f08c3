#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "language-agent/Tracing.grpc.pb.h"
#include "management/Management.grpc.pb.h"
#include "profile/Profile.grpc.pb.h"

namespace stackhouse::sim {

// The skywalking.v3 calls a Java (or Go) agent makes, each with its metadata and a deadline of
// `timeout_ms`. Streams are client streams: all messages, half-close, one reply. Failures come
// back as absl::Status with gRPC's code and message; nothing is logged here.
// Thread-compatible: use one client per thread.
class JavaAgentClient {
 public:
  JavaAgentClient(const std::shared_ptr<grpc::Channel>& channel, std::string token,
                  int64_t timeout_ms);

  absl::Status ReportInstanceProperties(const skywalking::v3::InstanceProperties& properties);
  absl::Status KeepAlive(const skywalking::v3::InstancePingPkg& ping);
  absl::StatusOr<skywalking::v3::Commands> GetProfileTaskCommands(
      const skywalking::v3::ProfileTaskCommandQuery& query);
  absl::Status ReportTaskFinish(const skywalking::v3::ProfileTaskFinishReport& report);

  // One TraceSegmentReportService/collect stream carrying `segments`.
  absl::Status CollectSegments(const std::vector<skywalking::v3::SegmentObject>& segments);

  // One ProfileTask/collectSnapshot stream carrying `snapshots`.
  absl::Status CollectSnapshots(const std::vector<skywalking::v3::ThreadSnapshot>& snapshots);

  // One goProfileReport stream carrying `pprof` for `task_id` in chunks of `chunk_bytes` (the
  // Go agent uses 1 MiB), the last one flagged isLast.
  absl::Status GoProfileReport(const std::string& task_id, const std::string& pprof,
                               size_t chunk_bytes = 1 << 20);

  // One collectSnapshot stream carrying `count` messages, the i-th being `next(i)` (which may
  // return a reference it reuses, since each message is serialized before the next call).
  // `coalesce` lets gRPC batch consecutive messages into one write (as grpc-java's write queue
  // does); false writes and flushes each message on its own.
  absl::Status CollectSnapshots(
      int64_t count, absl::FunctionRef<const skywalking::v3::ThreadSnapshot&(int64_t)> next,
      bool coalesce = false);

 private:
  std::string token_;
  int64_t timeout_ms_;
  std::unique_ptr<skywalking::v3::ManagementService::Stub> management_;
  std::unique_ptr<skywalking::v3::ProfileTask::Stub> profile_;
  std::unique_ptr<skywalking::v3::TraceSegmentReportService::Stub> segments_;
};

}  // namespace stackhouse::sim
