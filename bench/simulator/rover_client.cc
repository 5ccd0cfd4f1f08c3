#include "simulator/rover_client.h"

#include <chrono>
#include <utility>

#include "simulator/grpc_util.h"

namespace stackhouse::sim {

RoverClient::RoverClient(const std::shared_ptr<grpc::Channel>& channel, std::string token,
                         int64_t timeout_ms)
    : token_(std::move(token)),
      timeout_ms_(timeout_ms),
      process_(skywalking::v3::EBPFProcessService::NewStub(channel)),
      profiling_(skywalking::v3::EBPFProfilingService::NewStub(channel)),
      meter_(skywalking::v3::MeterReportService::NewStub(channel)),
      continuous_(skywalking::v3::ContinuousProfilingService::NewStub(channel)) {}

void RoverClient::Prepare(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms_));
  if (!token_.empty()) context->AddMetadata("authentication", token_);
}

absl::StatusOr<skywalking::v3::EBPFReportProcessDownstream> RoverClient::ReportProcesses(
    const skywalking::v3::EBPFProcessReportList& list) {
  grpc::ClientContext context;
  Prepare(&context);
  skywalking::v3::EBPFReportProcessDownstream reply;
  grpc::Status status = process_->reportProcesses(&context, list, &reply);
  if (!status.ok()) return FromGrpcStatus(status);
  return reply;
}

absl::Status RoverClient::KeepAlive(const skywalking::v3::EBPFProcessPingPkgList& list) {
  grpc::ClientContext context;
  Prepare(&context);
  skywalking::v3::Commands reply;
  return FromGrpcStatus(process_->keepAlive(&context, list, &reply));
}

absl::StatusOr<skywalking::v3::Commands> RoverClient::QueryTasks(
    const skywalking::v3::EBPFProfilingTaskQuery& query) {
  grpc::ClientContext context;
  Prepare(&context);
  skywalking::v3::Commands reply;
  grpc::Status status = profiling_->queryTasks(&context, query, &reply);
  if (!status.ok()) return FromGrpcStatus(status);
  return reply;
}

absl::StatusOr<skywalking::v3::Commands> RoverClient::QueryPolicies(
    const skywalking::v3::ContinuousProfilingPolicyQuery& query) {
  grpc::ClientContext context;
  Prepare(&context);
  skywalking::v3::Commands reply;
  grpc::Status status = continuous_->queryPolicies(&context, query, &reply);
  if (!status.ok()) return FromGrpcStatus(status);
  return reply;
}

absl::StatusOr<skywalking::v3::Commands> RoverClient::ReportProfilingTask(
    const skywalking::v3::ContinuousProfilingReport& report) {
  grpc::ClientContext context;
  Prepare(&context);
  skywalking::v3::Commands reply;
  grpc::Status status = continuous_->reportProfilingTask(&context, report, &reply);
  if (!status.ok()) return FromGrpcStatus(status);
  return reply;
}

absl::Status RoverClient::CollectProfilingData(
    int64_t count, absl::FunctionRef<const skywalking::v3::EBPFProfilingData&(int64_t)> next,
    bool coalesce) {
  grpc::ClientContext context;
  Prepare(&context);
  skywalking::v3::Commands reply;
  auto writer = profiling_->collectProfilingData(&context, &reply);
  grpc::WriteOptions buffered;
  buffered.set_buffer_hint();
  for (int64_t i = 0; i < count; ++i) {
    bool hint = coalesce && i + 1 < count;
    // A failed Write means the call is over; Finish tells why.
    if (!writer->Write(next(i), hint ? buffered : grpc::WriteOptions())) break;
  }
  writer->WritesDone();
  return FromGrpcStatus(writer->Finish());
}

absl::Status RoverClient::CollectMeterBatch(
    int64_t count, absl::FunctionRef<const skywalking::v3::MeterDataCollection&(int64_t)> next,
    bool coalesce) {
  grpc::ClientContext context;
  Prepare(&context);
  skywalking::v3::Commands reply;
  auto writer = meter_->collectBatch(&context, &reply);
  grpc::WriteOptions buffered;
  buffered.set_buffer_hint();
  for (int64_t i = 0; i < count; ++i) {
    bool hint = coalesce && i + 1 < count;
    if (!writer->Write(next(i), hint ? buffered : grpc::WriteOptions())) break;
  }
  writer->WritesDone();
  return FromGrpcStatus(writer->Finish());
}

absl::Status RoverClient::CollectProfilingData(
    const std::vector<skywalking::v3::EBPFProfilingData>& data) {
  return CollectProfilingData(static_cast<int64_t>(data.size()),
                              [&](int64_t i) -> const skywalking::v3::EBPFProfilingData& {
                                return data[static_cast<size_t>(i)];
                              });
}

}  // namespace stackhouse::sim
