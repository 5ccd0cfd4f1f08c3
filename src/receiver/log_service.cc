#include "receiver/log_service.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "metrics/sampled_trace.h"
#include "receiver/status_convert.h"

namespace stackhouse::receiver {
namespace {

bool IsSampledTrace(const skywalking::v3::LogData& log) {
  for (const auto& tag : log.tags().data()) {
    if (tag.key() == "LOG_KIND") return tag.value() == metrics::kSampledTraceLogKind;
  }
  return false;
}

const std::string& Body(const skywalking::v3::LogData& log) {
  static const std::string kEmpty;
  switch (log.body().content_case()) {
    case skywalking::v3::LogDataBody::kJson:
      return log.body().json().json();
    case skywalking::v3::LogDataBody::kText:
      return log.body().text().text();
    case skywalking::v3::LogDataBody::kYaml:
      return log.body().yaml().yaml();
    case skywalking::v3::LogDataBody::CONTENT_NOT_SET:
      break;
  }
  return kEmpty;
}

}  // namespace

LogHandler::LogHandler(const AuthGuard* auth, AgentTimeGuard* times, service::MeterService* meters,
                       const Clock* clock, MetricsRegistry* metrics)
    : auth_(auth),
      times_(times),
      meters_(meters),
      clock_(clock),
      dropped_logs_(metrics->GetCounter(
          "stackhouse_agent_messages_dropped_total",
          "Messages of agent services Stackhouse accepts and drops (no error to the agent), by "
          "method",
          {{"method", "/skywalking.v3.LogReportService/collect"}})),
      sampled_(metrics->GetCounter("stackhouse_sampled_requests_total",
                                   "Sampled HTTP requests Rover reported (network profiling).")),
      sampled_dropped_(metrics->GetCounter(
          "stackhouse_sampled_requests_dropped_total",
          "Sampled HTTP requests dropped: incomplete (no trace id, reason, uri, ...) or naming a "
          "process no Rover registered.")) {}

class LogHandler::LogConsumer final : public StreamConsumer<skywalking::v3::LogData> {
 public:
  LogConsumer(LogHandler* handler, std::string agent)
      : handler_(handler), agent_(std::move(agent)) {}

  std::optional<grpc::Status> OnMessage(skywalking::v3::LogData* log, size_t index) override {
    if (!IsSampledTrace(*log)) {
      handler_->dropped_logs_->Increment();
      return std::nullopt;
    }
    handler_->sampled_->Increment();
    metrics::SampledTraceLog input;
    input.service = log->service();
    input.instance = log->serviceinstance();
    input.timestamp_ms = log->timestamp() != 0 ? log->timestamp() : handler_->clock_->NowMillis();
    input.trace_id = log->tracecontext().traceid();
    input.body = Body(*log);
    absl::Status problem = handler_->times_->Check("sampled_request", input.timestamp_ms, agent_);
    absl::StatusOr<std::optional<metrics::SampledTrace>> trace =
        problem.ok() ? metrics::ParseSampledTrace(input, handler_->clock_->NowMillis())
                     : absl::StatusOr<std::optional<metrics::SampledTrace>>(problem);
    if (!trace.ok()) {
      if (absl::Status f = Flush(); !f.ok()) return ToGrpcStatus(f);
      return RefuseMessage("collect", index, trace.status().message(), KeptMessagesBefore(index));
    }
    if (!trace->has_value()) {
      handler_->sampled_dropped_->Increment();
      return std::nullopt;
    }
    batch_.push_back(std::move(**trace));
    if (batch_.size() >= kBatch) {
      if (absl::Status f = Flush(); !f.ok()) return ToGrpcStatus(f);
    }
    return std::nullopt;
  }

  absl::Status Flush() override {
    if (batch_.empty()) return absl::OkStatus();
    auto dropped = handler_->meters_->AddSampledTraces(std::move(batch_));
    batch_.clear();
    if (!dropped.ok()) return dropped.status();
    handler_->sampled_dropped_->Increment(static_cast<uint64_t>(*dropped));
    return absl::OkStatus();
  }

 private:
  LogHandler* const handler_;
  const std::string agent_;
  std::vector<metrics::SampledTrace> batch_;
};

grpc::Status LogHandler::StartCollect(
    const grpc::CallbackServerContext& context,
    std::unique_ptr<StreamConsumer<skywalking::v3::LogData>>* consumer) {
  if (grpc::Status s = auth_->Check(context); !s.ok()) return s;
  *consumer = std::make_unique<LogConsumer>(this, PeerHost(context.peer()));
  return grpc::Status::OK;
}

}  // namespace stackhouse::receiver
