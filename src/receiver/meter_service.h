#pragma once

#include <cstddef>

#include "common/metrics.h"
#include "language-agent/Meter.grpc.pb.h"
#include "language-agent/MeterCompat.grpc.pb.h"
#include "receiver/agent_time_guard.h"
#include "receiver/auth.h"
#include "receiver/client_stream.h"
#include "service/meter_service.h"

namespace stackhouse::receiver {

// MeterReportService (grpc-protocol.md §2.9): meters → service::MeterService. `collect`'s whole
// stream is one data set, each `collectBatch` collection is one; an element's service,
// instance and time are the last non-empty ones seen up to it (agents set them on the first
// element only; a change splits the data set there). Meters no metric uses (a language
// agent's own) are counted and skipped before anything else is looked at. A used meter is
// checked: a name, a single value or a histogram, at most kMaxLabels labels, a finite value,
// histogram buckets strictly ascending with counts >= 0, and a data-set time AgentTimeGuard
// accepts; the first message that fails ends the stream with INVALID_ARGUMENT naming it, and
// what came before it is stored. Thread-safe (no state beyond the call).
class MeterHandler {
 public:
  // Samples of one data set are analyzed and written in chunks of this many, so that a stream
  // of any length holds bounded memory. (An average within a data set, which the continuous
  // rules take, is then one per chunk: only a data set of more samples than this sees it.)
  static constexpr size_t kChunkSamples = 4096;
  static constexpr size_t kMaxLabels = 64;
  static constexpr size_t kMaxBuckets = 1024;

  // Dependencies must outlive the handler.
  MeterHandler(const AuthGuard* auth, AgentTimeGuard* times, service::MeterService* meters,
               MetricsRegistry* metrics);

  // Start a collect / collectBatch stream (PERMISSION_DENIED without the token).
  grpc::Status StartCollect(const grpc::CallbackServerContext& context,
                            std::unique_ptr<StreamConsumer<skywalking::v3::MeterData>>* consumer);
  grpc::Status StartCollectBatch(
      const grpc::CallbackServerContext& context,
      std::unique_ptr<StreamConsumer<skywalking::v3::MeterDataCollection>>* consumer);

 private:
  class DataSet;
  class CollectConsumer;
  class BatchConsumer;

  const AuthGuard* const auth_;
  AgentTimeGuard* const times_;
  service::MeterService* const meters_;
  Counter* const received_;
  Counter* const ignored_;
  Counter* const unknown_process_;
};

// The gRPC service over a MeterHandler: `skywalking::v3::MeterReportService`, or the
// package-less `::MeterReportService` of old agents (collect only).
template <typename Grpc>
class MeterGrpcServiceImpl final : public ClientStreamService<typename Grpc::Service> {
 public:
  // `handler` and `streams` must outlive the service.
  MeterGrpcServiceImpl(MeterHandler* handler, StreamRuntime* streams) {
    this->template ServeClientStream<skywalking::v3::MeterData, skywalking::v3::Commands>(
        0, streams, "collect",
        [handler](const grpc::CallbackServerContext& context,
                  std::unique_ptr<StreamConsumer<skywalking::v3::MeterData>>* consumer) {
          return handler->StartCollect(context, consumer);
        });
    if constexpr (!std::is_same_v<typename Grpc::Service, ::MeterReportService::Service>) {
      this->template ServeClientStream<skywalking::v3::MeterDataCollection,
                                       skywalking::v3::Commands>(
          1, streams, "collectBatch",
          [handler](
              const grpc::CallbackServerContext& context,
              std::unique_ptr<StreamConsumer<skywalking::v3::MeterDataCollection>>* consumer) {
            return handler->StartCollectBatch(context, consumer);
          });
    }
  }
};

using MeterGrpcService = MeterGrpcServiceImpl<skywalking::v3::MeterReportService>;
using MeterCompatGrpcService = MeterGrpcServiceImpl<::MeterReportService>;

}  // namespace stackhouse::receiver
