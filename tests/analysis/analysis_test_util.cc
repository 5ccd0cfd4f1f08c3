#include "analysis_test_util.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace stackhouse::analysis::testing {
namespace {

absl::Status ParseError(absl::string_view line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": '", line, "'"));
}

std::vector<absl::string_view> Words(absl::string_view text) {
  return absl::StrSplit(text, ' ', absl::SkipEmpty());
}

int32_t Saturate(int64_t value) {
  return static_cast<int32_t>(std::clamp<int64_t>(value, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max()));
}

void RenderElement(const ProfileElement& e, absl::string_view signature, std::string* out) {
  absl::StrAppend(out, e.id, " ", signature, " (p", e.parent_id, ") ", e.count, "/", e.duration,
                  "/", e.duration_child_excluded, "\n");
}

}  // namespace

absl::StatusOr<TextSnapshot> ParseSnapshot(absl::string_view line) {
  const size_t at = line.find('@');
  const size_t colon = line.find(':');
  TextSnapshot snapshot;
  if (at == absl::string_view::npos || colon == absl::string_view::npos || colon < at ||
      !absl::SimpleAtoi(line.substr(0, at), &snapshot.sequence) ||
      !absl::SimpleAtoi(line.substr(at + 1, colon - at - 1), &snapshot.dump_time_ms)) {
    return ParseError(line, "expected 'seq@time: frames'");
  }
  for (absl::string_view frame : Words(line.substr(colon + 1))) {
    snapshot.frames.emplace_back(frame);
  }
  return snapshot;
}

absl::StatusOr<AnalyzeCase> ParseCase(absl::string_view text) {
  AnalyzeCase test_case;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const std::vector<absl::string_view> words = Words(line);
    if (words[0] == "limits") {
      for (size_t i = 1; i < words.size(); ++i) {
        std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(words[i], '=');
        int32_t* field = kv.first == "batch" ? &test_case.limits.batch_size
                         : kv.first == "max" ? &test_case.limits.max_snapshots
                                             : nullptr;
        if (field == nullptr || !absl::SimpleAtoi(kv.second, field)) {
          return ParseError(line, "expected 'limits batch=<n> max=<n>'");
        }
      }
    } else if (words[0] == "segment") {
      if (words.size() != 2) return ParseError(line, "expected 'segment <name>'");
      test_case.segments.push_back({std::string(words[1]), {}});
    } else if (words[0] == "query") {
      TextQuery query;
      if (words.size() != 4 || !absl::SimpleAtoi(words[2], &query.start_ms) ||
          !absl::SimpleAtoi(words[3], &query.end_ms)) {
        return ParseError(line, "expected 'query <segment> <start> <end>'");
      }
      query.segment = std::string(words[1]);
      test_case.queries.push_back(std::move(query));
    } else {
      if (test_case.segments.empty()) return ParseError(line, "snapshot before 'segment'");
      absl::StatusOr<TextSnapshot> snapshot = ParseSnapshot(line);
      if (!snapshot.ok()) return snapshot.status();
      test_case.segments.back().snapshots.push_back(*std::move(snapshot));
    }
  }
  return test_case;
}

absl::StatusOr<std::string> RunCase(const AnalyzeCase& test_case) {
  // Step 1's store queries: the sequence window of each query.
  std::vector<QueryWindow> windows;
  for (const TextQuery& query : test_case.queries) {
    QueryWindow window;
    auto segment = std::find_if(test_case.segments.begin(), test_case.segments.end(),
                                [&](const TextSegment& s) { return s.name == query.segment; });
    if (segment == test_case.segments.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown segment ", query.segment));
    }
    window.segment_index = static_cast<uint32_t>(segment - test_case.segments.begin());
    for (const TextSnapshot& s : segment->snapshots) {
      if (s.dump_time_ms < query.start_ms || s.dump_time_ms > query.end_ms) continue;
      window.min_sequence = window.found ? std::min(window.min_sequence, s.sequence) : s.sequence;
      window.max_sequence = window.found ? std::max(window.max_sequence, s.sequence) : s.sequence;
      window.found = true;
    }
    windows.push_back(window);
  }
  absl::StatusOr<FetchPlan> plan = PlanFetch(windows, test_case.limits);
  if (!plan.ok()) return plan.status();

  // Step 3's fetch, with the dictionary encoding the store does.
  FrameTable frames;
  StackTable stacks;
  std::map<std::vector<uint32_t>, uint32_t> stack_ids;
  std::vector<ThreadDump> dumps;
  std::string out = "ranges:";
  for (const FetchRange& range : plan->ranges) {
    const TextSegment& segment = test_case.segments[range.segment_index];
    absl::StrAppend(&out, " ", segment.name, "[", range.start, ",", range.end, ")");
    std::vector<const TextSnapshot*> fetched;
    for (const TextSnapshot& s : segment.snapshots) {
      if (s.sequence >= range.start && s.sequence < range.end) fetched.push_back(&s);
    }
    std::stable_sort(
        fetched.begin(), fetched.end(),
        [](const TextSnapshot* a, const TextSnapshot* b) { return a->sequence < b->sequence; });
    for (const TextSnapshot* s : fetched) {
      std::vector<uint32_t> frame_ids;
      for (const std::string& frame : s->frames) frame_ids.push_back(frames.Intern(frame));
      auto [it, inserted] = stack_ids.try_emplace(frame_ids, 0);
      if (inserted) it->second = stacks.Add(frame_ids);
      dumps.push_back({range.segment_index, s->sequence, s->dump_time_ms, it->second});
    }
  }
  absl::StatusOr<ProfileAnalysis> analysis = AnalyzeThreadDumps(dumps, stacks, frames, plan->tip);
  if (!analysis.ok()) return analysis.status();
  absl::StrAppend(&out, "\ntip: ", analysis->tip.value_or("null"), "\n",
                  RenderTrees(*analysis, frames));
  return out;
}

std::string RenderTrees(const ProfileAnalysis& analysis, const FrameTable& frames) {
  std::string out;
  for (size_t t = 0; t < analysis.trees.size(); ++t) {
    absl::StrAppend(&out, "tree ", t + 1, "\n");
    for (const ProfileElement& e : analysis.trees[t].elements) {
      RenderElement(e, frames.Signature(e.frame_id), &out);
    }
  }
  return out;
}

std::string ReferenceTrees(const std::vector<ReferenceDump>& dumps) {
  // Step 5: first of each (segment, sequence).
  std::vector<const ReferenceDump*> kept;
  for (const ReferenceDump& dump : dumps) {
    const bool seen = std::any_of(kept.begin(), kept.end(), [&](const ReferenceDump* k) {
      return k->segment_index == dump.segment_index && k->sequence == dump.sequence;
    });
    if (!seen) kept.push_back(&dump);
  }
  // Steps 6–7.
  struct Node {
    std::string signature;
    std::vector<std::unique_ptr<Node>> children;
    std::vector<const ReferenceDump*> hits;
  };
  std::vector<std::unique_ptr<Node>> roots;
  for (const ReferenceDump* dump : kept) {
    if (dump->frames.empty()) continue;
    std::vector<std::unique_ptr<Node>>* siblings = &roots;
    for (const std::string& frame : dump->frames) {
      auto it = std::find_if(siblings->begin(), siblings->end(),
                             [&](const auto& n) { return n->signature == frame; });
      if (it == siblings->end()) {
        siblings->push_back(std::make_unique<Node>());
        siblings->back()->signature = frame;
        it = siblings->end() - 1;
      }
      (*it)->hits.push_back(dump);
      siblings = &(*it)->children;
    }
  }
  // Step 9 for one node: runs of consecutive sequences within one segment.
  auto duration = [](const Node& node) -> int32_t {
    std::vector<const ReferenceDump*> hits = node.hits;
    std::stable_sort(hits.begin(), hits.end(), [](const auto* a, const auto* b) {
      return std::pair(a->segment_index, a->sequence) < std::pair(b->segment_index, b->sequence);
    });
    absl::int128 total = 0;
    size_t run_start = 0;
    for (size_t i = 1; i <= hits.size(); ++i) {
      if (i == hits.size() || hits[i]->segment_index != hits[i - 1]->segment_index ||
          int64_t{hits[i]->sequence} != int64_t{hits[i - 1]->sequence} + 1) {
        total += absl::int128(hits[i - 1]->dump_time_ms) - hits[run_start]->dump_time_ms;
        run_start = i;
      }
    }
    const absl::int128 limit = std::numeric_limits<int64_t>::max();
    return Saturate(static_cast<int64_t>(std::clamp(total, -limit - 1, limit)));
  };
  // Steps 8 and 10.
  std::string out;
  for (size_t t = 0; t < roots.size(); ++t) {
    absl::StrAppend(&out, "tree ", t + 1, "\n");
    std::deque<std::pair<const Node*, int32_t>> queue = {{roots[t].get(), 0}};
    int32_t next_id = 1;
    while (!queue.empty()) {
      auto [node, parent_id] = queue.front();
      queue.pop_front();
      ProfileElement e;
      e.id = next_id++;
      e.parent_id = parent_id;
      e.count = Saturate(static_cast<int64_t>(node->hits.size()));
      e.duration = duration(*node);
      int64_t children = 0;
      for (const auto& child : node->children) {
        children += duration(*child);
        queue.emplace_back(child.get(), e.id);
      }
      e.duration_child_excluded = Saturate(e.duration - children);
      RenderElement(e, node->signature, &out);
    }
  }
  return out;
}

}  // namespace stackhouse::analysis::testing
