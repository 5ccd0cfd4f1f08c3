// Stackhouse's own fields (schema/stackhouse.graphqls): `stackhouseDiff`, the comparison of two
// profiles of the same kind.
#include <memory>
#include <utility>

#include "analysis/flame_diff.h"
#include "common/status_macros.h"
#include "profile/profile_selection.h"
#include "query/ebpf_analysis.h"
#include "query/profile_analysis.h"
#include "query/query_service.h"
#include "query/resolver_util.h"

namespace stackhouse::query {
namespace {

using Context = graphql::ResolverContext;

// A diff node with its name, as the getters of StackhouseDiffNode read it.
struct DiffNodeView {
  const analysis::DiffNode* node;
  const std::string* name;  // owned by the FlameDiff of the holder
};

struct DiffHolder {
  analysis::FlameDiff diff;
  std::vector<DiffNodeView> nodes;
  std::vector<DiffNodeView> top_gains;
  std::vector<DiffNodeView> top_losses;
};

// A `StackhouseProfileSelection` as a profile::ProfileSelection.
absl::StatusOr<profile::ProfileSelection> SelectionFromValue(const graphql::Value& value) {
  const graphql::Value* trace = value.Find("trace");
  const graphql::Value* ebpf = value.Find("ebpf");
  const bool has_trace = trace != nullptr && !trace->is_null();
  const bool has_ebpf = ebpf != nullptr && !ebpf->is_null();
  if (has_trace == has_ebpf) {
    return absl::InvalidArgumentError("a selection needs exactly one of trace or ebpf");
  }
  if (has_trace) {
    const graphql::Value* queries = trace->Find("queries");
    return profile::TraceSelection{queries != nullptr ? SegmentQueriesFromValue(*queries)
                                                      : std::vector<profile::SegmentQuery>{}};
  }
  profile::EbpfSelection selection;
  if (const graphql::Value* ids = ebpf->Find("scheduleIdList")) {
    selection.schedule_ids = StringsFromValue(*ids);
  }
  if (const graphql::Value* ranges = ebpf->Find("timeRanges")) {
    selection.ranges = EbpfTimeRangesFromValue(*ranges);
  }
  if (const graphql::Value* aggregate = ebpf->Find("aggregateType")) {
    selection.by_duration = aggregate->string_value() == "DURATION";
  }
  return selection;
}

absl::StatusOr<Result> Diff(const profile::ProfileSources& sources, const Context& c) {
  SH_ASSIGN_OR_RETURN(profile::ProfileSelection baseline,
                      SelectionFromValue(c.args().Get("baseline")));
  SH_ASSIGN_OR_RETURN(profile::ProfileSelection comparison,
                      SelectionFromValue(c.args().Get("comparison")));
  SH_ASSIGN_OR_RETURN(auto baseline_graph, profile::LoadFlameGraph(sources, baseline));
  SH_ASSIGN_OR_RETURN(auto comparison_graph, profile::LoadFlameGraph(sources, comparison));
  auto holder = std::make_shared<DiffHolder>();
  SH_ASSIGN_OR_RETURN(holder->diff, analysis::DiffFlameGraphs(*baseline_graph, *comparison_graph));
  const analysis::FlameDiff& diff = holder->diff;
  auto view = [&diff](const analysis::DiffNode& node) {
    return DiffNodeView{&node, &diff.names.Signature(node.name)};
  };
  holder->nodes.reserve(diff.nodes.size());
  for (const analysis::DiffNode& node : diff.nodes) holder->nodes.push_back(view(node));
  for (uint32_t i : diff.top_gains) holder->top_gains.push_back(view(diff.nodes[i]));
  for (uint32_t i : diff.top_losses) holder->top_losses.push_back(view(diff.nodes[i]));
  auto array = [&holder](const std::vector<DiffNodeView>& views) {
    return Result::ObjectArray(std::shared_ptr<const std::vector<DiffNodeView>>(holder, &views));
  };
  return Result::Map({{"unit", Result::String(diff.unit)},
                      {"baselineTotal", Result::Int(diff.baseline_total)},
                      {"comparisonTotal", Result::Int(diff.comparison_total)},
                      {"nodes", array(holder->nodes)},
                      {"topGains", array(holder->top_gains)},
                      {"topLosses", array(holder->top_losses)}});
}

void BindDiffNodeGetters(graphql::SchemaBuilder* builder) {
  builder->BindGetter<DiffNodeView>("StackhouseDiffNode.id", [](const DiffNodeView& v) {
    return Result::String(absl::StrCat(v.node->id));
  });
  builder->BindGetter<DiffNodeView>("StackhouseDiffNode.parentId", [](const DiffNodeView& v) {
    return Result::String(absl::StrCat(v.node->parent_id));
  });
  builder->BindGetter<DiffNodeView>("StackhouseDiffNode.name",
                                    [](const DiffNodeView& v) { return Result::String(*v.name); });
  builder->BindGetter<DiffNodeView>("StackhouseDiffNode.stackType", [](const DiffNodeView& v) {
    return v.node->stack_type
               ? Result::String(std::string(analysis::StackTypeName(*v.node->stack_type)))
               : Result::Null();
  });
  builder->BindGetter<DiffNodeView>("StackhouseDiffNode.baselineValue", [](const DiffNodeView& v) {
    return Result::Int(v.node->baseline_value);
  });
  builder->BindGetter<DiffNodeView>(
      "StackhouseDiffNode.comparisonValue",
      [](const DiffNodeView& v) { return Result::Int(v.node->comparison_value); });
  builder->BindGetter<DiffNodeView>("StackhouseDiffNode.baselineShare", [](const DiffNodeView& v) {
    return Result::Float(v.node->baseline_share);
  });
  builder->BindGetter<DiffNodeView>(
      "StackhouseDiffNode.comparisonShare",
      [](const DiffNodeView& v) { return Result::Float(v.node->comparison_share); });
  builder->BindGetter<DiffNodeView>("StackhouseDiffNode.shareDelta", [](const DiffNodeView& v) {
    return Result::Float(v.node->share_delta);
  });
  builder->BindGetter<DiffNodeView>("StackhouseDiffNode.baselineSelf", [](const DiffNodeView& v) {
    return Result::Int(v.node->baseline_self);
  });
  builder->BindGetter<DiffNodeView>("StackhouseDiffNode.comparisonSelf", [](const DiffNodeView& v) {
    return Result::Int(v.node->comparison_self);
  });
}

}  // namespace

void BindDiffResolvers(const QueryDeps& deps, graphql::SchemaBuilder* builder) {
  BindDiffNodeGetters(builder);
  profile::ProfileSources sources{deps.snapshots, deps.ebpf_store,
                                  deps.config->query.max_analyze_snapshots, deps.ebpf_analyzer};
  builder->BindResolver("Query.stackhouseDiff",
                        [sources](const Context& c) { return Diff(sources, c); });
}

}  // namespace stackhouse::query
