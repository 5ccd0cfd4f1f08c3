// The process topology of network profiling (graphql-protocol.md §7, addendum §5.2) from the
// metric store's relation rows.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/status_macros.h"
#include "model/ids.h"
#include "query/components.h"
#include "query/duration.h"
#include "query/query_service.h"
#include "query/resolver_util.h"

namespace stackhouse::query {
namespace {

using Context = graphql::ResolverContext;

struct CallBuilder {
  std::string source, target, id;
  std::vector<std::string> detect_points, source_components, target_components;
};

void AddOnce(std::vector<std::string>* list, const std::string& value) {
  if (std::find(list->begin(), list->end(), value) == list->end()) list->push_back(value);
}

absl::StatusOr<Result> ProcessTopology(const QueryDeps& deps, const std::string& instance_id,
                                       const graphql::Value& duration) {
  SH_ASSIGN_OR_RETURN(TimeRange range, ParseDuration(duration));
  Result empty = Result::Map({{"nodes", Result::List({})},
                              {"calls", Result::List({})},
                              {"debuggingTrace", Result::Null()}});
  if (deps.metric_store == nullptr || range.end_ms <= range.start_ms) return empty;
  // The minutes the duration covers, whatever its step (addendum §5.2 [REC]).
  SH_ASSIGN_OR_RETURN(auto rows,
                      deps.metric_store->ReadRelations(instance_id, MinuteFloor(range.start_ms),
                                                       MinuteFloor(range.end_ms - 1)));
  if (rows.empty()) return empty;
  // Client-side rows create calls first, then server-side rows complete them (OAP's order).
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.server_side < b.server_side; });
  std::vector<CallBuilder> calls;
  absl::flat_hash_map<std::string, size_t> call_of;
  std::vector<std::string> process_ids;
  absl::flat_hash_set<std::string> seen_process;
  for (const auto& row : rows) {
    const std::string id = model::ProcessRelationId(row.client_process_id, row.server_process_id);
    auto [it, inserted] = call_of.try_emplace(id, calls.size());
    if (inserted) {
      calls.push_back({row.client_process_id, row.server_process_id, id, {}, {}, {}});
      for (const std::string* p : {&row.client_process_id, &row.server_process_id}) {
        if (seen_process.insert(*p).second) process_ids.push_back(*p);
      }
    }
    CallBuilder& call = calls[it->second];
    const std::string component = ComponentName(row.component_id);
    if (!row.server_side) {
      // A client-side call takes the component of its first row only (OAP).
      if (call.source_components.empty()) call.source_components.push_back(component);
      AddOnce(&call.detect_points, "CLIENT");
    } else {
      AddOnce(&call.detect_points, "SERVER");
      AddOnce(&call.target_components, component);
    }
  }
  // Nodes: the processes that can be loaded; a call whose end has no node is left out, since
  // booster-ui dereferences both ends (addendum §5.2 [REC]).
  std::vector<Result> nodes;
  absl::flat_hash_set<std::string> has_node;
  for (const std::string& id : process_ids) {
    auto p = deps.ebpf == nullptr ? std::nullopt : deps.ebpf->GetProcess(id);
    if (!p) continue;
    has_node.insert(id);
    nodes.push_back(
        Result::Map({{"id", Result::String(p->id)},
                     {"serviceId", Result::String(p->service_id)},
                     {"serviceName", Result::String(p->service_name)},
                     {"serviceInstanceId", Result::String(p->instance_id)},
                     {"serviceInstanceName", Result::String(p->instance_name)},
                     {"name", Result::String(p->name)},
                     {"isReal", Result::Bool(p->detect_type != model::DetectType::kVirtual)}}));
  }
  std::vector<Result> call_results;
  for (const CallBuilder& call : calls) {
    if (!has_node.contains(call.source) || !has_node.contains(call.target)) continue;
    call_results.push_back(Result::Map({{"source", Result::String(call.source)},
                                        {"sourceComponents", StringList(call.source_components)},
                                        {"target", Result::String(call.target)},
                                        {"targetComponents", StringList(call.target_components)},
                                        {"id", Result::String(call.id)},
                                        {"detectPoints", StringList(call.detect_points)}}));
  }
  return Result::Map({{"nodes", Result::List(std::move(nodes))},
                      {"calls", Result::List(std::move(call_results))},
                      {"debuggingTrace", Result::Null()}});
}

}  // namespace

void BindTopologyResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder) {
  builder->BindResolver(
      "Query.getProcessTopology", [deps](const Context& c) -> absl::StatusOr<Result> {
        return ProcessTopology(deps, StringArg(c, "serviceInstanceId"), c.args().Get("duration"));
      });
  builder->BindResolver(
      "Query.getProcessTopologyByName", [deps](const Context& c) -> absl::StatusOr<Result> {
        const graphql::Value& instance = c.args().Get("instance");
        const graphql::Value* service = instance.Find("serviceName");
        const graphql::Value* name = instance.Find("instanceName");
        if (service == nullptr || name == nullptr) {
          return absl::InvalidArgumentError("instance needs serviceName and instanceName");
        }
        const std::string instance_id =
            model::InstanceId(model::ServiceId(service->string_value()), name->string_value());
        return ProcessTopology(deps, instance_id, c.args().Get("duration"));
      });
}

}  // namespace stackhouse::query
