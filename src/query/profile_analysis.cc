#include "query/profile_analysis.h"

#include <memory>
#include <utility>

#include "common/status_macros.h"

namespace stackhouse::query {
namespace {

using graphql::Result;

// A tree element with its code signature, as the GraphQL getters read it.
struct ElementView {
  int32_t id;
  int32_t parent_id;
  const std::string* code_signature;  // owned by the FrameTable of the result
  int32_t duration;
  int32_t duration_child_excluded;
  int32_t count;
};

struct TreeHolder {
  std::shared_ptr<const analysis::FrameTable> frames;
  std::vector<ElementView> elements;
};

}  // namespace

std::vector<profile::SegmentQuery> SegmentQueriesFromValue(const graphql::Value& queries) {
  std::vector<profile::SegmentQuery> out;
  for (const graphql::Value& q : queries.list()) {
    profile::SegmentQuery query;
    if (const graphql::Value* id = q.Find("segmentId")) query.segment_id = id->string_value();
    if (const graphql::Value* range = q.Find("timeRange")) {
      if (const graphql::Value* s = range->Find("start")) query.start_ms = s->int_value();
      if (const graphql::Value* e = range->Find("end")) query.end_ms = e->int_value();
    }
    out.push_back(std::move(query));
  }
  return out;
}

absl::StatusOr<Result> AnalyzeSegmentsResult(const storage::SnapshotStore& snapshots,
                                             const std::vector<profile::SegmentQuery>& queries,
                                             int32_t max_snapshots) {
  SH_ASSIGN_OR_RETURN(profile::TraceProfile profile,
                      profile::LoadTraceProfile(snapshots, queries, max_snapshots));
  const analysis::ProfileAnalysis& analyzed = profile.analysis;
  const std::shared_ptr<const analysis::FrameTable>& frames = profile.frames;
  std::vector<Result> trees;
  trees.reserve(analyzed.trees.size());
  for (const analysis::ProfileTree& tree : analyzed.trees) {
    auto holder = std::make_shared<TreeHolder>();
    holder->frames = frames;
    holder->elements.reserve(tree.elements.size());
    for (const analysis::ProfileElement& e : tree.elements) {
      holder->elements.push_back({e.id, e.parent_id, &frames->Signature(e.frame_id), e.duration,
                                  e.duration_child_excluded, e.count});
    }
    std::shared_ptr<const std::vector<ElementView>> elements(holder, &holder->elements);
    trees.push_back(Result::Map({{"elements", Result::ObjectArray(std::move(elements))}}));
  }
  return Result::Map({{"tip", analyzed.tip ? Result::String(*analyzed.tip) : Result::Null()},
                      {"trees", Result::List(std::move(trees))}});
}

void BindProfileElementGetters(graphql::SchemaBuilder* builder) {
  builder->BindGetter<ElementView>("ProfileStackElement.id", [](const ElementView& e) {
    return Result::Int(e.id);  // serialized as the ID string
  });
  builder->BindGetter<ElementView>("ProfileStackElement.parentId",
                                   [](const ElementView& e) { return Result::Int(e.parent_id); });
  builder->BindGetter<ElementView>("ProfileStackElement.codeSignature", [](const ElementView& e) {
    return Result::BorrowedString(e.code_signature);  // the holder keeps it
  });
  builder->BindGetter<ElementView>("ProfileStackElement.duration",
                                   [](const ElementView& e) { return Result::Int(e.duration); });
  builder->BindGetter<ElementView>(
      "ProfileStackElement.durationChildExcluded",
      [](const ElementView& e) { return Result::Int(e.duration_child_excluded); });
  builder->BindGetter<ElementView>("ProfileStackElement.count",
                                   [](const ElementView& e) { return Result::Int(e.count); });
}

}  // namespace stackhouse::query
