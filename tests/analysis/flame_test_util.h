#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "analysis/flame_graph.h"

// Merged profiles written as text, for the tests of code that reads FlameGraphs (the diff, the
// exports). Thread-compatible.
namespace stackhouse::analysis::testing {

// Parses a profile:
//   <kind>                      trace | on_cpu | off_cpu_count | off_cpu_duration
//   <value>: <frames...>        one stack per line, root first (frames as ParseFrame of
//                               ebpf_test_util.h: `k:name` is a kernel frame, '' the empty name)
// `#` starts a comment line; blank lines are ignored. The stacks go through the real merges:
// eBPF stacks, in order, through BuildEbpfTrees with their values; a trace stack becomes
// <value> thread dumps with consecutive sequences, 10 ms apart, all stacks in line order (so
// that runs of equal paths have durations), through AnalyzeThreadDumps.
// Errors: InvalidArgument on a malformed line, kernel frames in a trace profile, or a merge
// error.
absl::StatusOr<std::unique_ptr<const FlameGraph>> ParseFlameGraph(absl::string_view text);

// A node's frame as ParseFrame reads it: `k:name` for kernel frames, '' for the empty name.
std::string NodeText(const FlameGraph& graph, const FlameNode& node);

}  // namespace stackhouse::analysis::testing
