#pragma once

#include <string>
#include <vector>

#include "model/span_event.h"
#include "model/trace.h"

namespace stackhouse::query {

// One span of queryTrace's answer, pointing into the segments and events it was built from.
struct TraceSpan {
  const model::Segment* segment = nullptr;
  const model::Span* span = nullptr;
  std::string segment_span_id;         // segmentId + "S" + spanId
  std::string segment_parent_span_id;  // the parent's segmentSpanId, "" when it has none
  bool root = false;                   // its parent is not in the trace
  std::vector<const model::SpanAttachedEvent*> events;  // by start time
};

// The spans of a trace as queryTrace lists them (OAP's TraceQueryService): every span of
// `segments`, roots first, each followed by its descendants depth first (a span's parent is
// the span before it in its segment, or, for a segment's first span, the one its last
// reference names); spans whose parent is not in the trace count as roots. Each span gets the
// SkyWalking events of `events` attached to it (addendum §3.4): an event names its span by
// segment id and decimal span id; a request arriving at (or a response leaving) an exit span
// goes to the entry span that span called, when the trace has it. Events that name no span of
// the trace, or a Zipkin span, are left out. Pure; the result points into the arguments.
std::vector<TraceSpan> BuildTraceView(const std::vector<model::Segment>& segments,
                                      const std::vector<model::SpanAttachedEvent>& events);

}  // namespace stackhouse::query
