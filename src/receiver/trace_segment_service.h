#pragma once

#include "language-agent/Tracing.grpc.pb.h"
#include "language-agent/TracingCompat.grpc.pb.h"
#include "receiver/agent_time_guard.h"
#include "receiver/auth.h"
#include "receiver/client_stream.h"
#include "service/segment_ingest.h"

namespace stackhouse::receiver {

// Trace segments from language agents (grpc-protocol.md §5.5): checks their times and hands
// them to service::SegmentIngest, which registers and stores them. Thread-safe.
class TraceSegmentHandler {
 public:
  // Segments are written in batches of this many while a stream is open.
  static constexpr size_t kSegmentBatch = 128;

  // Dependencies must outlive the handler.
  TraceSegmentHandler(const AuthGuard* auth, AgentTimeGuard* times,
                      service::SegmentIngest* segments)
      : auth_(auth), times_(times), segments_(segments) {}

  // Starts a collect stream (PERMISSION_DENIED without the token); its consumer stores the
  // segments in batches of kSegmentBatch. At an unreadable message, or a segment whose start
  // time AgentTimeGuard refuses, it stores the messages before it and answers INVALID_ARGUMENT
  // saying so.
  grpc::Status StartCollect(
      const grpc::CallbackServerContext& context,
      std::unique_ptr<StreamConsumer<skywalking::v3::SegmentObject>>* consumer);
  // Stores the collection's segments; if AgentTimeGuard refuses one's start time, none of them
  // (INVALID_ARGUMENT naming it).
  grpc::Status CollectInSync(grpc::ServerContext* context,
                             const skywalking::v3::SegmentCollection* request,
                             skywalking::v3::Commands* response);

 private:
  class SegmentConsumer;

  // AgentTimeGuard's verdict on the start time of `segment` (its earliest span), the time it is
  // stored with; OK for a segment without spans (never stored).
  absl::Status CheckTime(const skywalking::v3::SegmentObject& segment, absl::string_view agent);
  // Hands `batch` to SegmentIngest; clears it.
  absl::Status Flush(std::vector<skywalking::v3::SegmentObject>* batch);

  const AuthGuard* const auth_;
  AgentTimeGuard* const times_;
  service::SegmentIngest* const segments_;
};

// The gRPC service over a TraceSegmentHandler. `Grpc` is the generated service: either
// `skywalking::v3::TraceSegmentReportService` or the package-less `::TraceSegmentReportService`
// of old agents; both have the same methods. The stream is served through ClientStreamReactor.
template <typename Grpc>
class TraceSegmentGrpcServiceImpl final : public ClientStreamService<typename Grpc::Service> {
 public:
  // `handler` and `streams` must outlive the service.
  TraceSegmentGrpcServiceImpl(TraceSegmentHandler* handler, StreamRuntime* streams)
      : handler_(handler) {
    this->template ServeClientStream<skywalking::v3::SegmentObject, skywalking::v3::Commands>(
        kCollectIndex, streams, "collect",
        [handler](const grpc::CallbackServerContext& context,
                  std::unique_ptr<StreamConsumer<skywalking::v3::SegmentObject>>* consumer) {
          return handler->StartCollect(context, consumer);
        });
  }
  grpc::Status collectInSync(grpc::ServerContext* context,
                             const skywalking::v3::SegmentCollection* request,
                             skywalking::v3::Commands* response) override {
    return handler_->CollectInSync(context, request, response);
  }

 private:
  static constexpr int kCollectIndex = 0;  // its place in Tracing.proto / TracingCompat.proto

  TraceSegmentHandler* const handler_;
};

using TraceSegmentGrpcService =
    TraceSegmentGrpcServiceImpl<skywalking::v3::TraceSegmentReportService>;
using TraceSegmentCompatGrpcService = TraceSegmentGrpcServiceImpl<::TraceSegmentReportService>;

}  // namespace stackhouse::receiver
