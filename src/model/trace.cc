#include "model/trace.h"

#include <algorithm>
#include <limits>

#include "common/saturating.h"
#include "model/ids.h"

namespace stackhouse::model {

const char* SpanTypeName(SpanType type) {
  switch (type) {
    case SpanType::kEntry:
      return "Entry";
    case SpanType::kExit:
      return "Exit";
    case SpanType::kLocal:
      return "Local";
  }
  return "Local";
}

const char* SpanLayerName(SpanLayer layer) {
  switch (layer) {
    case SpanLayer::kUnknown:
      return "Unknown";
    case SpanLayer::kDatabase:
      return "Database";
    case SpanLayer::kRpcFramework:
      return "RPCFramework";
    case SpanLayer::kHttp:
      return "Http";
    case SpanLayer::kMq:
      return "MQ";
    case SpanLayer::kCache:
      return "Cache";
    case SpanLayer::kFaas:
      return "FAAS";
  }
  return "Unknown";
}

SegmentSummary Summarize(const Segment& segment, const NameLimits& limits) {
  SegmentSummary summary;
  summary.segment_id = segment.segment_id;
  summary.trace_id = segment.trace_id;
  summary.service_id = ServiceId(TruncateName(segment.service, limits.service));
  summary.instance_id =
      InstanceId(summary.service_id, TruncateName(segment.service_instance, limits.instance));
  const Span* endpoint_span = nullptr;
  int64_t start = std::numeric_limits<int64_t>::max();
  int64_t end = std::numeric_limits<int64_t>::min();
  for (const Span& span : segment.spans) {
    if (span.type == SpanType::kEntry || span.span_id == 0) endpoint_span = &span;
    start = std::min(start, span.start_time_ms);
    end = std::max(end, span.end_time_ms);
    summary.is_error = summary.is_error || span.is_error;
  }
  if (endpoint_span != nullptr) {
    summary.endpoint_name = TruncateName(endpoint_span->operation_name, limits.endpoint);
    summary.endpoint_id = EndpointId(summary.service_id, summary.endpoint_name);
  }
  if (!segment.spans.empty()) {
    summary.start_time_ms = start;
    int64_t latency = SaturatingSub(end, start);
    summary.latency_ms = static_cast<int32_t>(std::clamp<int64_t>(
        latency, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
  }
  return summary;
}

std::vector<std::string> EntryEndpoints(const Segment& segment, const NameLimits& limits) {
  std::vector<std::string> names;
  for (const Span& span : segment.spans) {
    if (span.type != SpanType::kEntry) continue;
    std::string name = TruncateName(span.operation_name, limits.endpoint);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

}  // namespace stackhouse::model
