#include "analysis/go_profile_tree.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "common/saturating.h"

namespace stackhouse::analysis {
namespace {

int32_t ClampToInt32(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

int64_t SaturatingMul(int64_t a, int64_t b) {
  int64_t product;
  if (__builtin_mul_overflow(a, b, &product)) {
    return (a < 0) == (b < 0) ? std::numeric_limits<int64_t>::max()
                              : std::numeric_limits<int64_t>::min();
  }
  return product;
}

struct Node {
  int64_t parent;
  uint32_t frame;
  int64_t duration = 0;
  int64_t count = 0;
};

}  // namespace

int64_t GoPeriodMillis(int64_t period, absl::string_view unit) {
  if (period <= 0) return 10;
  if (unit.empty() || unit == "nanoseconds" || unit == "ns") {
    return std::max<int64_t>(1, period / 1'000'000);
  }
  if (unit == "microseconds" || unit == "us") return std::max<int64_t>(1, period / 1000);
  if (unit == "milliseconds" || unit == "ms") return std::max<int64_t>(1, period);
  if (unit == "seconds" || unit == "s") return std::max<int64_t>(1, SaturatingMul(period, 1000));
  if (unit == "hz" || unit == "HZ") return std::max<int64_t>(1, 1000 / period);
  return 10;
}

ProfileTree BuildGoProfileTree(absl::Span<const GoSample> samples, int64_t period_ms,
                               FrameTable* frames) {
  std::vector<Node> nodes;
  absl::flat_hash_map<std::pair<int64_t, uint32_t>, uint32_t> index;
  for (const GoSample& sample : samples) {
    const int64_t weight = SaturatingMul(sample.count, period_ms);
    int64_t parent = -1;
    for (uint32_t frame : sample.frames) {
      auto [it, inserted] = index.try_emplace({parent, frame}, static_cast<uint32_t>(nodes.size()));
      if (inserted) nodes.push_back({parent, frame});
      Node& node = nodes[it->second];
      node.duration = SaturatingAdd(node.duration, weight);
      node.count = SaturatingAdd(node.count, sample.count);
      parent = it->second;
    }
  }
  std::vector<uint32_t> roots;
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].parent == -1) roots.push_back(i);
  }
  ProfileTree tree;
  if (roots.empty()) return tree;
  if (roots.size() > 1) {
    Node virtual_root{-1, frames->Intern("root")};
    const auto root_id = static_cast<int64_t>(nodes.size());
    for (uint32_t r : roots) {
      virtual_root.duration = SaturatingAdd(virtual_root.duration, nodes[r].duration);
      virtual_root.count = SaturatingAdd(virtual_root.count, nodes[r].count);
      nodes[r].parent = root_id;
    }
    nodes.push_back(virtual_root);
    roots = {static_cast<uint32_t>(root_id)};
  }
  // Children in creation order, then by duration (stable: ties keep creation order).
  std::vector<std::vector<uint32_t>> children(nodes.size());
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].parent >= 0) children[static_cast<size_t>(nodes[i].parent)].push_back(i);
  }
  for (auto& list : children) {
    std::stable_sort(list.begin(), list.end(),
                     [&](uint32_t a, uint32_t b) { return nodes[a].duration > nodes[b].duration; });
  }
  // Breadth-first from the root, new ids 0, 1, 2, ...
  std::vector<std::pair<uint32_t, int32_t>> queue = {{roots[0], -1}};  // (node, new parent id)
  tree.elements.reserve(nodes.size());
  for (size_t head = 0; head < queue.size(); ++head) {
    const auto [n, parent_id] = queue[head];
    const Node& node = nodes[n];
    int64_t children_duration = 0;
    for (uint32_t c : children[n]) {
      children_duration = SaturatingAdd(children_duration, nodes[c].duration);
    }
    ProfileElement e;
    e.id = static_cast<int32_t>(head);
    e.parent_id = parent_id;
    e.frame_id = node.frame;
    e.count = ClampToInt32(node.count);
    e.duration = ClampToInt32(node.duration);
    e.duration_child_excluded =
        ClampToInt32(std::max<int64_t>(0, SaturatingSub(node.duration, children_duration)));
    tree.elements.push_back(e);
    for (uint32_t c : children[n]) queue.push_back({c, static_cast<int32_t>(head)});
  }
  return tree;
}

std::vector<ProfileTree> BuildGoFlameTrees(absl::Span<const GoSample> samples, int64_t period_ms) {
  std::vector<Node> nodes;
  std::vector<std::vector<uint32_t>> children;
  std::vector<uint32_t> roots;
  absl::flat_hash_map<std::pair<int64_t, uint32_t>, uint32_t> index;
  for (const GoSample& sample : samples) {
    const int64_t weight = SaturatingMul(sample.count, period_ms);
    int64_t parent = -1;
    for (auto frame = sample.frames.rbegin(); frame != sample.frames.rend(); ++frame) {
      auto [it, inserted] =
          index.try_emplace({parent, *frame}, static_cast<uint32_t>(nodes.size()));
      if (inserted) {
        nodes.push_back({parent, *frame});
        children.emplace_back();
        if (parent < 0) {
          roots.push_back(it->second);
        } else {
          children[static_cast<size_t>(parent)].push_back(it->second);
        }
      }
      Node& node = nodes[it->second];
      node.duration = SaturatingAdd(node.duration, weight);
      node.count = SaturatingAdd(node.count, sample.count);
      parent = it->second;
    }
  }
  std::vector<ProfileTree> trees;
  trees.reserve(roots.size());
  for (uint32_t root : roots) {
    ProfileTree& tree = trees.emplace_back();
    std::vector<std::pair<uint32_t, int32_t>> queue = {{root, 0}};  // (node, new parent id)
    for (size_t head = 0; head < queue.size(); ++head) {
      const auto [n, parent_id] = queue[head];
      const Node& node = nodes[n];
      int64_t children_duration = 0;
      for (uint32_t c : children[n]) {
        children_duration = SaturatingAdd(children_duration, nodes[c].duration);
      }
      ProfileElement e;
      e.id = static_cast<int32_t>(head + 1);
      e.parent_id = parent_id;
      e.frame_id = node.frame;
      e.count = ClampToInt32(node.count);
      e.duration = ClampToInt32(node.duration);
      e.duration_child_excluded =
          ClampToInt32(std::max<int64_t>(0, SaturatingSub(node.duration, children_duration)));
      tree.elements.push_back(e);
      for (uint32_t c : children[n]) queue.push_back({c, e.id});
    }
  }
  return trees;
}

}  // namespace stackhouse::analysis
