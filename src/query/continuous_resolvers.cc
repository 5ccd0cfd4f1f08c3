// Continuous-profiling policies and what they watched (graphql-protocol.md §2.7, §6).
#include "common/status_macros.h"
#include "model/continuous.h"
#include "query/query_service.h"
#include "query/resolver_util.h"

namespace stackhouse::query {
namespace {

using Context = graphql::ResolverContext;

// The request's targets as given (the schema has checked the enums and non-null fields).
std::vector<model::ContinuousTarget> TargetsFromValue(const graphql::Value& request) {
  std::vector<model::ContinuousTarget> targets;
  const graphql::Value* list = request.Find("targets");
  if (list == nullptr || list->kind() != graphql::Value::Kind::kList) return targets;
  for (const graphql::Value& t : list->list()) {
    model::ContinuousTarget& target = targets.emplace_back();
    if (const auto* v = t.Find("targetType")) {
      target.type = model::ParseEbpfTargetType(v->string_value()).value_or(target.type);
    }
    const graphql::Value* items = t.Find("checkItems");
    if (items == nullptr || items->kind() != graphql::Value::Kind::kList) continue;
    for (const graphql::Value& i : items->list()) {
      model::ContinuousCheckItem& item = target.items.emplace_back();
      if (const auto* v = i.Find("type")) {
        item.type = model::ParseContinuousMonitorType(v->string_value()).value_or(item.type);
      }
      if (const auto* v = i.Find("threshold")) item.threshold = v->string_value();
      if (const auto* v = i.Find("period")) item.period = v->int_value();
      if (const auto* v = i.Find("count")) item.count = v->int_value();
      if (const auto* v = i.Find("uriList"); v != nullptr && !v->is_null()) {
        item.uri_list = StringsFromValue(*v);
      }
      if (const auto* v = i.Find("uriRegex"); v != nullptr && !v->is_null()) {
        item.uri_regex = v->string_value();
      }
    }
  }
  return targets;
}

Result OptionalTime(const std::optional<int64_t>& ms) {
  return ms ? Result::Int(*ms) : Result::Null();
}

Result ItemResult(const model::ContinuousCheckItem& item) {
  return Result::Map(
      {{"type", Result::String(model::ContinuousMonitorTypeName(item.type))},
       {"threshold", Result::String(item.threshold)},
       {"period", Result::Int(item.period)},
       {"count", Result::Int(item.count)},
       {"uriList", item.uri_list ? StringList(*item.uri_list) : Result::Null()},
       {"uriRegex", item.uri_regex ? Result::String(*item.uri_regex) : Result::Null()}});
}

}  // namespace

void BindContinuousResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder) {
  service::ContinuousService* continuous = deps.continuous;
  builder->BindResolver(
      "Mutation.setContinuousProfilingPolicy",
      [continuous](const Context& c) -> absl::StatusOr<Result> {
        const graphql::Value& request = c.args().Get("request");
        std::string service_id;
        if (const auto* v = request.Find("serviceId")) {
          service_id = v->kind() == graphql::Value::Kind::kInt ? absl::StrCat(v->int_value())
                                                               : v->string_value();
        }
        SH_ASSIGN_OR_RETURN(std::optional<std::string> refused,
                            continuous->SetPolicy(service_id, TargetsFromValue(request)));
        return Result::Map({{"status", Result::Bool(!refused)},
                            {"errorReason", refused ? Result::String(*refused) : Result::Null()}});
      });
  builder->BindResolver("Query.queryContinuousProfilingServiceTargets",
                        [continuous](const Context& c) -> absl::StatusOr<Result> {
                          std::vector<Result> out;
                          for (const service::ContinuousTargetSummary& s :
                               continuous->ServiceTargets(StringArg(c, "serviceId"))) {
                            std::vector<Result> items;
                            for (const model::ContinuousCheckItem& item : s.target.items) {
                              items.push_back(ItemResult(item));
                            }
                            out.push_back(Result::Map(
                                {{"type", Result::String(model::EbpfTargetTypeName(s.target.type))},
                                 {"checkItems", Result::List(std::move(items))},
                                 {"triggeredCount", Result::Int(s.triggered_count)},
                                 {"lastTriggerTimestamp", OptionalTime(s.last_trigger_ms)}}));
                          }
                          return Result::List(std::move(out));
                        });
  builder->BindResolver(
      "Query.queryContinuousProfilingMonitoringInstances",
      [continuous](const Context& c) -> absl::StatusOr<Result> {
        auto target = model::ParseEbpfTargetType(StringArg(c, "target"));
        if (!target) return absl::InvalidArgumentError("unknown continuous profiling target");
        SH_ASSIGN_OR_RETURN(auto instances,
                            continuous->MonitoringInstances(StringArg(c, "serviceId"), *target));
        std::vector<Result> out;
        for (const service::MonitoredInstance& m : instances) {
          std::vector<Result> processes;
          for (const service::MonitoredProcess& p : m.processes) {
            processes.push_back(Result::Map(
                {{"id", Result::String(p.process.id)},
                 {"name", Result::String(p.process.name)},
                 {"detectType", Result::String(model::DetectTypeName(p.process.detect_type))},
                 {"labels", StringList(p.process.labels)},
                 {"triggeredCount", Result::Int(p.triggered_count)},
                 {"lastTriggerTimestamp", OptionalTime(p.last_trigger_ms)}}));
          }
          out.push_back(Result::Map(
              {{"id", Result::String(m.instance.id)},
               {"name", Result::String(m.instance.name)},
               {"attributes", KeyValues(Attributes(m.instance.properties), "name", "value")},
               {"triggeredCount", Result::Int(m.triggered_count)},
               {"lastTriggerTimestamp", OptionalTime(m.last_trigger_ms)},
               {"processes", Result::List(std::move(processes))}}));
        }
        return Result::List(std::move(out));
      });
}

}  // namespace stackhouse::query
