#include "wire/segment_codec.h"

namespace stackhouse::wire {
namespace {

template <typename Enum>
Enum ClampEnum(int value, Enum max, Enum fallback) {
  return value >= 0 && value <= static_cast<int>(max) ? static_cast<Enum>(value) : fallback;
}

}  // namespace

model::Segment SegmentFromProto(const skywalking::v3::SegmentObject& proto) {
  model::Segment segment;
  segment.segment_id = proto.tracesegmentid();
  segment.trace_id = proto.traceid();
  segment.service = proto.service();
  segment.service_instance = proto.serviceinstance();
  segment.is_size_limited = proto.issizelimited();
  segment.spans.reserve(static_cast<size_t>(proto.spans_size()));
  for (const auto& s : proto.spans()) {
    model::Span span;
    span.span_id = s.spanid();
    span.parent_span_id = s.parentspanid();
    span.start_time_ms = s.starttime();
    span.end_time_ms = s.endtime();
    for (const auto& r : s.refs()) {
      model::SegmentRef ref;
      ref.type =
          ClampEnum(r.reftype(), model::RefType::kCrossThread, model::RefType::kCrossProcess);
      ref.trace_id = r.traceid();
      ref.parent_segment_id = r.parenttracesegmentid();
      ref.parent_span_id = r.parentspanid();
      ref.parent_service = r.parentservice();
      ref.parent_instance = r.parentserviceinstance();
      ref.parent_endpoint = r.parentendpoint();
      ref.network_address = r.networkaddressusedatpeer();
      span.refs.push_back(std::move(ref));
    }
    span.operation_name = s.operationname();
    span.peer = s.peer();
    span.type = ClampEnum(s.spantype(), model::SpanType::kLocal, model::SpanType::kLocal);
    span.layer = ClampEnum(s.spanlayer(), model::SpanLayer::kFaas, model::SpanLayer::kUnknown);
    span.component_id = s.componentid();
    span.is_error = s.iserror();
    for (const auto& t : s.tags()) span.tags.emplace_back(t.key(), t.value());
    for (const auto& l : s.logs()) {
      model::SpanLog log;
      log.time_ms = l.time();
      for (const auto& d : l.data()) log.data.emplace_back(d.key(), d.value());
      span.logs.push_back(std::move(log));
    }
    span.skip_analysis = s.skipanalysis();
    segment.spans.push_back(std::move(span));
  }
  return segment;
}

}  // namespace stackhouse::wire
