#include "analysis/thread_dump_merge.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/saturating.h"
#include "common/status_macros.h"

namespace stackhouse::analysis {
namespace {

constexpr uint32_t kNoNode = std::numeric_limits<uint32_t>::max();

// Orders dumps by (segment_index, sequence); equal keys are duplicates.
uint64_t DumpKey(const ThreadDump& dump) {
  return (uint64_t{dump.segment_index} << 32) |
         (static_cast<uint32_t>(dump.sequence) ^ uint32_t{0x80000000});
}

bool KeysNonDecreasing(absl::Span<const ThreadDump> dumps) {
  for (size_t i = 1; i < dumps.size(); ++i) {
    if (DumpKey(dumps[i]) < DumpKey(dumps[i - 1])) return false;
  }
  return true;
}

// The indices of `dumps` in key order, with only the first (lowest) index of each key.
std::vector<uint32_t> FirstOfEachKeyInKeyOrder(absl::Span<const ThreadDump> dumps) {
  struct Entry {
    uint64_t key;
    uint32_t index;
  };
  std::vector<Entry> entries(dumps.size());
  for (size_t i = 0; i < dumps.size(); ++i) {
    entries[i] = {DumpKey(dumps[i]), static_cast<uint32_t>(i)};
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.key != b.key ? a.key < b.key : a.index < b.index;
  });
  std::vector<uint32_t> order;
  order.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i == 0 || entries[i].key != entries[i - 1].key) order.push_back(entries[i].index);
  }
  return order;
}

int32_t SaturateToInt32(int64_t value) {
  return static_cast<int32_t>(std::clamp<int64_t>(value, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

// The trie of one analysis: built from the dumps in fetch order (AddDump), then fed the same
// dumps in key order to measure durations (AccumulateDuration), then numbered (Finish).
//
// Durations are measured without keeping per-node hit lists: walking the dumps in key order,
// the nodes whose run of consecutive sequences is open are exactly those on the previous dump's
// path (if the sequence continues). From one dump to the next, only the nodes below the two
// paths' common ancestor change state, so identical consecutive stacks cost O(1).
// Not thread-safe.
class TreeBuilder {
 public:
  TreeBuilder(const StackTable& stacks, const FrameTable& frames)
      : stacks_(stacks), frames_(frames), leaf_of_stack_(stacks.size(), kUnwalked) {
    // Distinct stacks mostly end in a node of their own: at least that many nodes.
    child_.reserve(stacks.size());
    nodes_.reserve(stacks.size());
  }

  // Step 7 for one dump, in fetch order. Returns the node of the innermost frame, or kNoNode for
  // an empty stack.
  absl::StatusOr<uint32_t> AddDump(const ThreadDump& dump) {
    if (dump.stack_id >= leaf_of_stack_.size()) {
      return absl::InvalidArgumentError(absl::StrCat("thread dump refers to stack ", dump.stack_id,
                                                     " of ", leaf_of_stack_.size()));
    }
    uint32_t leaf = leaf_of_stack_[dump.stack_id];
    if (leaf == kUnwalked) {
      SH_ASSIGN_OR_RETURN(leaf, WalkStack(dump.stack_id));
      leaf_of_stack_[dump.stack_id] = leaf;
    }
    if (leaf != kNoNode) ++nodes_[leaf].count;
    return leaf;
  }

  // The node AddDump returned for a dump with this stack.
  uint32_t LeafOf(uint32_t stack_id) const { return leaf_of_stack_[stack_id]; }

  // Step 9's durations. Call for every dump that AddDump gave a node, in key order (ascending
  // (segment_index, sequence), no duplicates).
  void AccumulateDuration(const ThreadDump& dump, uint32_t leaf) {
    const bool continues = previous_leaf_ != kNoNode &&
                           dump.segment_index == previous_.segment_index &&
                           int64_t{dump.sequence} == int64_t{previous_.sequence} + 1;
    if (continues) {
      uint32_t old_node = previous_leaf_;
      uint32_t new_node = leaf;
      while (nodes_[old_node].depth > nodes_[new_node].depth) {
        EndRun(old_node);
        old_node = nodes_[old_node].parent;
      }
      while (nodes_[new_node].depth > nodes_[old_node].depth) {
        nodes_[new_node].run_start_ms = dump.dump_time_ms;
        new_node = nodes_[new_node].parent;
      }
      while (old_node != new_node) {  // both become kNoNode past two different roots
        EndRun(old_node);
        old_node = nodes_[old_node].parent;
        nodes_[new_node].run_start_ms = dump.dump_time_ms;
        new_node = nodes_[new_node].parent;
      }
    } else {
      EndRunsOfPreviousPath();
      for (uint32_t node = leaf; node != kNoNode; node = nodes_[node].parent) {
        nodes_[node].run_start_ms = dump.dump_time_ms;
      }
    }
    previous_ = dump;
    previous_leaf_ = leaf;
  }

  // Steps 8–10: the trees, roots in order of first appearance.
  std::vector<ProfileTree> Finish() {
    EndRunsOfPreviousPath();
    previous_leaf_ = kNoNode;
    // Children are created after their parent, so this adds whole subtrees bottom-up.
    for (size_t i = nodes_.size(); i-- > 0;) {
      if (nodes_[i].parent != kNoNode) nodes_[nodes_[i].parent].count += nodes_[i].count;
    }
    std::vector<ProfileTree> trees;
    trees.reserve(roots_.size());
    std::vector<uint32_t> order;  // order[k] is the node of elements[k]
    for (uint32_t root : roots_) {
      std::vector<ProfileElement>& elements = trees.emplace_back().elements;
      order.assign(1, root);
      elements.push_back(MakeElement(root, 1, 0));
      for (size_t k = 0; k < order.size(); ++k) {
        const int32_t id = static_cast<int32_t>(k + 1);
        int64_t children_duration = 0;
        for (uint32_t child = nodes_[order[k]].first_child; child != kNoNode;
             child = nodes_[child].next_sibling) {
          order.push_back(child);
          elements.push_back(MakeElement(child, static_cast<int32_t>(order.size()), id));
          children_duration += elements.back().duration;
        }
        elements[k].duration_child_excluded =
            SaturateToInt32(int64_t{elements[k].duration} - children_duration);
      }
    }
    return trees;
  }

 private:
  static constexpr uint32_t kUnwalked = kNoNode - 1;

  struct Node {
    uint32_t frame_id = 0;
    uint32_t parent = kNoNode;
    uint32_t depth = 0;
    uint32_t first_child = kNoNode;
    uint32_t last_child = kNoNode;
    uint32_t next_sibling = kNoNode;
    int64_t count = 0;  // dumps ending here; Finish adds the subtree
    int64_t run_start_ms = 0;
    int64_t duration_ms = 0;
  };

  // The node of the innermost frame of `stack_id`, its path created where new. Consecutive
  // stacks mostly share their outer frames: those start from the previous walk's path.
  absl::StatusOr<uint32_t> WalkStack(uint32_t stack_id) {
    absl::Span<const uint32_t> frame_ids = stacks_.Frames(stack_id);
    size_t shared = 0;
    const size_t limit = std::min(frame_ids.size(), walked_.size());
    while (shared < limit && frame_ids[shared] == walked_[shared]) ++shared;
    path_.resize(shared);
    walked_.resize(shared);
    uint32_t node = shared == 0 ? kNoNode : path_.back();
    for (size_t f = shared; f < frame_ids.size(); ++f) {
      const uint32_t frame_id = frame_ids[f];
      if (frame_id >= frames_.size()) {
        return absl::InvalidArgumentError(absl::StrCat("stack ", stack_id, " refers to frame ",
                                                       frame_id, " of ", frames_.size()));
      }
      node = Child(node, frame_id);
      walked_.push_back(frame_id);
      path_.push_back(node);
    }
    return node;
  }

  // The child of `parent` (kNoNode: the roots) for `frame_id`, created if new.
  uint32_t Child(uint32_t parent, uint32_t frame_id) {
    const auto new_node = static_cast<uint32_t>(nodes_.size());
    auto [it, inserted] = child_.try_emplace((uint64_t{parent} << 32) | frame_id, new_node);
    if (!inserted) return it->second;
    Node& node = nodes_.emplace_back();
    node.frame_id = frame_id;
    node.parent = parent;
    if (parent == kNoNode) {
      roots_.push_back(new_node);
    } else {
      Node& parent_node = nodes_[parent];
      node.depth = parent_node.depth + 1;
      if (parent_node.last_child == kNoNode) {
        parent_node.first_child = new_node;
      } else {
        nodes_[parent_node.last_child].next_sibling = new_node;
      }
      parent_node.last_child = new_node;
    }
    return new_node;
  }

  // Closes the open run of `node`; the previous dump was its last one.
  void EndRun(uint32_t node) {
    Node& n = nodes_[node];
    n.duration_ms =
        SaturatingAdd(n.duration_ms, SaturatingSub(previous_.dump_time_ms, n.run_start_ms));
  }

  void EndRunsOfPreviousPath() {
    for (uint32_t node = previous_leaf_; node != kNoNode; node = nodes_[node].parent) {
      EndRun(node);
    }
  }

  ProfileElement MakeElement(uint32_t node, int32_t id, int32_t parent_id) const {
    const Node& n = nodes_[node];
    ProfileElement element;
    element.id = id;
    element.parent_id = parent_id;
    element.frame_id = n.frame_id;
    element.count = SaturateToInt32(n.count);
    element.duration = SaturateToInt32(n.duration_ms);
    return element;
  }

  const StackTable& stacks_;
  const FrameTable& frames_;
  std::vector<uint32_t> leaf_of_stack_;  // per stack id: kUnwalked, kNoNode (empty) or a node
  std::vector<Node> nodes_;
  absl::flat_hash_map<uint64_t, uint32_t> child_;  // (parent << 32 | frame id) → node
  std::vector<uint32_t> roots_;
  std::vector<uint32_t> walked_;      // the frames of the last stack walked (checked), root first
  std::vector<uint32_t> path_;        // their nodes
  ThreadDump previous_;               // the last dump given to AccumulateDuration
  uint32_t previous_leaf_ = kNoNode;  // its node, kNoNode before the first
};

}  // namespace

void RemoveDuplicateDumps(std::vector<ThreadDump>* dumps) {
  if (KeysNonDecreasing(*dumps)) {
    dumps->erase(std::unique(dumps->begin(), dumps->end(),
                             [](const ThreadDump& a, const ThreadDump& b) {
                               return DumpKey(a) == DumpKey(b);
                             }),
                 dumps->end());
    return;
  }
  std::vector<bool> keep(dumps->size());
  for (uint32_t index : FirstOfEachKeyInKeyOrder(*dumps)) keep[index] = true;
  size_t kept = 0;
  for (size_t i = 0; i < dumps->size(); ++i) {
    if (keep[i]) (*dumps)[kept++] = (*dumps)[i];
  }
  dumps->resize(kept);
}

absl::StatusOr<ProfileAnalysis> AnalyzeThreadDumps(absl::Span<const ThreadDump> dumps,
                                                   const StackTable& stacks,
                                                   const FrameTable& frames,
                                                   std::optional<std::string> tip) {
  if (dumps.size() >= std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat("too many thread dumps: ", dumps.size()));
  }
  TreeBuilder builder(stacks, frames);
  if (KeysNonDecreasing(dumps)) {
    // Fetch order is key order: one pass; a duplicate can only follow its first occurrence.
    for (size_t i = 0; i < dumps.size(); ++i) {
      if (i > 0 && DumpKey(dumps[i]) == DumpKey(dumps[i - 1])) continue;
      SH_ASSIGN_OR_RETURN(uint32_t leaf, builder.AddDump(dumps[i]));
      if (leaf != kNoNode) builder.AccumulateDuration(dumps[i], leaf);
    }
  } else {
    const std::vector<uint32_t> order = FirstOfEachKeyInKeyOrder(dumps);
    std::vector<bool> keep(dumps.size());
    for (uint32_t index : order) keep[index] = true;
    for (size_t i = 0; i < dumps.size(); ++i) {
      if (keep[i]) SH_RETURN_IF_ERROR(builder.AddDump(dumps[i]).status());
    }
    for (uint32_t index : order) {
      const uint32_t leaf = builder.LeafOf(dumps[index].stack_id);
      if (leaf != kNoNode) builder.AccumulateDuration(dumps[index], leaf);
    }
  }
  return ProfileAnalysis{std::move(tip), builder.Finish()};
}

}  // namespace stackhouse::analysis
