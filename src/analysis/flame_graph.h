#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "analysis/ebpf_stack.h"
#include "analysis/ebpf_stack_merge.h"
#include "analysis/thread_dump.h"
#include "analysis/thread_dump_merge.h"

// One read-only view of a merged profile (a forest of stack trees with values), whatever merge
// produced it: what the exports (src/export) and the diff (flame_diff.h) read.
namespace stackhouse::analysis {

// What one value column measures, in pprof's terms (its ValueType): e.g. {"samples", "count"}
// or {"off_cpu", "nanoseconds"}.
struct ValueType {
  std::string type;
  std::string unit;

  friend bool operator==(const ValueType&, const ValueType&) = default;
};

// One node of a tree: a frame reached by one path from the tree's root.
struct FlameNode {
  int32_t parent = -1;                     // index of the parent in the same tree; -1 for the root
  uint32_t symbol = 0;                     // id in FlameGraph::symbols()
  StackType type = StackType::kUserSpace;  // meaningful only if FlameGraph::has_stack_types()
};

// A forest of merged stacks. Nodes of a tree are indexed 0..tree_size-1 in breadth-first order,
// the root first, so a parent always precedes its children. Values are totals over the node's
// subtree (a node's self value is its total minus its children's totals).
// Implementations are immutable after construction and thread-safe.
class FlameGraph {
 public:
  virtual ~FlameGraph() = default;

  // What was profiled, for messages: "trace", "eBPF ON_CPU" or "eBPF OFF_CPU".
  virtual absl::string_view kind() const = 0;
  // The value columns, at least one. Column 0 is the primary value: the one the diff compares
  // and the single-valued exports (folded) write.
  virtual absl::Span<const ValueType> value_types() const = 0;
  // True if frames have a stack type (eBPF: kernel or user space).
  virtual bool has_stack_types() const = 0;
  // The names of the symbols that nodes refer to.
  virtual const FrameTable& symbols() const = 0;

  virtual size_t tree_count() const = 0;
  virtual size_t tree_size(size_t tree) const = 0;
  // Requires tree < tree_count() and index < tree_size(tree).
  virtual FlameNode Node(size_t tree, size_t index) const = 0;
  // The total of `column` (< value_types().size()) over the node's subtree.
  virtual int64_t Value(size_t tree, size_t index, size_t column) const = 0;
};

// One node of a depth-first walk (WalkStacks).
struct StackStep {
  size_t tree = 0;
  // Node indices from the tree's root to the visited node (path.back()).
  absl::Span<const uint32_t> path;
  // Per column: the node's total minus its children's totals (saturated to int64), i.e. the
  // value of the stacks that end exactly at this node.
  absl::Span<const int64_t> self;
};

// Visits every node of every tree depth-first, pre-order (a parent before its children,
// children in index order), trees in order. Stops early when `visit` returns false, and then
// returns false. Memory: two 32-bit indices per node of the largest tree, plus the path.
bool WalkStacks(const FlameGraph& graph, absl::FunctionRef<bool(const StackStep&)> visit);

// The sum over the roots of `column` (saturated to int64): the graph's total.
int64_t GraphTotal(const FlameGraph& graph, size_t column);

// The unit a person reads for column 0 of `graph`: the type for counts ("samples",
// "switches"), else the unit ("nanoseconds").
std::string PrimaryUnit(const FlameGraph& graph);

// The trees of a trace-profiling analysis (thread_dump_merge.h). Columns: {"samples", "count"}
// (the dump count) and {"wall", "nanoseconds"} (the duration, ms × 10^6, so that a node's self
// value is its durationChildExcluded). No stack types.
class ThreadDumpFlameGraph final : public FlameGraph {
 public:
  ThreadDumpFlameGraph(std::vector<ProfileTree> trees, std::shared_ptr<const FrameTable> frames);

  absl::string_view kind() const override { return "trace"; }
  absl::Span<const ValueType> value_types() const override { return value_types_; }
  bool has_stack_types() const override { return false; }
  const FrameTable& symbols() const override { return *frames_; }
  size_t tree_count() const override { return trees_.size(); }
  size_t tree_size(size_t tree) const override { return trees_[tree].elements.size(); }
  FlameNode Node(size_t tree, size_t index) const override;
  int64_t Value(size_t tree, size_t index, size_t column) const override;

 private:
  const std::vector<ProfileTree> trees_;
  const std::shared_ptr<const FrameTable> frames_;
  const std::vector<ValueType> value_types_;
};

// The trees of an eBPF analysis (ebpf_stack_merge.h), with one column whose meaning the caller
// knows (it chose the samples' values): ON_CPU {"samples", "count"}; OFF_CPU with the DURATION
// aggregate {"off_cpu", "nanoseconds"}, with COUNT {"switches", "count"}. Has stack types.
class EbpfFlameGraph final : public FlameGraph {
 public:
  // `off_cpu`: the samples are Off-CPU ones; `by_duration`: their values are durations.
  EbpfFlameGraph(std::vector<EbpfTree> trees, std::shared_ptr<const FrameTable> symbols,
                 bool off_cpu, bool by_duration);

  absl::string_view kind() const override { return kind_; }
  absl::Span<const ValueType> value_types() const override { return value_types_; }
  bool has_stack_types() const override { return true; }
  const FrameTable& symbols() const override { return *symbols_; }
  size_t tree_count() const override { return trees_.size(); }
  size_t tree_size(size_t tree) const override { return trees_[tree].elements.size(); }
  FlameNode Node(size_t tree, size_t index) const override;
  int64_t Value(size_t tree, size_t index, size_t column) const override;

 private:
  const std::vector<EbpfTree> trees_;
  const std::shared_ptr<const FrameTable> symbols_;
  const std::string kind_;
  const std::vector<ValueType> value_types_;
};

}  // namespace stackhouse::analysis
