// Trace profiling queries and mutation (graphql-protocol.md §2.5, §4).
#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/status_macros.h"
#include "model/ids.h"
#include "query/components.h"
#include "query/profile_analysis.h"
#include "query/query_service.h"
#include "query/resolver_util.h"

namespace stackhouse::query {
namespace {

using Context = graphql::ResolverContext;

Result LogResult(const model::ProfileTaskLog& log) {
  return Result::Map(
      {{"id", Result::String(log.id)},
       {"instanceId", Result::String(log.instance_id)},
       {"instanceName", Result::String(NameOfChildId(log.instance_id))},
       {"operationType", Result::String(model::ProfileTaskOperationName(log.operation))},
       {"operationTime", Result::Int(log.operation_time_ms)}});
}

absl::StatusOr<Result> LogsResult(service::ProfileTaskService* tasks, const std::string& task_id) {
  SH_ASSIGN_OR_RETURN(auto logs, tasks->ListLogs(task_id));
  std::vector<Result> items;
  items.reserve(logs.size());
  for (const model::ProfileTaskLog& log : logs) items.push_back(LogResult(log));
  return Result::List(std::move(items));
}

// A segment's entry in the merge of §4.4 step C.
struct TraceEntry {
  std::string trace_id;
  std::string instance_id;
  std::string endpoint_name;
  int32_t duration = 0;
  int64_t start = 0;
  bool profiled = false;  // the group holds a profiled segment (§4.4 C.2-C.3)
  std::vector<const model::Span*> spans;
  std::vector<const model::Segment*> span_segments;  // parallel to `spans`
};

Result SpanResult(const model::Span& span, const model::Segment& segment, bool profiled) {
  std::vector<Result> refs;
  for (const model::SegmentRef& ref : span.refs) {
    if (ref.type == model::RefType::kCrossProcess) continue;  // step C.4
    refs.push_back(RefResult(ref));
  }
  std::vector<Result> logs;
  for (const model::SpanLog& log : span.logs) logs.push_back(SpanLogResult(log));
  return Result::Map({{"spanId", Result::Int(span.span_id)},
                      {"parentSpanId", Result::Int(span.parent_span_id)},
                      {"segmentId", Result::String(segment.segment_id)},
                      {"refs", Result::List(std::move(refs))},
                      {"serviceCode", Result::String(segment.service)},
                      {"serviceInstanceName", Result::String(segment.service_instance)},
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
                      {"profiled", Result::Bool(profiled)}});
}

// getProfileTaskSegments: the profiled segments of a task with the other segments of their
// trace in the same instance, cross-thread children merged into their parents (§4.4).
absl::StatusOr<Result> TaskSegments(const QueryDeps& deps, const std::string& task_id) {
  if (!deps.profile_tasks->GetTask(task_id)) return Result::List({});
  SH_ASSIGN_OR_RETURN(auto profiled_ids, deps.snapshots->ListProfiledSegments(task_id));
  absl::flat_hash_set<std::string> profiled(profiled_ids.begin(), profiled_ids.end());
  // (trace, instance) pairs of the profiled segments, in first-seen order.
  std::vector<std::pair<std::string, std::string>> groups;
  for (const std::string& id : profiled_ids) {
    SH_ASSIGN_OR_RETURN(auto stored, deps.segments->GetSegment(id));
    if (!stored) continue;  // its segment has not arrived (yet)
    std::pair<std::string, std::string> key(stored->summary.trace_id, stored->summary.instance_id);
    if (std::find(groups.begin(), groups.end(), key) == groups.end()) groups.push_back(key);
  }

  // Keeps the segments alive while the result is built; a deque, because entries point into
  // segments of earlier groups while later groups are appended.
  std::deque<storage::StoredSegment> storage;
  std::vector<std::shared_ptr<TraceEntry>> results;
  for (const auto& [trace_id, instance_id] : groups) {
    SH_ASSIGN_OR_RETURN(auto segments,
                        deps.segments->ListByTraceAndInstance(trace_id, instance_id));
    std::sort(segments.begin(), segments.end(),
              [](const storage::StoredSegment& a, const storage::StoredSegment& b) {
                return a.summary.start_time_ms < b.summary.start_time_ms;
              });
    size_t first = storage.size();
    for (auto& s : segments) storage.push_back(std::move(s));

    // Step C.1: one entry per segment with spans.
    std::vector<std::string> keys;
    absl::flat_hash_map<std::string, std::shared_ptr<TraceEntry>> entries;
    for (size_t i = first; i < storage.size(); ++i) {
      const storage::StoredSegment& s = storage[i];
      if (s.segment.spans.empty()) continue;
      auto entry = std::make_shared<TraceEntry>();
      entry->trace_id = s.summary.trace_id;
      entry->instance_id = s.summary.instance_id;
      entry->endpoint_name = s.summary.endpoint_name;
      entry->duration = s.summary.latency_ms;
      entry->start = s.summary.start_time_ms;
      entry->profiled = profiled.contains(s.summary.segment_id);
      for (const model::Span& span : s.segment.spans) {
        entry->spans.push_back(&span);
        entry->span_segments.push_back(&s.segment);
      }
      keys.push_back(s.summary.segment_id);
      entries[s.summary.segment_id] = std::move(entry);
    }
    // Step C.2: merge cross-thread children into their parents.
    absl::flat_hash_set<const model::Span*> merged;
    std::vector<std::shared_ptr<TraceEntry>> group_results;
    for (const std::string& key : keys) {
      std::shared_ptr<TraceEntry> entry = entries[key];
      bool added = false;
      for (const model::Span* span : entry->spans) {
        if (merged.contains(span) || span->refs.empty()) continue;
        const model::SegmentRef& ref = span->refs[0];
        if (ref.type == model::RefType::kCrossProcess) {
          group_results.push_back(entry);
          added = true;
          break;
        }
        auto parent = entries.find(ref.parent_segment_id);
        if (parent != entries.end() && parent->second != entry) {
          std::shared_ptr<TraceEntry> target = parent->second;
          merged.insert(entry->spans.begin(), entry->spans.end());
          target->spans.insert(target->spans.end(), entry->spans.begin(), entry->spans.end());
          target->span_segments.insert(target->span_segments.end(), entry->span_segments.begin(),
                                       entry->span_segments.end());
          target->profiled = target->profiled || entry->profiled;
          entries[key] = target;
          added = true;
          break;
        }
      }
      if (!added) group_results.push_back(entries[key]);
    }
    // Step C.3: keep the groups that contain a profiled segment (each object once).
    for (auto& entry : group_results) {
      if (entry->profiled && std::find(results.begin(), results.end(), entry) == results.end()) {
        results.push_back(entry);
      }
    }
  }
  std::stable_sort(results.begin(), results.end(),
                   [](const std::shared_ptr<TraceEntry>& a, const std::shared_ptr<TraceEntry>& b) {
                     if (a->start != b->start) return a->start > b->start;
                     return a->trace_id < b->trace_id;
                   });
  std::vector<Result> items;
  for (const auto& entry : results) {
    std::vector<Result> spans;
    for (size_t i = 0; i < entry->spans.size(); ++i) {
      // A span is profiled when its own segment is (§4.4 C.1), whatever its group.
      const model::Segment& segment = *entry->span_segments[i];
      spans.push_back(SpanResult(*entry->spans[i], segment, profiled.contains(segment.segment_id)));
    }
    items.push_back(
        Result::Map({{"traceId", Result::String(entry->trace_id)},
                     {"instanceId", Result::String(entry->instance_id)},
                     {"instanceName", Result::String(NameOfChildId(entry->instance_id))},
                     {"endpointNames", StringList({entry->endpoint_name})},
                     {"duration", Result::Int(entry->duration)},
                     {"start", Result::String(absl::StrCat(entry->start))},
                     {"spans", Result::List(std::move(spans))}}));
  }
  return Result::List(std::move(items));
}

}  // namespace

void BindProfileResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder) {
  service::ProfileTaskService* tasks = deps.profile_tasks;
  BindProfileElementGetters(builder);

  builder->BindResolver(
      "Mutation.createProfileTask", [tasks](const Context& c) -> absl::StatusOr<Result> {
        const graphql::Value& request = c.args().Get("creationRequest");
        if (request.is_null()) return absl::InvalidArgumentError("creationRequest is required");
        service::ProfileTaskRequest r;
        if (const graphql::Value* id = request.Find("serviceId"); id != nullptr && !id->is_null()) {
          r.service_id = id->kind() == graphql::Value::Kind::kInt ? absl::StrCat(id->int_value())
                                                                  : id->string_value();
        }
        auto int_field = [&](const char* name) -> int64_t {
          const graphql::Value* v = request.Find(name);
          return v != nullptr ? v->int_value() : 0;
        };
        if (const graphql::Value* e = request.Find("endpointName"))
          r.endpoint_name = e->string_value();
        if (const graphql::Value* s = request.Find("startTime"); s != nullptr && !s->is_null()) {
          r.start_time_ms = s->int_value();
        }
        r.duration_minutes = static_cast<int32_t>(int_field("duration"));
        r.min_duration_threshold_ms = static_cast<int32_t>(int_field("minDurationThreshold"));
        r.dump_period_ms = static_cast<int32_t>(int_field("dumpPeriod"));
        r.max_sampling_count = static_cast<int32_t>(int_field("maxSamplingCount"));
        SH_ASSIGN_OR_RETURN(auto created, tasks->CreateTask(r));
        return Result::Map(
            {{"errorReason",
              created.error_reason ? Result::String(*created.error_reason) : Result::Null()},
             {"id", created.id ? Result::String(*created.id) : Result::Null()}});
      });

  builder->BindResolver(
      "Query.getProfileTaskList", [tasks](const Context& c) -> absl::StatusOr<Result> {
        std::vector<Result> items;
        for (const model::ProfileTask& task :
             tasks->ListTasks(StringArg(c, "serviceId"), StringArg(c, "endpointName"))) {
          SH_ASSIGN_OR_RETURN(Result logs, LogsResult(tasks, task.id));
          items.push_back(
              Result::Map({{"id", Result::String(task.id)},
                           {"serviceId", Result::String(task.service_id)},
                           {"serviceName", Result::String(NameOfServiceId(task.service_id))},
                           {"endpointName", Result::String(task.endpoint_name)},
                           {"startTime", Result::Int(task.start_time_ms)},
                           {"duration", Result::Int(task.duration_minutes)},
                           {"minDurationThreshold", Result::Int(task.min_duration_threshold_ms)},
                           {"dumpPeriod", Result::Int(task.dump_period_ms)},
                           {"maxSamplingCount", Result::Int(task.max_sampling_count)},
                           {"logs", std::move(logs)}}));
        }
        return Result::List(std::move(items));
      });

  builder->BindResolver("Query.getProfileTaskLogs",
                        [tasks](const Context& c) -> absl::StatusOr<Result> {
                          if (c.args().Get("taskID").is_null()) return Result::List({});
                          return LogsResult(tasks, StringArg(c, "taskID"));
                        });

  builder->BindResolver("Query.getProfileTaskSegments", [deps](const Context& c) {
    return TaskSegments(deps, StringArg(c, "taskID"));
  });

  builder->BindResolver(
      "Query.getSegmentsProfileAnalyze", [deps](const Context& c) -> absl::StatusOr<Result> {
        return AnalyzeSegmentsResult(*deps.snapshots,
                                     SegmentQueriesFromValue(c.args().Get("queries")),
                                     deps.config->query.max_analyze_snapshots);
      });
}

}  // namespace stackhouse::query
