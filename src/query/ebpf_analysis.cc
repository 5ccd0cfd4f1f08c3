#include "query/ebpf_analysis.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "analysis/ebpf_stack_merge.h"
#include "common/status_macros.h"

namespace stackhouse::query {
namespace {

using graphql::Result;

// A tree element with its symbol, as the GraphQL getters read it.
struct ElementView {
  int32_t id;
  int32_t parent_id;
  const std::string* symbol;  // owned by the FrameTable of the result
  analysis::StackType type;
  int64_t dump_count;
};

struct TreeHolder {
  std::shared_ptr<const analysis::FrameTable> symbols;
  std::vector<ElementView> elements;
};

}  // namespace

std::vector<analysis::EbpfTimeRange> EbpfTimeRangesFromValue(const graphql::Value& ranges) {
  std::vector<analysis::EbpfTimeRange> out;
  if (ranges.kind() != graphql::Value::Kind::kList) return out;
  for (const graphql::Value& r : ranges.list()) {
    analysis::EbpfTimeRange range;
    if (const auto* s = r.Find("start")) range.start_ms = s->int_value();
    if (const auto* e = r.Find("end")) range.end_ms = e->int_value();
    out.push_back(range);
  }
  return out;
}

absl::StatusOr<Result> AnalyzeEbpfResult(const profile::EbpfAnalyzer& analyzer,
                                         const std::vector<std::string>& schedule_ids,
                                         const std::vector<analysis::EbpfTimeRange>& ranges,
                                         bool by_duration) {
  SH_ASSIGN_OR_RETURN(std::shared_ptr<const profile::EbpfProfile> shared,
                      analyzer.Load(schedule_ids, ranges, by_duration));
  const profile::EbpfProfile& profile = *shared;
  const analysis::EbpfAnalysis& merged = profile.analysis;
  const std::shared_ptr<const analysis::FrameTable>& symbols = profile.symbols;
  std::vector<Result> trees;
  trees.reserve(merged.trees.size());
  for (const analysis::EbpfTree& tree : merged.trees) {
    auto holder = std::make_shared<TreeHolder>();
    holder->symbols = symbols;
    holder->elements.reserve(tree.elements.size());
    for (const analysis::EbpfElement& e : tree.elements) {
      holder->elements.push_back(
          {e.id, e.parent_id, &symbols->Signature(e.symbol_id), e.type, e.dump_count});
    }
    std::shared_ptr<const std::vector<ElementView>> elements(holder, &holder->elements);
    trees.push_back(Result::Map({{"elements", Result::ObjectArray(std::move(elements))}}));
  }
  return Result::Map({{"tip", profile.tip ? Result::String(*profile.tip) : Result::Null()},
                      {"trees", Result::List(std::move(trees))}});
}

void BindEbpfElementGetters(graphql::SchemaBuilder* builder) {
  builder->BindGetter<ElementView>("EBPFProfilingStackElement.id", [](const ElementView& e) {
    return Result::Int(e.id);  // serialized as a string
  });
  builder->BindGetter<ElementView>("EBPFProfilingStackElement.parentId",
                                   [](const ElementView& e) { return Result::Int(e.parent_id); });
  builder->BindGetter<ElementView>("EBPFProfilingStackElement.symbol", [](const ElementView& e) {
    return Result::BorrowedString(e.symbol);
  });
  builder->BindGetter<ElementView>("EBPFProfilingStackElement.stackType", [](const ElementView& e) {
    return Result::String(std::string(analysis::StackTypeName(e.type)));
  });
  builder->BindGetter<ElementView>("EBPFProfilingStackElement.dumpCount",
                                   [](const ElementView& e) { return Result::Int(e.dump_count); });
}

}  // namespace stackhouse::query
