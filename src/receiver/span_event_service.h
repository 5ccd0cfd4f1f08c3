#pragma once

#include <cstddef>

#include "language-agent/Tracing.grpc.pb.h"
#include "receiver/auth.h"
#include "receiver/client_stream.h"
#include "service/span_event_ingest.h"

namespace stackhouse::receiver {

// SpanAttachedEventReportService (grpc-protocol.md §2.4, §5.10; addendum §3): the events Rover
// attaches to the spans of the requests it sampled (raw HTTP request / response, the syscalls
// that carried them), handed to service::SpanEventIngest (which drops, and counts, an event
// without a trace id). An event over kMaxEventBytes is not stored, and neither is an event with
// more than kMaxTags tags or summary values; the stream goes on (nothing else is lost) and ends
// with INVALID_ARGUMENT naming the first such message. Thread-safe (no state beyond the call).
class SpanEventHandler {
 public:
  // Events are written in batches of this many.
  static constexpr size_t kBatch = 128;
  // The largest event stored, serialized (Rover sends whole bodies unless a rule caps them).
  static constexpr size_t kMaxEventBytes = 4 << 20;
  // The most tags, and summary values, an event may have.
  static constexpr int kMaxTags = 256;

  // Dependencies must outlive the handler.
  SpanEventHandler(const AuthGuard* auth, service::SpanEventIngest* events)
      : auth_(auth), events_(events) {}

  // Starts a collect stream (PERMISSION_DENIED without the token).
  grpc::Status StartCollect(
      const grpc::CallbackServerContext& context,
      std::unique_ptr<StreamConsumer<skywalking::v3::SpanAttachedEvent>>* consumer);

 private:
  class EventConsumer;

  const AuthGuard* const auth_;
  service::SpanEventIngest* const events_;
};

class SpanEventGrpcService final
    : public ClientStreamService<skywalking::v3::SpanAttachedEventReportService::Service> {
 public:
  // `handler` and `streams` must outlive the service.
  SpanEventGrpcService(SpanEventHandler* handler, StreamRuntime* streams) {
    ServeClientStream<skywalking::v3::SpanAttachedEvent, skywalking::v3::Commands>(
        0, streams, "collect",
        [handler](const grpc::CallbackServerContext& context,
                  std::unique_ptr<StreamConsumer<skywalking::v3::SpanAttachedEvent>>* consumer) {
          return handler->StartCollect(context, consumer);
        });
  }
};

}  // namespace stackhouse::receiver
