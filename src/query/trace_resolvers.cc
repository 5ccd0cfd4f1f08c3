// The trace view booster-ui opens from a sampled request: queryBasicTraces by trace id and
// queryTrace with the events Rover attached to the spans (schema/trace.graphqls; addendum
// §3.3-3.4).
#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "query/components.h"
#include "query/query_service.h"
#include "query/resolver_util.h"
#include "query/trace_view.h"

namespace stackhouse::query {
namespace {

using Context = graphql::ResolverContext;

// The most segments one trace answer reads, and the most attached events.
constexpr size_t kMaxTraceSegments = 10000;
constexpr size_t kMaxTraceEvents = 10000;

const graphql::Value* Member(const graphql::Value& object, absl::string_view name) {
  const graphql::Value* v = object.Find(name);
  return v == nullptr || v->is_null() ? nullptr : v;
}

std::string StringMember(const graphql::Value& object, absl::string_view name) {
  const graphql::Value* v = Member(object, name);
  if (v == nullptr) return "";
  return v->kind() == graphql::Value::Kind::kInt ? absl::StrCat(v->int_value()) : v->string_value();
}

Result InstantResult(int64_t seconds, int32_t nanos) {
  return Result::Map({{"seconds", Result::Int(seconds)}, {"nanos", Result::Int(nanos)}});
}

Result EventResult(const model::SpanAttachedEvent& e) {
  std::vector<Result> summary;
  for (const auto& [key, value] : e.summary) {
    summary.push_back(Result::Map({{"key", Result::String(key)}, {"value", Result::Int(value)}}));
  }
  return Result::Map({{"startTime", InstantResult(e.start_seconds, e.start_nanos)},
                      {"event", Result::String(e.event)},
                      {"endTime", InstantResult(e.end_seconds, e.end_nanos)},
                      {"tags", KeyValues(e.tags)},
                      {"summary", Result::List(std::move(summary))}});
}

Result SpanResult(const TraceSpan& s, const storage::StoredSegment& stored) {
  const model::Span& span = *s.span;
  std::vector<Result> refs;
  for (const model::SegmentRef& ref : span.refs) {
    refs.push_back(RefResult(ref));
  }
  std::vector<Result> logs;
  for (const model::SpanLog& log : span.logs) logs.push_back(SpanLogResult(log));
  std::vector<Result> events;
  for (const model::SpanAttachedEvent* e : s.events) events.push_back(EventResult(*e));
  return Result::Map(
      {{"traceId", Result::String(s.segment->trace_id)},
       {"segmentId", Result::String(s.segment->segment_id)},
       {"spanId", Result::Int(span.span_id)},
       {"parentSpanId", Result::Int(span.parent_span_id)},
       {"segmentSpanId", Result::String(s.segment_span_id)},
       {"segmentParentSpanId", Result::String(s.segment_parent_span_id)},
       {"refs", Result::List(std::move(refs))},
       {"serviceCode", Result::String(NameOfServiceId(stored.summary.service_id))},
       {"serviceInstanceName", Result::String(NameOfChildId(stored.summary.instance_id))},
       {"startTime", Result::Int(span.start_time_ms)},
       {"endTime", Result::Int(span.end_time_ms)},
       {"endpointName", Result::String(span.operation_name)},
       {"type", Result::String(model::SpanTypeName(span.type))},
       {"peer", Result::String(span.peer)},
       {"component", Result::String(ComponentName(span.component_id))},
       {"isError", Result::Bool(span.is_error)},
       {"layer", Result::String(model::SpanLayerName(span.layer))},
       {"tags", KeyValues(span.tags)},
       {"logs", Result::List(std::move(logs))},
       {"isRoot", Result::Bool(s.root)},
       {"attachedEvents", Result::List(std::move(events))}});
}

absl::StatusOr<Result> BasicTraces(const QueryDeps& deps, const graphql::Value& condition) {
  const std::string trace_id = condition.is_null() ? "" : StringMember(condition, "traceId");
  if (trace_id.empty()) {
    if (condition.is_null() || Member(condition, "queryDuration") == nullptr) {
      return absl::InvalidArgumentError(
          "The condition must contains either queryDuration or traceId.");
    }
    // Stackhouse keeps segments for profiling; it is no trace search.
    return Result::Map({{"traces", Result::List({})}, {"debuggingTrace", Result::Null()}});
  }
  SH_ASSIGN_OR_RETURN(auto segments, deps.segments->ListByTrace(trace_id, kMaxTraceSegments));
  const std::string state = StringMember(condition, "traceState");
  const std::string service = StringMember(condition, "serviceId");
  const std::string instance = StringMember(condition, "serviceInstanceId");
  const std::string endpoint = StringMember(condition, "endpointId");
  const graphql::Value* min = Member(condition, "minTraceDuration");
  const graphql::Value* max = Member(condition, "maxTraceDuration");
  std::vector<const model::SegmentSummary*> kept;
  for (const storage::StoredSegment& s : segments) {
    const model::SegmentSummary& summary = s.summary;
    if (state == "ERROR" && !summary.is_error) continue;
    if (state == "SUCCESS" && summary.is_error) continue;
    if (!service.empty() && summary.service_id != service) continue;
    if (!instance.empty() && summary.instance_id != instance) continue;
    if (!endpoint.empty() && summary.endpoint_id != endpoint) continue;
    if (min != nullptr && summary.latency_ms < min->int_value()) continue;
    if (max != nullptr && summary.latency_ms > max->int_value()) continue;
    kept.push_back(&summary);
  }
  const bool by_duration = StringMember(condition, "queryOrder") == "BY_DURATION";
  std::sort(kept.begin(), kept.end(), [by_duration](const auto* a, const auto* b) {
    if (by_duration && a->latency_ms != b->latency_ms) return a->latency_ms > b->latency_ms;
    if (a->start_time_ms != b->start_time_ms) return a->start_time_ms > b->start_time_ms;
    return a->segment_id < b->segment_id;
  });
  int64_t page = 1;
  int64_t size = 0;
  if (const graphql::Value* paging = Member(condition, "paging")) {
    if (const graphql::Value* v = Member(*paging, "pageNum")) page = v->int_value();
    if (const graphql::Value* v = Member(*paging, "pageSize")) size = v->int_value();
  }
  std::vector<Result> traces;
  // (page - 1) * size cannot overflow once page - 1 is at most kept.size() / size.
  if (page >= 1 && size > 0 && page - 1 <= static_cast<int64_t>(kept.size()) / size) {
    const size_t from = static_cast<size_t>((page - 1) * size);
    for (size_t i = from; i < kept.size() && i < from + static_cast<size_t>(size); ++i) {
      const model::SegmentSummary& s = *kept[i];
      traces.push_back(Result::Map(
          {{"segmentId", Result::String(s.segment_id)},
           {"endpointNames", StringList(s.endpoint_name.empty() ? std::vector<std::string>{}
                                                                : std::vector{s.endpoint_name})},
           {"duration", Result::Int(s.latency_ms)},
           {"start", Result::String(absl::StrCat(s.start_time_ms))},
           {"isError", Result::Bool(s.is_error)},
           {"traceIds", StringList({s.trace_id})}}));
    }
  }
  return Result::Map(
      {{"traces", Result::List(std::move(traces))}, {"debuggingTrace", Result::Null()}});
}

absl::StatusOr<Result> TraceResult(const QueryDeps& deps, const std::string& trace_id) {
  std::vector<storage::StoredSegment> segments;
  std::vector<model::SpanAttachedEvent> events;
  if (!trace_id.empty()) {
    SH_ASSIGN_OR_RETURN(segments, deps.segments->ListByTrace(trace_id, kMaxTraceSegments));
    if (deps.span_events != nullptr && !segments.empty()) {
      SH_ASSIGN_OR_RETURN(events, deps.span_events->ListByTrace(trace_id, kMaxTraceEvents));
    }
  }
  std::sort(segments.begin(), segments.end(), [](const auto& a, const auto& b) {
    return std::tie(a.summary.start_time_ms, a.summary.segment_id) <
           std::tie(b.summary.start_time_ms, b.summary.segment_id);
  });
  std::vector<model::Segment> plain;
  plain.reserve(segments.size());
  for (const storage::StoredSegment& s : segments) plain.push_back(s.segment);
  std::vector<Result> spans;
  for (const TraceSpan& s : BuildTraceView(plain, events)) {
    const size_t index = static_cast<size_t>(s.segment - plain.data());
    spans.push_back(SpanResult(s, segments[index]));
  }
  return Result::Map(
      {{"spans", Result::List(std::move(spans))}, {"debuggingTrace", Result::Null()}});
}

}  // namespace

void BindTraceResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder) {
  builder->BindResolver("Query.queryBasicTraces",
                        [deps](const Context& c) -> absl::StatusOr<Result> {
                          return BasicTraces(deps, c.args().Get("condition"));
                        });
  builder->BindResolver("Query.queryTrace", [deps](const Context& c) -> absl::StatusOr<Result> {
    return TraceResult(deps, StringArg(c, "traceId"));
  });
}

}  // namespace stackhouse::query
