#include "storage/segment_record.h"

#include "stackhouse/records.pb.h"

namespace stackhouse::storage {
namespace {

template <typename Enum>
Enum ClampEnum(int32_t value, Enum max, Enum fallback) {
  return value >= 0 && value <= static_cast<int32_t>(max) ? static_cast<Enum>(value) : fallback;
}

}  // namespace

void SegmentToRecord(const model::Segment& segment, records::SegmentBody* body) {
  body->set_segment_id(segment.segment_id);
  body->set_trace_id(segment.trace_id);
  body->set_service(segment.service);
  body->set_service_instance(segment.service_instance);
  body->set_is_size_limited(segment.is_size_limited);
  body->mutable_spans()->Reserve(static_cast<int>(segment.spans.size()));
  for (const model::Span& span : segment.spans) {
    records::SpanRecord* s = body->add_spans();
    s->set_span_id(span.span_id);
    s->set_parent_span_id(span.parent_span_id);
    s->set_start_time_ms(span.start_time_ms);
    s->set_end_time_ms(span.end_time_ms);
    for (const model::SegmentRef& ref : span.refs) {
      records::SegmentRefRecord* r = s->add_refs();
      r->set_type(static_cast<int32_t>(ref.type));
      r->set_trace_id(ref.trace_id);
      r->set_parent_segment_id(ref.parent_segment_id);
      r->set_parent_span_id(ref.parent_span_id);
      r->set_parent_service(ref.parent_service);
      r->set_parent_instance(ref.parent_instance);
      r->set_parent_endpoint(ref.parent_endpoint);
      r->set_network_address(ref.network_address);
    }
    s->set_operation_name(span.operation_name);
    s->set_peer(span.peer);
    s->set_type(static_cast<int32_t>(span.type));
    s->set_layer(static_cast<int32_t>(span.layer));
    s->set_component_id(span.component_id);
    s->set_is_error(span.is_error);
    for (const auto& [key, value] : span.tags) {
      records::KeyValue* t = s->add_tags();
      t->set_key(key);
      t->set_value(value);
    }
    for (const model::SpanLog& log : span.logs) {
      records::SpanLogRecord* l = s->add_logs();
      l->set_time_ms(log.time_ms);
      for (const auto& [key, value] : log.data) {
        records::KeyValue* d = l->add_data();
        d->set_key(key);
        d->set_value(value);
      }
    }
    s->set_skip_analysis(span.skip_analysis);
  }
}

model::Segment SegmentFromRecord(const records::SegmentBody& body) {
  model::Segment segment;
  segment.segment_id = body.segment_id();
  segment.trace_id = body.trace_id();
  segment.service = body.service();
  segment.service_instance = body.service_instance();
  segment.is_size_limited = body.is_size_limited();
  segment.spans.reserve(static_cast<size_t>(body.spans_size()));
  for (const records::SpanRecord& s : body.spans()) {
    model::Span& span = segment.spans.emplace_back();
    span.span_id = s.span_id();
    span.parent_span_id = s.parent_span_id();
    span.start_time_ms = s.start_time_ms();
    span.end_time_ms = s.end_time_ms();
    span.refs.reserve(static_cast<size_t>(s.refs_size()));
    for (const records::SegmentRefRecord& r : s.refs()) {
      model::SegmentRef& ref = span.refs.emplace_back();
      ref.type = ClampEnum(r.type(), model::RefType::kCrossThread, model::RefType::kCrossProcess);
      ref.trace_id = r.trace_id();
      ref.parent_segment_id = r.parent_segment_id();
      ref.parent_span_id = r.parent_span_id();
      ref.parent_service = r.parent_service();
      ref.parent_instance = r.parent_instance();
      ref.parent_endpoint = r.parent_endpoint();
      ref.network_address = r.network_address();
    }
    span.operation_name = s.operation_name();
    span.peer = s.peer();
    span.type = ClampEnum(s.type(), model::SpanType::kLocal, model::SpanType::kLocal);
    span.layer = ClampEnum(s.layer(), model::SpanLayer::kFaas, model::SpanLayer::kUnknown);
    span.component_id = s.component_id();
    span.is_error = s.is_error();
    span.tags.reserve(static_cast<size_t>(s.tags_size()));
    for (const records::KeyValue& t : s.tags()) span.tags.emplace_back(t.key(), t.value());
    span.logs.reserve(static_cast<size_t>(s.logs_size()));
    for (const records::SpanLogRecord& l : s.logs()) {
      model::SpanLog& log = span.logs.emplace_back();
      log.time_ms = l.time_ms();
      for (const records::KeyValue& d : l.data()) log.data.emplace_back(d.key(), d.value());
    }
    span.skip_analysis = s.skip_analysis();
  }
  return segment;
}

std::string EncodeSegment(const model::Segment& segment) {
  records::SegmentBody body;
  SegmentToRecord(segment, &body);
  return body.SerializeAsString();
}

absl::StatusOr<model::Segment> DecodeSegment(absl::string_view bytes) {
  records::SegmentBody body;
  if (!body.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("cannot decode a stored segment body");
  }
  return SegmentFromRecord(body);
}

}  // namespace stackhouse::storage
