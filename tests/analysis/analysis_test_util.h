#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "analysis/fetch_plan.h"
#include "analysis/thread_dump.h"
#include "analysis/thread_dump_merge.h"

// Helpers for the analysis tests: a compact text notation for snapshots (the spec's
// `seq@dumpTime: frames root→leaf`), an in-memory stand-in for the snapshot store, and a text
// rendering of results. Thread-compatible.
namespace stackhouse::analysis::testing {

// A stored snapshot of one segment.
struct TextSnapshot {
  int32_t sequence = 0;
  int64_t dump_time_ms = 0;
  std::vector<std::string> frames;  // root first
};

struct TextSegment {
  std::string name;
  std::vector<TextSnapshot> snapshots;  // in storage order (any)
};

// One `SegmentProfileAnalyzeQuery`: a segment and an inclusive dump-time window.
struct TextQuery {
  std::string segment;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// A whole `getSegmentsProfileAnalyze` scenario.
struct AnalyzeCase {
  AnalysisLimits limits;
  std::vector<TextSegment> segments;
  std::vector<TextQuery> queries;
};

// Parses `seq@time: A B C` (an empty frame list is an empty stack).
absl::StatusOr<TextSnapshot> ParseSnapshot(absl::string_view line);

// Parses the input half of a golden case:
//   limits batch=<n> max=<n>        (optional, default 500 / 12000)
//   segment <name>                  then one snapshot per line
//   query <segment> <start> <end>   (in query order)
// `#` starts a comment line; blank lines are ignored.
absl::StatusOr<AnalyzeCase> ParseCase(absl::string_view text);

// Runs spec §4.5 end to end like the resolver will: windows from the stored snapshots, PlanFetch,
// the fetch (per range, ascending sequence), interning, AnalyzeThreadDumps. Renders:
//   ranges: s1[0,500) s1[500,1000)
//   tip: null | <text>
//   tree 1
//   1 A (p0) count/duration/excluded      (the spec's notation of case C)
absl::StatusOr<std::string> RunCase(const AnalyzeCase& test_case);

// Renders the trees of `analysis` (the `tree` blocks above).
std::string RenderTrees(const ProfileAnalysis& analysis, const FrameTable& frames);

// A plain transcription of spec §4.5 steps 5–10 (hit lists per node, strings, sorting), with
// Stackhouse's decisions; the reference the fast merge is compared with. `dumps` in fetch order.
struct ReferenceDump {
  uint32_t segment_index = 0;
  int32_t sequence = 0;
  int64_t dump_time_ms = 0;
  std::vector<std::string> frames;
};
std::string ReferenceTrees(const std::vector<ReferenceDump>& dumps);

}  // namespace stackhouse::analysis::testing
