#include "receiver/span_event_service.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "receiver/status_convert.h"

namespace stackhouse::receiver {
namespace {

model::SpanAttachedEvent FromProto(skywalking::v3::SpanAttachedEvent* pb) {
  model::SpanAttachedEvent e;
  e.start_seconds = pb->starttime().seconds();
  e.start_nanos = pb->starttime().nanos();
  e.event = std::move(*pb->mutable_event());
  e.end_seconds = pb->endtime().seconds();
  e.end_nanos = pb->endtime().nanos();
  for (auto& tag : *pb->mutable_tags()) {
    e.tags.emplace_back(std::move(*tag.mutable_key()), std::move(*tag.mutable_value()));
  }
  for (auto& value : *pb->mutable_summary()) {
    e.summary.emplace_back(std::move(*value.mutable_key()), value.value());
  }
  auto* ref = pb->mutable_tracecontext();
  e.zipkin = ref->type() == skywalking::v3::SpanAttachedEvent::ZIPKIN;
  e.trace_id = std::move(*ref->mutable_traceid());
  e.segment_id = std::move(*ref->mutable_tracesegmentid());
  e.span_id = std::move(*ref->mutable_spanid());
  return e;
}

}  // namespace

class SpanEventHandler::EventConsumer final
    : public StreamConsumer<skywalking::v3::SpanAttachedEvent> {
 public:
  explicit EventConsumer(SpanEventHandler* handler) : handler_(handler) {}

  std::optional<grpc::Status> OnMessage(skywalking::v3::SpanAttachedEvent* event,
                                        size_t index) override {
    std::string problem;
    if (const size_t size = event->ByteSizeLong(); size > kMaxEventBytes) {
      problem = absl::StrCat("is an attached event of ", size, " bytes, over the ", kMaxEventBytes,
                             " bytes one may take");
    } else if (event->tags_size() > kMaxTags || event->summary_size() > kMaxTags) {
      problem = absl::StrCat("is an attached event with ", event->tags_size(), " tags and ",
                             event->summary_size(), " summary values, over the ", kMaxTags,
                             " of each one may have");
    }
    if (!problem.empty()) {
      handler_->events_->CountRefused(1);
      if (!refused_) refused_.emplace(index, std::move(problem));
      return std::nullopt;
    }
    batch_.push_back(FromProto(event));
    if (batch_.size() >= kBatch) {
      if (absl::Status f = Flush(); !f.ok()) return ToGrpcStatus(f);
    }
    return std::nullopt;
  }

  absl::Status Flush() override {
    if (batch_.empty()) return absl::OkStatus();
    std::vector<model::SpanAttachedEvent> batch;
    batch.swap(batch_);
    return handler_->events_->Add(std::move(batch));
  }

  grpc::Status Done() override {
    if (refused_) {
      return RefuseMessage("collect", refused_->first, refused_->second,
                           "it was not stored; the other events were");
    }
    return grpc::Status::OK;
  }

 private:
  SpanEventHandler* const handler_;
  std::vector<model::SpanAttachedEvent> batch_;
  // The first event refused (its index and why); later ones are only counted.
  std::optional<std::pair<size_t, std::string>> refused_;
};

grpc::Status SpanEventHandler::StartCollect(
    const grpc::CallbackServerContext& context,
    std::unique_ptr<StreamConsumer<skywalking::v3::SpanAttachedEvent>>* consumer) {
  if (grpc::Status s = auth_->Check(context); !s.ok()) return s;
  *consumer = std::make_unique<EventConsumer>(this);
  return grpc::Status::OK;
}

}  // namespace stackhouse::receiver
