#include "analysis/ebpf_stack_merge.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace stackhouse::analysis {
namespace {

constexpr uint32_t kNoNode = std::numeric_limits<uint32_t>::max();

int64_t SaturateToInt64(absl::int128 value) {
  const absl::int128 max = std::numeric_limits<int64_t>::max();
  const absl::int128 min = std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(std::clamp(value, min, max));
}

// The trie of one merge, built stack by stack (AddStack), then numbered (Finish).
// Not thread-safe.
class TreeBuilder {
 public:
  TreeBuilder(const EbpfStackTable& stacks, const FrameTable& symbols)
      : stacks_(stacks), symbols_(symbols) {
    // Distinct stacks mostly end in a node of their own: at least that many nodes.
    child_.reserve(stacks.size());
    nodes_.reserve(stacks.size());
    values_.reserve(stacks.size());
  }

  // Step 6 for all samples of one stack: creates the stack's path if new and adds `value` to its
  // innermost node (Finish adds subtrees up).
  absl::Status AddStack(const StackTotal& total) {
    if (total.stack_id >= stacks_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("eBPF sample refers to stack ", total.stack_id, " of ", stacks_.size()));
    }
    // Consecutive stacks mostly share their outer frames: those start from the previous
    // stack's path.
    const auto frames = stacks_.Frames(total.stack_id);
    size_t shared = 0;
    const size_t limit = std::min(frames.size(), walked_.size());
    while (shared < limit && frames[shared].symbol == walked_[shared].symbol &&
           frames[shared].type == walked_[shared].type) {
      ++shared;
    }
    walked_.resize(shared);
    path_.resize(shared);
    uint32_t node = shared == 0 ? kNoNode : path_.back();
    for (size_t f = shared; f < frames.size(); ++f) {
      const EbpfFrame& frame = frames[f];
      // The second bound keeps ChildKey unique; no FrameTable that fits in memory reaches it.
      if (frame.symbol >= symbols_.size() || frame.symbol > kMaxSymbol) {
        return absl::InvalidArgumentError(absl::StrCat(
            "stack ", total.stack_id, " refers to symbol ", frame.symbol, " of ", symbols_.size()));
      }
      node = Child(node, frame);
      walked_.push_back(frame);
      path_.push_back(node);
    }
    if (node != kNoNode) values_[node] += total.value;  // kNoNode: empty stack, dropped
    return absl::OkStatus();
  }

  // Steps 7–8: the trees, roots in order of first appearance.
  absl::StatusOr<EbpfAnalysis> Finish() {
    if (nodes_.size() > size_t{std::numeric_limits<int32_t>::max()}) {
      return absl::ResourceExhaustedError(
          absl::StrCat("eBPF merge: ", nodes_.size(), " tree nodes do not fit 32-bit ids"));
    }
    // Children are created after their parent, so this adds whole subtrees bottom-up.
    for (size_t i = nodes_.size(); i-- > 0;) {
      if (nodes_[i].parent != kNoNode) values_[nodes_[i].parent] += values_[i];
    }
    EbpfAnalysis analysis;
    analysis.trees.reserve(roots_.size());
    std::vector<uint32_t> order;  // order[k] is the node of elements[k]
    for (uint32_t root : roots_) {
      std::vector<EbpfElement>& elements = analysis.trees.emplace_back().elements;
      order.assign(1, root);
      elements.push_back(MakeElement(root, 1, 0));
      for (size_t k = 0; k < order.size(); ++k) {
        const int32_t id = static_cast<int32_t>(k + 1);
        for (uint32_t child = nodes_[order[k]].first_child; child != kNoNode;
             child = nodes_[child].next_sibling) {
          order.push_back(child);
          elements.push_back(MakeElement(child, static_cast<int32_t>(order.size()), id));
        }
      }
    }
    return analysis;
  }

 private:
  static constexpr uint32_t kMaxSymbol = std::numeric_limits<uint32_t>::max() >> 1;

  struct Node {
    EbpfFrame frame;
    uint32_t parent = kNoNode;
    uint32_t first_child = kNoNode;
    uint32_t last_child = kNoNode;
    uint32_t next_sibling = kNoNode;
  };

  // A node's identity: its parent (kNoNode for the roots) and its frame.
  static uint64_t ChildKey(uint32_t parent, const EbpfFrame& frame) {
    return (uint64_t{parent} << 32) | (frame.symbol << 1) |
           (frame.type == StackType::kKernelSpace ? 1 : 0);
  }

  // The child of `parent` (kNoNode: the roots) for `frame`, created if new.
  uint32_t Child(uint32_t parent, const EbpfFrame& frame) {
    const auto new_node = static_cast<uint32_t>(nodes_.size());
    auto [it, inserted] = child_.try_emplace(ChildKey(parent, frame), new_node);
    if (!inserted) return it->second;
    Node& node = nodes_.emplace_back();
    values_.emplace_back();
    node.frame = frame;
    node.parent = parent;
    if (parent == kNoNode) {
      roots_.push_back(new_node);
    } else {
      Node& parent_node = nodes_[parent];
      if (parent_node.last_child == kNoNode) {
        parent_node.first_child = new_node;
      } else {
        nodes_[parent_node.last_child].next_sibling = new_node;
      }
      parent_node.last_child = new_node;
    }
    return new_node;
  }

  EbpfElement MakeElement(uint32_t node, int32_t id, int32_t parent_id) const {
    const Node& n = nodes_[node];
    return {id, parent_id, n.frame.symbol, n.frame.type, SaturateToInt64(values_[node])};
  }

  const EbpfStackTable& stacks_;
  const FrameTable& symbols_;
  std::vector<Node> nodes_;
  std::vector<absl::int128> values_;  // per node: samples ending there; Finish adds the subtree
  absl::flat_hash_map<uint64_t, uint32_t> child_;  // ChildKey → node
  std::vector<uint32_t> roots_;
  std::vector<EbpfFrame> walked_;  // the frames of the last stack added (checked), root first
  std::vector<uint32_t> path_;     // their nodes
};

}  // namespace

absl::StatusOr<EbpfAnalysis> BuildEbpfTrees(absl::Span<const StackTotal> totals,
                                            const EbpfStackTable& stacks,
                                            const FrameTable& symbols) {
  TreeBuilder builder(stacks, symbols);
  for (const StackTotal& total : totals) SH_RETURN_IF_ERROR(builder.AddStack(total));
  return builder.Finish();
}

}  // namespace stackhouse::analysis
