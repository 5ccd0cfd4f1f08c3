#include "receiver/trace_segment_service.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "receiver/status_convert.h"
#include "wire/segment_codec.h"

namespace stackhouse::receiver {

absl::Status TraceSegmentHandler::CheckTime(const skywalking::v3::SegmentObject& segment,
                                            absl::string_view agent) {
  if (segment.spans_size() == 0) return absl::OkStatus();
  int64_t start = std::numeric_limits<int64_t>::max();
  for (const skywalking::v3::SpanObject& span : segment.spans()) {
    start = std::min(start, span.starttime());
  }
  return times_->Check("segment", start, agent);
}

absl::Status TraceSegmentHandler::Flush(std::vector<skywalking::v3::SegmentObject>* batch) {
  std::vector<model::Segment> segments;
  segments.reserve(batch->size());
  for (const skywalking::v3::SegmentObject& object : *batch) {
    segments.push_back(wire::SegmentFromProto(object));
  }
  batch->clear();
  return segments_->Add(std::move(segments));
}

class TraceSegmentHandler::SegmentConsumer final
    : public StreamConsumer<skywalking::v3::SegmentObject> {
 public:
  SegmentConsumer(TraceSegmentHandler* handler, std::string agent)
      : handler_(handler), agent_(std::move(agent)) {}

  std::optional<grpc::Status> OnMessage(skywalking::v3::SegmentObject* message,
                                        size_t index) override {
    if (absl::Status time = handler_->CheckTime(*message, agent_); !time.ok()) {
      if (absl::Status s = Flush(); !s.ok()) return ToGrpcStatus(s);
      return RefuseMessage("collect", index, time.message(), KeptMessagesBefore(index));
    }
    batch_.push_back(std::move(*message));
    if (batch_.size() >= kSegmentBatch) {
      if (absl::Status s = Flush(); !s.ok()) return ToGrpcStatus(s);
    }
    return std::nullopt;
  }

  absl::Status Flush() override { return handler_->Flush(&batch_); }

 private:
  TraceSegmentHandler* const handler_;
  const std::string agent_;
  std::vector<skywalking::v3::SegmentObject> batch_;
};

grpc::Status TraceSegmentHandler::StartCollect(
    const grpc::CallbackServerContext& context,
    std::unique_ptr<StreamConsumer<skywalking::v3::SegmentObject>>* consumer) {
  if (grpc::Status s = auth_->Check(context); !s.ok()) return s;
  *consumer = std::make_unique<SegmentConsumer>(this, PeerHost(context.peer()));
  return grpc::Status::OK;
}

grpc::Status TraceSegmentHandler::CollectInSync(grpc::ServerContext* context,
                                                const skywalking::v3::SegmentCollection* request,
                                                skywalking::v3::Commands* /*response*/) {
  if (grpc::Status s = auth_->Check(*context); !s.ok()) return s;
  const std::string agent = PeerHost(context->peer());
  for (int i = 0; i < request->segments_size(); ++i) {
    if (absl::Status time = CheckTime(request->segments(i), agent); !time.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("collectInSync: segment ", i, " ", time.message(),
                                       "; no segment of the collection was stored"));
    }
  }
  std::vector<skywalking::v3::SegmentObject> batch(request->segments().begin(),
                                                   request->segments().end());
  return ToGrpcStatus(Flush(&batch));
}

}  // namespace stackhouse::receiver
