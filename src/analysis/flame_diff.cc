#include "analysis/flame_diff.h"

#include <algorithm>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/saturating.h"

namespace stackhouse::analysis {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kMaxName = std::numeric_limits<uint32_t>::max() >> 1;

double Share(int64_t value, int64_t total) {
  return total == 0 ? 0.0 : static_cast<double>(value) / static_cast<double>(total);
}

// The union trie, built side by side (AddSide), then numbered (Finish). Not thread-safe.
class UnionBuilder {
 public:
  explicit UnionBuilder(FlameDiff* diff) : diff_(*diff) {}

  // Adds every node of `graph` as side 0 (baseline) or 1 (comparison).
  absl::Status AddSide(const FlameGraph& graph, int side) {
    const bool typed = graph.has_stack_types();
    std::vector<uint32_t> name_of(graph.symbols().size(), kNone);  // symbol → diff name
    std::vector<uint32_t> merged;  // node index in the tree → union node
    for (size_t tree = 0; tree < graph.tree_count(); ++tree) {
      merged.assign(graph.tree_size(tree), kNone);
      for (size_t i = 0; i < merged.size(); ++i) {
        const FlameNode node = graph.Node(tree, i);
        uint32_t& name = name_of[node.symbol];
        if (name == kNone) name = diff_.names.Intern(graph.symbols().Signature(node.symbol));
        if (name > kMaxName) return absl::ResourceExhaustedError("diff: too many symbol names");
        const uint32_t parent = node.parent < 0 ? kNone : merged[static_cast<size_t>(node.parent)];
        merged[i] = Child(parent, name, typed ? node.type : StackType::kUserSpace);
        int64_t& value = nodes_[merged[i]].value[side];
        value = SaturatingAdd(value, graph.Value(tree, i, 0));
      }
      if (nodes_.size() >= size_t{std::numeric_limits<int32_t>::max()}) {
        return absl::ResourceExhaustedError(
            absl::StrCat("diff: ", nodes_.size(), " nodes do not fit 32-bit ids"));
      }
    }
    return absl::OkStatus();
  }

  // Numbers the union breadth-first and fills diff_.nodes.
  void Finish(bool typed) {
    std::vector<uint32_t> order = roots_;  // order[k] is the trie node of diff_.nodes[k]
    order.reserve(nodes_.size());
    std::vector<int32_t> parent_id(nodes_.size(), 0);
    diff_.nodes.reserve(nodes_.size());
    for (size_t k = 0; k < order.size(); ++k) {
      const Node& n = nodes_[order[k]];
      DiffNode& d = diff_.nodes.emplace_back();
      d.id = static_cast<int32_t>(k + 1);
      d.parent_id = parent_id[order[k]];
      d.name = n.name;
      if (typed) d.stack_type = n.type;
      d.baseline_value = d.baseline_self = n.value[0];
      d.comparison_value = d.comparison_self = n.value[1];
      for (uint32_t child = n.first_child; child != kNone; child = nodes_[child].next_sibling) {
        order.push_back(child);
        parent_id[child] = d.id;
        d.baseline_self = SaturatingSub(d.baseline_self, nodes_[child].value[0]);
        d.comparison_self = SaturatingSub(d.comparison_self, nodes_[child].value[1]);
      }
      d.baseline_share = Share(d.baseline_value, diff_.baseline_total);
      d.comparison_share = Share(d.comparison_value, diff_.comparison_total);
      d.share_delta = d.comparison_share - d.baseline_share;
      d.self_share_delta = Share(d.comparison_self, diff_.comparison_total) -
                           Share(d.baseline_self, diff_.baseline_total);
    }
  }

 private:
  struct Node {
    uint32_t name = 0;
    StackType type = StackType::kUserSpace;
    uint32_t first_child = kNone;
    uint32_t last_child = kNone;
    uint32_t next_sibling = kNone;
    int64_t value[2] = {0, 0};
  };

  // The child of `parent` (kNone: the roots) for the frame, created if new.
  uint32_t Child(uint32_t parent, uint32_t name, StackType type) {
    const uint64_t key = (uint64_t{parent} << 32) | (uint64_t{name} << 1) |
                         (type == StackType::kKernelSpace ? 1 : 0);
    const auto created = static_cast<uint32_t>(nodes_.size());
    auto [it, inserted] = child_.try_emplace(key, created);
    if (!inserted) return it->second;
    Node& node = nodes_.emplace_back();
    node.name = name;
    node.type = type;
    if (parent == kNone) {
      roots_.push_back(created);
    } else {
      Node& p = nodes_[parent];
      if (p.last_child == kNone) {
        p.first_child = created;
      } else {
        nodes_[p.last_child].next_sibling = created;
      }
      p.last_child = created;
    }
    return created;
  }

  FlameDiff& diff_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> roots_;
  absl::flat_hash_map<uint64_t, uint32_t> child_;  // (parent, name, type) → node
};

// Indices of the nodes with keys[i] > 0, by descending key, then ascending id; at most `n`.
std::vector<uint32_t> Top(const std::vector<absl::int128>& keys, size_t n) {
  std::vector<uint32_t> indices;
  for (uint32_t i = 0; i < keys.size(); ++i) {
    if (keys[i] > 0) indices.push_back(i);
  }
  auto before = [&keys](uint32_t a, uint32_t b) {
    return keys[a] != keys[b] ? keys[a] > keys[b] : a < b;
  };
  if (indices.size() > n) {
    std::partial_sort(indices.begin(), indices.begin() + static_cast<ptrdiff_t>(n), indices.end(),
                      before);
    indices.resize(n);
  } else {
    std::sort(indices.begin(), indices.end(), before);
  }
  return indices;
}

std::string Describe(const FlameGraph& graph) {
  return absl::StrCat(graph.kind(), "/", PrimaryUnit(graph));
}

}  // namespace

absl::StatusOr<FlameDiff> DiffFlameGraphs(const FlameGraph& baseline, const FlameGraph& comparison,
                                          size_t top_count) {
  if (baseline.kind() != comparison.kind() || PrimaryUnit(baseline) != PrimaryUnit(comparison)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot diff a ", Describe(baseline),
                                                   " profile against a ", Describe(comparison),
                                                   " profile"));
  }
  FlameDiff diff;
  diff.unit = PrimaryUnit(baseline);
  diff.baseline_total = GraphTotal(baseline, 0);
  diff.comparison_total = GraphTotal(comparison, 0);
  UnionBuilder builder(&diff);
  if (absl::Status s = builder.AddSide(baseline, 0); !s.ok()) return s;
  if (absl::Status s = builder.AddSide(comparison, 1); !s.ok()) return s;
  builder.Finish(baseline.has_stack_types());
  // Ranked exactly: self_share_delta × both totals, in integers (a total of 0 counts as 1, its
  // side's self values then being 0), so that equal changes tie and fall back to the id.
  const absl::int128 b_total = diff.baseline_total != 0 ? diff.baseline_total : 1;
  const absl::int128 c_total = diff.comparison_total != 0 ? diff.comparison_total : 1;
  std::vector<absl::int128> gain(diff.nodes.size());
  std::vector<absl::int128> loss(diff.nodes.size());
  for (size_t i = 0; i < diff.nodes.size(); ++i) {
    gain[i] = absl::int128(diff.nodes[i].comparison_self) * b_total -
              absl::int128(diff.nodes[i].baseline_self) * c_total;
    loss[i] = -gain[i];
  }
  diff.top_gains = Top(gain, top_count);
  diff.top_losses = Top(loss, top_count);
  return diff;
}

}  // namespace stackhouse::analysis
