#pragma once

// Records the storage tests write: the same helpers for the conformance suite and the tests of
// one backend.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/entities.h"
#include "model/ids.h"
#include "model/profile.h"
#include "model/trace.h"

namespace stackhouse::testing {

inline constexpr int64_t kStart = 1700000000000;

inline model::ServiceInstance Instance(const std::string& service, const std::string& name,
                                       const std::string& layer, model::KeyValueList properties) {
  model::ServiceInstance instance;
  instance.service_id = model::ServiceId(service);
  instance.id = model::InstanceId(instance.service_id, name);
  instance.name = name;
  instance.layer = layer;
  instance.properties = std::move(properties);
  return instance;
}

inline model::ThreadSnapshot Dump(const std::string& task, const std::string& segment, int sequence,
                                  int64_t time, std::vector<std::string> frames) {
  model::ThreadSnapshot s;
  s.task_id = task;
  s.segment_id = segment;
  s.sequence = sequence;
  s.dump_time_ms = time;
  s.frames = std::move(frames);
  return s;
}

// A segment of service "svc", instance "inst" with one span: an erroneous database exit span
// at kStart, 50 ms, with a tag, a log and a cross-thread reference.
inline model::Segment MakeSegment(const std::string& id, const std::string& trace) {
  model::Segment segment;
  segment.segment_id = id;
  segment.trace_id = trace;
  segment.service = "svc";
  segment.service_instance = "inst";
  model::Span span;
  span.span_id = 0;
  span.parent_span_id = -1;
  span.start_time_ms = kStart;
  span.end_time_ms = kStart + 50;
  span.operation_name = "GET:/a";
  span.peer = "db:5432";
  span.type = model::SpanType::kExit;
  span.layer = model::SpanLayer::kDatabase;
  span.component_id = 22;
  span.is_error = true;
  span.skip_analysis = true;
  span.tags = {{"db.type", "sql"}};
  span.logs = {{kStart + 1, {{"event", "error"}}}};
  span.refs = {{model::RefType::kCrossThread, trace, "parent", 3, "ps", "pi", "/p", "addr"}};
  segment.spans.push_back(span);
  return segment;
}

// What the receivers derive from MakeSegment's segment when `instance` reports it.
inline model::SegmentSummary Summary(const model::Segment& segment, const std::string& instance) {
  model::SegmentSummary s;
  s.segment_id = segment.segment_id;
  s.trace_id = segment.trace_id;
  s.service_id = model::ServiceId("svc");
  s.instance_id = instance;
  s.endpoint_id = model::EndpointId(s.service_id, "GET:/a");
  s.endpoint_name = "GET:/a";
  s.start_time_ms = kStart;
  s.latency_ms = 50;
  s.is_error = true;
  return s;
}

}  // namespace stackhouse::testing
