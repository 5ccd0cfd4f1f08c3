#include "query/ebpf_analysis.h"

#include <algorithm>
#include <memory>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "analysis/ebpf_stack_merge.h"
#include "analysis/ebpf_time_ranges.h"
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

// Maps dictionary stack ids to dense analysis ids: a direct-mapped cache in front of a hash
// map, since a schedule repeats a few distinct stacks millions of times.
class StackIdMap {
 public:
  static constexpr int64_t kUnknown = -2;

  int64_t Find(uint64_t id) const {
    const Slot& slot = cache_[id & kMask];
    if (slot.valid && slot.id == id) return slot.dense;
    auto it = map_.find(id);
    return it == map_.end() ? kUnknown : it->second;
  }
  void Insert(uint64_t id, int64_t dense) {
    map_[id] = dense;
    cache_[id & kMask] = Slot{true, id, dense};
  }
  void Touch(uint64_t id, int64_t dense) { cache_[id & kMask] = Slot{true, id, dense}; }

 private:
  static constexpr size_t kSize = 4096;
  static constexpr uint64_t kMask = kSize - 1;
  struct Slot {
    bool valid = false;
    uint64_t id = 0;
    int64_t dense = 0;
  };
  std::vector<Slot> cache_ = std::vector<Slot>(kSize);
  absl::flat_hash_map<uint64_t, int64_t> map_;
};

// Per distinct stack: where it first appears in read order, and its values summed.
struct StackAccumulator {
  int64_t first_time = 0;
  uint32_t first_schedule = 0;
  uint64_t first_position = 0;
  absl::int128 sum = 0;
};

}  // namespace

std::vector<EbpfTimeRange> EbpfTimeRangesFromValue(const graphql::Value& ranges) {
  std::vector<EbpfTimeRange> out;
  if (ranges.kind() != graphql::Value::Kind::kList) return out;
  for (const graphql::Value& r : ranges.list()) {
    EbpfTimeRange range;
    if (const auto* s = r.Find("start")) range.start_ms = s->int_value();
    if (const auto* e = r.Find("end")) range.end_ms = e->int_value();
    out.push_back(range);
  }
  return out;
}

absl::StatusOr<EbpfProfile> LoadEbpfProfile(const storage::EbpfStore& store,
                                            const std::vector<std::string>& schedule_ids,
                                            const std::vector<EbpfTimeRange>& ranges,
                                            bool by_duration) {
  EbpfProfile profile;
  profile.by_duration = by_duration;
  std::vector<analysis::EbpfTimeRange> requested;
  requested.reserve(ranges.size());
  for (const EbpfTimeRange& r : ranges) requested.push_back({r.start_ms, r.end_ms});
  // Stackhouse: the union of the ranges, so that every stored sample counts once.
  std::vector<analysis::ReadWindow> windows = analysis::MergeTimeRanges(requested);

  auto symbols = std::make_shared<analysis::FrameTable>();
  analysis::EbpfStackTable stacks;
  StackIdMap ids;
  absl::Status status;
  std::vector<StackAccumulator> totals;  // by dense stack id
  std::vector<std::string> distinct_schedules;
  for (const std::string& id : schedule_ids) {
    if (std::find(distinct_schedules.begin(), distinct_schedules.end(), id) ==
        distinct_schedules.end()) {
      distinct_schedules.push_back(id);
    }
  }
  // Aggregates while reading: the merge only needs each stack's total and its first
  // appearance in read order (by upload time, then schedule, then position), so no list of
  // millions of samples is built.
  uint64_t position = 0;
  for (uint32_t s = 0; s < distinct_schedules.size(); ++s) {
    for (const analysis::ReadWindow& window : windows) {
      SH_RETURN_IF_ERROR(store.ScanSampleBlocks(
          distinct_schedules[s], window.start_ms, window.end_ms,
          [&](storage::EbpfSampleBlock& block) {
            if (block.target_type() == model::EbpfTargetType::kOnCpu) {
              profile.has_on_cpu_samples = true;
            } else {
              profile.has_off_cpu_samples = true;
            }
            storage::StoredEbpfSample stored;
            while (status.ok() && block.Next(&stored)) {
              ++position;
              int64_t dense = ids.Find(stored.stack_id);
              if (dense == StackIdMap::kUnknown) {
                auto frames = store.GetStack(stored.stack_id);
                if (frames.ok()) {
                  std::vector<analysis::EbpfFrame> path;
                  path.reserve(frames->size());
                  for (const model::EbpfSymbol& symbol : *frames) {
                    path.push_back(
                        {symbols->Intern(symbol.name), symbol.type == model::StackType::kKernel
                                                           ? analysis::StackType::kKernelSpace
                                                           : analysis::StackType::kUserSpace});
                  }
                  dense = stacks.Add(path);
                  totals.push_back({stored.upload_time_ms, s, position, 0});
                } else if (absl::IsNotFound(frames.status())) {
                  dense = -1;  // expired: skip its samples
                } else {
                  status = frames.status();
                  return;
                }
                ids.Insert(stored.stack_id, dense);
              }
              if (dense < 0) continue;
              StackAccumulator& total = totals[static_cast<size_t>(dense)];
              if (std::tie(stored.upload_time_ms, s, position) <
                  std::tie(total.first_time, total.first_schedule, total.first_position)) {
                total.first_time = stored.upload_time_ms;
                total.first_schedule = s;
                total.first_position = position;
              }
              total.sum += stored.target_type == model::EbpfTargetType::kOnCpu
                               ? stored.dump_count
                               : (by_duration ? stored.duration_ns : stored.switch_count);
            }
          }));
      SH_RETURN_IF_ERROR(status);
    }
  }
  std::vector<uint32_t> order(totals.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return std::tie(totals[a].first_time, totals[a].first_schedule, totals[a].first_position) <
           std::tie(totals[b].first_time, totals[b].first_schedule, totals[b].first_position);
  });
  std::vector<analysis::StackTotal> ordered;
  ordered.reserve(order.size());
  for (uint32_t id : order) ordered.push_back({id, totals[id].sum});
  SH_ASSIGN_OR_RETURN(profile.analysis, analysis::BuildEbpfTrees(ordered, stacks, *symbols));
  profile.symbols = std::move(symbols);
  return profile;
}

absl::StatusOr<Result> AnalyzeEbpfResult(const storage::EbpfStore& store,
                                         const std::vector<std::string>& schedule_ids,
                                         const std::vector<EbpfTimeRange>& ranges,
                                         bool by_duration) {
  SH_ASSIGN_OR_RETURN(EbpfProfile profile,
                      LoadEbpfProfile(store, schedule_ids, ranges, by_duration));
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
  return Result::Map({{"tip", Result::Null()}, {"trees", Result::List(std::move(trees))}});
}

void BindEbpfElementGetters(graphql::SchemaBuilder* builder) {
  builder->BindGetter<ElementView>("EBPFProfilingStackElement.id", [](const ElementView& e) {
    return Result::String(absl::StrCat(e.id));
  });
  builder->BindGetter<ElementView>("EBPFProfilingStackElement.parentId", [](const ElementView& e) {
    return Result::String(absl::StrCat(e.parent_id));
  });
  builder->BindGetter<ElementView>("EBPFProfilingStackElement.symbol",
                                   [](const ElementView& e) { return Result::String(*e.symbol); });
  builder->BindGetter<ElementView>("EBPFProfilingStackElement.stackType", [](const ElementView& e) {
    return Result::String(std::string(analysis::StackTypeName(e.type)));
  });
  builder->BindGetter<ElementView>("EBPFProfilingStackElement.dumpCount",
                                   [](const ElementView& e) { return Result::Int(e.dump_count); });
}

}  // namespace stackhouse::query
