#include "analysis/flame_graph.h"

#include <limits>
#include <utility>

#include "common/saturating.h"

namespace stackhouse::analysis {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

constexpr int64_t kNanosPerMilli = 1000 * 1000;

}  // namespace

bool WalkStacks(const FlameGraph& graph, absl::FunctionRef<bool(const StackStep&)> visit) {
  const size_t columns = graph.value_types().size();
  std::vector<uint32_t> first_child;
  std::vector<uint32_t> next_sibling;
  std::vector<uint32_t> path;
  std::vector<int64_t> self(columns);
  for (size_t tree = 0; tree < graph.tree_count(); ++tree) {
    const size_t size = graph.tree_size(tree);
    if (size == 0) continue;
    first_child.assign(size, kNone);
    next_sibling.assign(size, kNone);
    // Backwards, so that each node's children end up linked in index order.
    for (size_t i = size; i-- > 1;) {
      const int32_t parent = graph.Node(tree, i).parent;
      if (parent < 0) continue;  // a second root would break the contract; ignore it
      next_sibling[i] = first_child[static_cast<size_t>(parent)];
      first_child[static_cast<size_t>(parent)] = static_cast<uint32_t>(i);
    }
    // Pre-order: visit a node when it is pushed; then descend to its first child, or move to
    // the next sibling of the deepest node that has one.
    path.assign(1, 0);
    while (!path.empty()) {
      const uint32_t node = path.back();
      for (size_t c = 0; c < columns; ++c) {
        int64_t value = graph.Value(tree, node, c);
        for (uint32_t child = first_child[node]; child != kNone; child = next_sibling[child]) {
          value = SaturatingSub(value, graph.Value(tree, child, c));
        }
        self[c] = value;
      }
      if (!visit(StackStep{tree, path, self})) return false;
      if (first_child[node] != kNone) {
        path.push_back(first_child[node]);
        continue;
      }
      while (!path.empty() && next_sibling[path.back()] == kNone) path.pop_back();
      if (!path.empty()) path.back() = next_sibling[path.back()];
    }
  }
  return true;
}

int64_t GraphTotal(const FlameGraph& graph, size_t column) {
  int64_t total = 0;
  for (size_t tree = 0; tree < graph.tree_count(); ++tree) {
    if (graph.tree_size(tree) > 0) total = SaturatingAdd(total, graph.Value(tree, 0, column));
  }
  return total;
}

std::string PrimaryUnit(const FlameGraph& graph) {
  const ValueType& primary = graph.value_types().front();
  return primary.unit == "count" ? primary.type : primary.unit;
}

ThreadDumpFlameGraph::ThreadDumpFlameGraph(std::vector<ProfileTree> trees,
                                           std::shared_ptr<const FrameTable> frames)
    : trees_(std::move(trees)),
      frames_(std::move(frames)),
      value_types_({{"samples", "count"}, {"wall", "nanoseconds"}}) {}

FlameNode ThreadDumpFlameGraph::Node(size_t tree, size_t index) const {
  const ProfileElement& e = trees_[tree].elements[index];
  return FlameNode{e.parent_id - 1, e.frame_id, StackType::kUserSpace};
}

int64_t ThreadDumpFlameGraph::Value(size_t tree, size_t index, size_t column) const {
  const ProfileElement& e = trees_[tree].elements[index];
  return column == 0 ? int64_t{e.count} : int64_t{e.duration} * kNanosPerMilli;
}

EbpfFlameGraph::EbpfFlameGraph(std::vector<EbpfTree> trees,
                               std::shared_ptr<const FrameTable> symbols, bool off_cpu,
                               bool by_duration)
    : trees_(std::move(trees)),
      symbols_(std::move(symbols)),
      kind_(off_cpu ? "eBPF OFF_CPU" : "eBPF ON_CPU"),
      value_types_({!off_cpu      ? ValueType{"samples", "count"}
                    : by_duration ? ValueType{"off_cpu", "nanoseconds"}
                                  : ValueType{"switches", "count"}}) {}

FlameNode EbpfFlameGraph::Node(size_t tree, size_t index) const {
  const EbpfElement& e = trees_[tree].elements[index];
  return FlameNode{e.parent_id - 1, e.symbol_id, e.type};
}

int64_t EbpfFlameGraph::Value(size_t tree, size_t index, size_t /*column*/) const {
  return trees_[tree].elements[index].dump_count;
}

}  // namespace stackhouse::analysis
