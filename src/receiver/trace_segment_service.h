#pragma once

#include "config/config.h"
#include "language-agent/Tracing.grpc.pb.h"
#include "language-agent/TracingCompat.grpc.pb.h"
#include "receiver/auth.h"
#include "storage/metadata_store.h"
#include "storage/segment_store.h"

namespace stackhouse::receiver {

// Trace segments from language agents (grpc-protocol.md §5.5): stores them for trace
// profiling and registers their services, instances and endpoints. Thread-safe.
class TraceSegmentHandler {
 public:
  // Segments are written in batches of this many while a stream is open.
  static constexpr size_t kSegmentBatch = 128;

  // Dependencies must outlive the handler.
  TraceSegmentHandler(const AuthGuard* auth, storage::SegmentStore* segments,
                      storage::MetadataStore* metadata, const config::ReceiverConfig* config)
      : auth_(auth), segments_(segments), metadata_(metadata), config_(config) {}

  grpc::Status Collect(grpc::ServerContext* context,
                       grpc::ServerReader<skywalking::v3::SegmentObject>* reader,
                       skywalking::v3::Commands* response);
  grpc::Status CollectInSync(grpc::ServerContext* context,
                             const skywalking::v3::SegmentCollection* request,
                             skywalking::v3::Commands* response);

 private:
  // Stores `batch` and registers what it names; clears it.
  absl::Status Flush(std::vector<skywalking::v3::SegmentObject>* batch);

  const AuthGuard* const auth_;
  storage::SegmentStore* const segments_;
  storage::MetadataStore* const metadata_;
  const config::ReceiverConfig* const config_;
};

// The gRPC service over a TraceSegmentHandler. `Base` is the generated service class: either
// `skywalking::v3::TraceSegmentReportService::Service` or the package-less
// `::TraceSegmentReportService::Service` of old agents; both have the same methods.
template <typename Base>
class TraceSegmentServiceImpl final : public Base {
 public:
  explicit TraceSegmentServiceImpl(TraceSegmentHandler* handler) : handler_(handler) {}

  grpc::Status collect(grpc::ServerContext* context,
                       grpc::ServerReader<skywalking::v3::SegmentObject>* reader,
                       skywalking::v3::Commands* response) override {
    return handler_->Collect(context, reader, response);
  }
  grpc::Status collectInSync(grpc::ServerContext* context,
                             const skywalking::v3::SegmentCollection* request,
                             skywalking::v3::Commands* response) override {
    return handler_->CollectInSync(context, request, response);
  }

 private:
  TraceSegmentHandler* const handler_;
};

using TraceSegmentService =
    TraceSegmentServiceImpl<skywalking::v3::TraceSegmentReportService::Service>;
using TraceSegmentCompatService = TraceSegmentServiceImpl<::TraceSegmentReportService::Service>;

}  // namespace stackhouse::receiver
