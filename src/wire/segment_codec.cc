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

void SegmentToProto(const model::Segment& segment, skywalking::v3::SegmentObject* proto) {
  proto->Clear();
  proto->set_tracesegmentid(segment.segment_id);
  proto->set_traceid(segment.trace_id);
  proto->set_service(segment.service);
  proto->set_serviceinstance(segment.service_instance);
  proto->set_issizelimited(segment.is_size_limited);
  for (const model::Span& span : segment.spans) {
    auto* s = proto->add_spans();
    s->set_spanid(span.span_id);
    s->set_parentspanid(span.parent_span_id);
    s->set_starttime(span.start_time_ms);
    s->set_endtime(span.end_time_ms);
    for (const model::SegmentRef& ref : span.refs) {
      auto* r = s->add_refs();
      r->set_reftype(static_cast<skywalking::v3::RefType>(ref.type));
      r->set_traceid(ref.trace_id);
      r->set_parenttracesegmentid(ref.parent_segment_id);
      r->set_parentspanid(ref.parent_span_id);
      r->set_parentservice(ref.parent_service);
      r->set_parentserviceinstance(ref.parent_instance);
      r->set_parentendpoint(ref.parent_endpoint);
      r->set_networkaddressusedatpeer(ref.network_address);
    }
    s->set_operationname(span.operation_name);
    s->set_peer(span.peer);
    s->set_spantype(static_cast<skywalking::v3::SpanType>(span.type));
    s->set_spanlayer(static_cast<skywalking::v3::SpanLayer>(span.layer));
    s->set_componentid(span.component_id);
    s->set_iserror(span.is_error);
    for (const auto& [key, value] : span.tags) {
      auto* t = s->add_tags();
      t->set_key(key);
      t->set_value(value);
    }
    for (const model::SpanLog& log : span.logs) {
      auto* l = s->add_logs();
      l->set_time(log.time_ms);
      for (const auto& [key, value] : log.data) {
        auto* d = l->add_data();
        d->set_key(key);
        d->set_value(value);
      }
    }
    s->set_skipanalysis(span.skip_analysis);
  }
}

}  // namespace stackhouse::wire
