#include "simulator/java_agent_client.h"

#include <algorithm>
#include <utility>

#include "simulator/grpc_util.h"

namespace stackhouse::sim {
namespace {

// Writes every message `next` yields on a client stream, half-closes and waits for the reply.
// A failed Write means the call is over; Finish then tells why.
template <typename Message, typename Next>
absl::Status WriteStream(grpc::ClientWriter<Message>* writer, int64_t count, Next&& next) {
  for (int64_t i = 0; i < count; ++i) {
    if (!writer->Write(next(i))) break;
  }
  writer->WritesDone();
  return FromGrpcStatus(writer->Finish());
}

}  // namespace

JavaAgentClient::JavaAgentClient(const std::shared_ptr<grpc::Channel>& channel, std::string token,
                                 int64_t timeout_ms)
    : token_(std::move(token)),
      timeout_ms_(timeout_ms),
      management_(skywalking::v3::ManagementService::NewStub(channel)),
      profile_(skywalking::v3::ProfileTask::NewStub(channel)),
      segments_(skywalking::v3::TraceSegmentReportService::NewStub(channel)) {}

absl::Status JavaAgentClient::ReportInstanceProperties(
    const skywalking::v3::InstanceProperties& properties) {
  grpc::ClientContext context;
  PrepareContext(&context, token_, timeout_ms_);
  skywalking::v3::Commands reply;
  return FromGrpcStatus(management_->reportInstanceProperties(&context, properties, &reply));
}

absl::Status JavaAgentClient::KeepAlive(const skywalking::v3::InstancePingPkg& ping) {
  grpc::ClientContext context;
  PrepareContext(&context, token_, timeout_ms_);
  skywalking::v3::Commands reply;
  return FromGrpcStatus(management_->keepAlive(&context, ping, &reply));
}

absl::StatusOr<skywalking::v3::Commands> JavaAgentClient::GetProfileTaskCommands(
    const skywalking::v3::ProfileTaskCommandQuery& query) {
  grpc::ClientContext context;
  PrepareContext(&context, token_, timeout_ms_);
  skywalking::v3::Commands reply;
  grpc::Status status = profile_->getProfileTaskCommands(&context, query, &reply);
  if (!status.ok()) return FromGrpcStatus(status);
  return reply;
}

absl::Status JavaAgentClient::ReportTaskFinish(
    const skywalking::v3::ProfileTaskFinishReport& report) {
  grpc::ClientContext context;
  PrepareContext(&context, token_, timeout_ms_);
  skywalking::v3::Commands reply;
  return FromGrpcStatus(profile_->reportTaskFinish(&context, report, &reply));
}

absl::Status JavaAgentClient::CollectSegments(
    const std::vector<skywalking::v3::SegmentObject>& segments) {
  grpc::ClientContext context;
  PrepareContext(&context, token_, timeout_ms_);
  skywalking::v3::Commands reply;
  auto writer = segments_->collect(&context, &reply);
  return WriteStream(
      writer.get(), static_cast<int64_t>(segments.size()), [&](int64_t i) -> const auto& {
        return segments[static_cast<size_t>(i)];
      });
}

absl::Status JavaAgentClient::CollectSnapshots(
    const std::vector<skywalking::v3::ThreadSnapshot>& snapshots) {
  return CollectSnapshots(static_cast<int64_t>(snapshots.size()),
                          [&](int64_t i) -> const skywalking::v3::ThreadSnapshot& {
                            return snapshots[static_cast<size_t>(i)];
                          });
}

absl::Status JavaAgentClient::CollectSnapshots(
    int64_t count, absl::FunctionRef<const skywalking::v3::ThreadSnapshot&(int64_t)> next,
    bool coalesce) {
  grpc::ClientContext context;
  PrepareContext(&context, token_, timeout_ms_);
  skywalking::v3::Commands reply;
  auto writer = profile_->collectSnapshot(&context, &reply);
  grpc::WriteOptions buffered;
  buffered.set_buffer_hint();
  for (int64_t i = 0; i < count; ++i) {
    const bool hint = coalesce && i + 1 < count;
    // A failed Write means the call is over; Finish tells why.
    if (!writer->Write(next(i), hint ? buffered : grpc::WriteOptions())) break;
  }
  writer->WritesDone();
  return FromGrpcStatus(writer->Finish());
}

absl::Status JavaAgentClient::GoProfileReport(const std::string& task_id, const std::string& pprof,
                                              size_t chunk_bytes) {
  grpc::ClientContext context;
  PrepareContext(&context, token_, timeout_ms_);
  skywalking::v3::Commands reply;
  auto writer = profile_->goProfileReport(&context, &reply);
  const size_t chunks = std::max<size_t>(1, (pprof.size() + chunk_bytes - 1) / chunk_bytes);
  skywalking::v3::GoProfileData data;
  return WriteStream(writer.get(), static_cast<int64_t>(chunks),
                     [&](int64_t i) -> const skywalking::v3::GoProfileData& {
                       const size_t offset = static_cast<size_t>(i) * chunk_bytes;
                       data.set_taskid(task_id);
                       data.set_payload(pprof.substr(offset, chunk_bytes));
                       data.set_islast(static_cast<size_t>(i) + 1 == chunks);
                       return data;
                     });
}

}  // namespace stackhouse::sim
