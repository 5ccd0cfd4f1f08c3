#pragma once

// Records the storage tests write: the same helpers for the conformance suite and the tests of
// one backend.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "metrics/meter_analyzer.h"
#include "model/entities.h"
#include "model/ids.h"
#include "model/profile.h"
#include "model/trace.h"
#include "storage/metric_store.h"

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

// An update adding `sum` to the row of `metric` for `entity` and `label` in the minute
// `minute_ms` (for a kAvg metric: one value of `sum`).
inline metrics::MetricUpdate MetricSum(const char* metric, int64_t minute_ms, int64_t sum,
                                       const char* entity = "c-s", const char* label = "") {
  metrics::MetricUpdate u;
  u.metric = metrics::FindMetric(metric);
  u.entity_id = entity;
  u.label_value = label;
  u.minute_ms = minute_ms;
  u.delta.sum = sum;
  u.delta.count = u.metric->function == metrics::MetricFunction::kAvg ? 1 : 0;
  return u;
}

// The rows of `metric` for `entity` in the buckets `starts` of `step`, as `store` reads them
// (none, and a test failure, on an error).
inline std::vector<metrics::LabeledRows> ReadMetricRows(storage::MetricStore& store,
                                                        const char* metric, metrics::Step step,
                                                        std::vector<int64_t> starts,
                                                        const char* entity = "c-s") {
  metrics::TimeBuckets buckets{step, std::move(starts)};
  auto rows = store.ReadRows(*metrics::FindMetric(metric), entity, buckets);
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() ? *rows : std::vector<metrics::LabeledRows>{};
}

}  // namespace stackhouse::testing
