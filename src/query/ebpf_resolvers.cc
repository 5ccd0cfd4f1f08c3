// eBPF profiling queries and mutations, and the process metadata they use
// (graphql-protocol.md §2.6, §5, §7).
#include <algorithm>

#include "common/status_macros.h"
#include "model/ids.h"
#include "query/duration.h"
#include "query/ebpf_analysis.h"
#include "query/query_service.h"
#include "query/resolver_util.h"

namespace stackhouse::query {
namespace {

using Context = graphql::ResolverContext;

Result ProcessResult(const model::Process& p) {
  return Result::Map({{"id", Result::String(p.id)},
                      {"name", Result::String(p.name)},
                      {"serviceId", Result::String(p.service_id)},
                      {"serviceName", Result::String(p.service_name)},
                      {"instanceId", Result::String(p.instance_id)},
                      {"instanceName", Result::String(p.instance_name)},
                      {"agentId", Result::String(p.agent_id)},
                      {"detectType", Result::String(model::DetectTypeName(p.detect_type))},
                      {"attributes", KeyValues(p.properties, "name", "value")},
                      {"labels", StringList(p.labels)}});
}

std::vector<std::string> StringListArg(const Context& c, absl::string_view name) {
  return StringsFromValue(c.args().Get(name));
}

std::optional<model::EbpfTargetType> TargetType(const std::string& name) {
  if (name == "ON_CPU") return model::EbpfTargetType::kOnCpu;
  if (name == "OFF_CPU") return model::EbpfTargetType::kOffCpu;
  if (name == "NETWORK") return model::EbpfTargetType::kNetwork;
  return std::nullopt;
}

Result CausesResult(const std::vector<model::ContinuousCause>& causes) {
  std::vector<Result> items;
  for (const model::ContinuousCause& cause : causes) {
    Result single = Result::Null();
    Result uri = Result::Null();
    if (cause.uri) {
      uri = Result::Map(
          {{"uriRegex", cause.uri_regex ? Result::String(cause.uri_text) : Result::Null()},
           {"uriPath", cause.uri_regex ? Result::Null() : Result::String(cause.uri_text)},
           {"threshold", Result::Int(cause.threshold)},
           {"current", Result::Int(cause.current)}});
    } else {
      single = Result::Map(
          {{"threshold", Result::Int(cause.threshold)}, {"current", Result::Int(cause.current)}});
    }
    items.push_back(
        Result::Map({{"type", Result::String(model::ContinuousMonitorTypeName(cause.type))},
                     {"singleValue", std::move(single)},
                     {"uri", std::move(uri)},
                     {"message", Result::String(cause.message)}}));
  }
  return Result::List(std::move(items));
}

Result TaskResult(const model::EbpfTask& t) {
  bool has_instance = !t.instance_id.empty();
  const model::ContinuousTrigger* trigger = t.continuous ? &*t.continuous : nullptr;
  return Result::Map(
      {{"taskId", Result::String(t.logical_id)},
       {"serviceId", Result::String(t.service_id)},
       {"serviceName", Result::String(NameOfServiceId(t.service_id))},
       {"serviceInstanceId", has_instance ? Result::String(t.instance_id) : Result::Null()},
       {"serviceInstanceName",
        has_instance ? Result::String(NameOfChildId(t.instance_id)) : Result::Null()},
       {"processLabels", StringList(t.process_labels)},
       {"processId", trigger ? Result::String(trigger->process_id) : Result::Null()},
       {"processName", trigger ? Result::String(trigger->process_name) : Result::Null()},
       {"taskStartTime", Result::Int(t.start_time_ms)},
       {"triggerType", Result::String(model::EbpfTriggerTypeName(t.trigger_type))},
       {"fixedTriggerDuration", Result::Int(t.fixed_trigger_duration_s)},
       {"continuousProfilingCauses", trigger ? CausesResult(trigger->causes) : Result::Null()},
       {"targetType", Result::String(model::EbpfTargetTypeName(t.target_type))},
       {"createTime", Result::Int(t.create_time_ms)}});
}

Result Refused(const std::string& reason) {
  return Result::Map({{"status", Result::Bool(false)},
                      {"errorReason", Result::String(reason)},
                      {"id", Result::Null()}});
}

// A present, non-null member of an input object.
const graphql::Value* Member(const graphql::Value& object, absl::string_view name) {
  const graphql::Value* v = object.Find(name);
  return v == nullptr || v->is_null() ? nullptr : v;
}

std::optional<int64_t> OptionalInt(const graphql::Value& object, absl::string_view name) {
  const graphql::Value* v = Member(object, name);
  return v ? std::optional<int64_t>(v->int_value()) : std::nullopt;
}

bool BoolMember(const graphql::Value& object, absl::string_view name) {
  const graphql::Value* v = Member(object, name);
  return v != nullptr && v->bool_value();
}

// graphql EBPFProfilingNetworkTaskRequest → the task service's request.
service::EbpfNetworkRequest NetworkRequest(const graphql::Value& r) {
  service::EbpfNetworkRequest request;
  if (const auto* v = Member(r, "instanceId")) request.instance_id = v->string_value();
  if (const auto* samplings = Member(r, "samplings")) {
    for (const graphql::Value& s : samplings->list()) {
      model::NetworkSamplingRule rule;
      if (const auto* v = Member(s, "uriRegex")) rule.uri_regex = v->string_value();
      rule.min_duration_ms = OptionalInt(s, "minDuration");
      rule.when_4xx = BoolMember(s, "when4xx");
      rule.when_5xx = BoolMember(s, "when5xx");
      if (const auto* settings = Member(s, "settings")) {
        model::NetworkCollectSettings& out = rule.settings.emplace();
        out.require_complete_request = BoolMember(*settings, "requireCompleteRequest");
        out.max_request_size = OptionalInt(*settings, "maxRequestSize");
        out.require_complete_response = BoolMember(*settings, "requireCompleteResponse");
        out.max_response_size = OptionalInt(*settings, "maxResponseSize");
      }
      request.samplings.push_back(std::move(rule));
    }
  }
  return request;
}

}  // namespace

void BindEbpfResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder) {
  service::EbpfService* ebpf = deps.ebpf;
  const storage::EbpfStore* store = deps.ebpf_store;
  std::shared_ptr<const profile::EbpfAnalyzer> analyzer = deps.ebpf_analyzer;
  BindEbpfElementGetters(builder);

  builder->BindResolver("Query.listProcesses", [ebpf](const Context& c) -> absl::StatusOr<Result> {
    SH_ASSIGN_OR_RETURN(TimeRange range, ParseDuration(c.args().Get("duration")));
    std::vector<Result> items;
    if (MinuteFloor(range.end_ms) < MinuteFloor(range.start_ms)) return Result::List({});
    for (const model::Process& p : ebpf->ListProcesses("", StringArg(c, "instanceId"))) {
      if (MinuteFloor(p.last_ping_ms) < MinuteFloor(range.start_ms)) continue;
      if (MinuteFloor(p.first_seen_ms) > MinuteFloor(range.end_ms)) continue;
      items.push_back(ProcessResult(p));
    }
    return Result::List(std::move(items));
  });
  builder->BindResolver("Query.getProcess", [ebpf](const Context& c) -> absl::StatusOr<Result> {
    auto p = ebpf->GetProcess(StringArg(c, "processId"));
    return p ? ProcessResult(*p) : Result::Null();
  });
  builder->BindResolver(
      "Query.estimateProcessScale", [ebpf](const Context& c) -> absl::StatusOr<Result> {
        return Result::Int(
            ebpf->EstimateScale(StringArg(c, "serviceId"), StringListArg(c, "labels")));
      });
  builder->BindResolver(
      "Query.queryPrepareCreateEBPFProfilingTaskData",
      [ebpf](const Context& c) -> absl::StatusOr<Result> {
        std::string service_id = StringArg(c, "serviceId");
        if (service_id.empty()) {
          return absl::InvalidArgumentError("please provide the service id");
        }
        bool could = ebpf->EstimateScale(service_id, {}) > 0;
        return Result::Map({{"couldProfiling", Result::Bool(could)},
                            {"processLabels", StringList(could ? ebpf->ServiceLabels(service_id)
                                                               : std::vector<std::string>{})}});
      });
  builder->BindResolver("Mutation.createEBPFProfilingFixedTimeTask",
                        [ebpf](const Context& c) -> absl::StatusOr<Result> {
                          const graphql::Value& r = c.args().Get("request");
                          service::EbpfFixedTimeRequest request;
                          if (const auto* v = r.Find("serviceId"))
                            request.service_id = v->string_value();
                          if (const auto* v = r.Find("processLabels");
                              v != nullptr && v->kind() == graphql::Value::Kind::kList) {
                            for (const auto& l : v->list())
                              request.process_labels.push_back(l.string_value());
                          }
                          if (const auto* v = r.Find("startTime"))
                            request.start_time_ms = v->int_value();
                          if (const auto* v = r.Find("duration"))
                            request.duration_s = v->int_value();
                          if (const auto* v = r.Find("targetType")) {
                            request.target_type = TargetType(v->string_value());
                          }
                          SH_ASSIGN_OR_RETURN(auto created, ebpf->CreateFixedTimeTask(request));
                          if (created.error_reason) return Refused(*created.error_reason);
                          return Result::Map({{"status", Result::Bool(true)},
                                              {"errorReason", Result::Null()},
                                              {"id", Result::String(*created.id)}});
                        });
  builder->BindResolver(
      "Mutation.createEBPFNetworkProfiling", [ebpf](const Context& c) -> absl::StatusOr<Result> {
        SH_ASSIGN_OR_RETURN(auto created,
                            ebpf->CreateNetworkTask(NetworkRequest(c.args().Get("request"))));
        if (created.error_reason) return Refused(*created.error_reason);
        return Result::Map({{"status", Result::Bool(true)},
                            {"errorReason", Result::Null()},
                            {"id", Result::String(*created.id)}});
      });
  builder->BindResolver(
      "Mutation.keepEBPFNetworkProfiling", [ebpf](const Context& c) -> absl::StatusOr<Result> {
        SH_ASSIGN_OR_RETURN(std::optional<std::string> refused,
                            ebpf->KeepNetworkTask(StringArg(c, "taskId")));
        return Result::Map({{"status", Result::Bool(!refused)},
                            {"errorReason", refused ? Result::String(*refused) : Result::Null()}});
      });
  builder->BindResolver(
      "Query.queryEBPFProfilingTasks", [ebpf](const Context& c) -> absl::StatusOr<Result> {
        std::string service_id = StringArg(c, "serviceId");
        std::string instance_id = StringArg(c, "serviceInstanceId");
        if (service_id.empty() && instance_id.empty()) {
          return absl::InvalidArgumentError("please provide the service id or instance id");
        }
        std::vector<model::EbpfTargetType> targets;
        for (const std::string& name : StringListArg(c, "targets")) {
          if (auto t = TargetType(name)) targets.push_back(*t);
        }
        model::EbpfTriggerType trigger = StringArg(c, "triggerType") == "CONTINUOUS_PROFILING"
                                             ? model::EbpfTriggerType::kContinuousProfiling
                                             : model::EbpfTriggerType::kFixedTime;
        std::vector<model::EbpfTask> tasks =
            ebpf->ListTasks(service_id, instance_id, targets, trigger);
        const graphql::Value& duration = c.args().Get("duration");
        std::vector<Result> items;
        std::optional<TimeRange> range;
        if (!duration.is_null()) {
          SH_ASSIGN_OR_RETURN(range, ParseDuration(duration));
        }
        for (const model::EbpfTask& t : tasks) {
          // Stackhouse: `duration` keeps tasks that ran during it (OAP's filter is inverted).
          if (range && (t.start_time_ms >= range->end_ms ||
                        t.start_time_ms + t.fixed_trigger_duration_s * 1000 < range->start_ms)) {
            continue;
          }
          items.push_back(TaskResult(t));
        }
        return Result::List(std::move(items));
      });
  builder->BindResolver(
      "Query.queryEBPFProfilingSchedules",
      [ebpf, store](const Context& c) -> absl::StatusOr<Result> {
        SH_ASSIGN_OR_RETURN(auto schedules, store->ListSchedules(StringArg(c, "taskId")));
        std::sort(schedules.begin(), schedules.end(),
                  [](const model::EbpfSchedule& a, const model::EbpfSchedule& b) {
                    return a.start_time_ms > b.start_time_ms;
                  });
        std::vector<Result> items;
        for (const model::EbpfSchedule& s : schedules) {
          auto process = ebpf->GetProcess(s.process_id);
          if (!process) continue;  // OAP would fail the whole list on `process: null`
          items.push_back(Result::Map({{"scheduleId", Result::String(s.schedule_id)},
                                       {"taskId", Result::String(s.task_id)},
                                       {"process", ProcessResult(*process)},
                                       {"startTime", Result::Int(s.start_time_ms)},
                                       {"endTime", Result::Int(s.end_time_ms)}}));
        }
        return Result::List(std::move(items));
      });
  builder->BindResolver(
      "Query.analysisEBPFProfilingResult", [analyzer](const Context& c) -> absl::StatusOr<Result> {
        bool by_duration = StringArg(c, "aggregateType") == "DURATION";
        return AnalyzeEbpfResult(*analyzer, StringListArg(c, "scheduleIdList"),
                                 EbpfTimeRangesFromValue(c.args().Get("timeRanges")), by_duration);
      });
}

}  // namespace stackhouse::query
