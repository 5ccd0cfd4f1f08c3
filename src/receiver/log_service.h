#pragma once

#include <cstddef>

#include "common/metrics.h"
#include "logging/Logging.grpc.pb.h"
#include "receiver/agent_time_guard.h"
#include "receiver/auth.h"
#include "receiver/client_stream.h"
#include "service/meter_service.h"

namespace stackhouse::receiver {

// LogReportService (grpc-protocol.md §2.10, §5.10). Stackhouse is not a log store: a log is
// read only when it is one of Rover's sampled HTTP requests (tag LOG_KIND =
// NET_PROFILING_SAMPLED_TRACE, any layer), which becomes a sampled record and a relation row
// (metrics::ParseSampledTrace, service::MeterService::AddSampledTraces); every other log (a
// language agent's) is counted and dropped. A sampled request whose body is not a JSON object,
// or whose time AgentTimeGuard refuses, ends the stream with INVALID_ARGUMENT naming the
// message; what came before it is stored. Thread-safe (no state beyond the call).
class LogHandler {
 public:
  // Sampled requests are written in batches of this many.
  static constexpr size_t kBatch = 256;

  // Dependencies must outlive the handler.
  LogHandler(const AuthGuard* auth, AgentTimeGuard* times, service::MeterService* meters,
             const Clock* clock, MetricsRegistry* metrics);

  // Starts a collect stream (PERMISSION_DENIED without the token).
  grpc::Status StartCollect(const grpc::CallbackServerContext& context,
                            std::unique_ptr<StreamConsumer<skywalking::v3::LogData>>* consumer);

 private:
  class LogConsumer;

  const AuthGuard* const auth_;
  AgentTimeGuard* const times_;
  service::MeterService* const meters_;
  const Clock* const clock_;
  Counter* const dropped_logs_;
  Counter* const sampled_;
  Counter* const sampled_dropped_;
};

class LogGrpcService final : public ClientStreamService<skywalking::v3::LogReportService::Service> {
 public:
  // `handler` and `streams` must outlive the service.
  LogGrpcService(LogHandler* handler, StreamRuntime* streams) {
    ServeClientStream<skywalking::v3::LogData, skywalking::v3::Commands>(
        0, streams, "collect",
        [handler](const grpc::CallbackServerContext& context,
                  std::unique_ptr<StreamConsumer<skywalking::v3::LogData>>* consumer) {
          return handler->StartCollect(context, consumer);
        });
  }
};

}  // namespace stackhouse::receiver
