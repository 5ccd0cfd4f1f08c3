#include "ebpf_test_util.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <tuple>
#include <utility>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

void RenderElement(int32_t id, int32_t parent_id, absl::string_view name, StackType type,
                   int64_t dump_count, std::string* out) {
  absl::StrAppend(out, id, " ", FrameText(name, type), " (p", parent_id, ") ", dump_count, "\n");
}

}  // namespace

NamedFrame ParseFrame(absl::string_view word) {
  if (absl::ConsumePrefix(&word, "k:")) return {std::string(word), StackType::kKernelSpace};
  return {word == "''" ? "" : std::string(word), StackType::kUserSpace};
}

std::string FrameText(absl::string_view name, StackType type) {
  if (type == StackType::kKernelSpace) return absl::StrCat("k:", name);
  return name.empty() ? "''" : std::string(name);
}

absl::StatusOr<TextEbpfSample> ParseEbpfSample(absl::string_view line) {
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return ParseError(line, "expected 'time value: frames'");
  const std::vector<absl::string_view> head = Words(line.substr(0, colon));
  TextEbpfSample sample;
  if (head.size() != 2 || !absl::SimpleAtoi(head[0], &sample.upload_time_ms)) {
    return ParseError(line, "expected 'time value: frames'");
  }
  const size_t slash = head[1].find('/');
  sample.off_cpu = slash != absl::string_view::npos;
  const bool value_ok = sample.off_cpu
                            ? absl::SimpleAtoi(head[1].substr(0, slash), &sample.switch_count) &&
                                  absl::SimpleAtoi(head[1].substr(slash + 1), &sample.duration)
                            : absl::SimpleAtoi(head[1], &sample.dump_count);
  if (!value_ok) return ParseError(line, "expected '<dumpCount>' or '<switchCount>/<duration>'");
  for (absl::string_view word : Words(line.substr(colon + 1))) {
    sample.stack.push_back(ParseFrame(word));
  }
  return sample;
}

absl::StatusOr<EbpfCase> ParseEbpfCase(absl::string_view text) {
  EbpfCase test_case;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const std::vector<absl::string_view> words = Words(line);
    if (words[0] == "aggregate") {
      if (words.size() != 2 || (words[1] != "COUNT" && words[1] != "DURATION")) {
        return ParseError(line, "expected 'aggregate COUNT|DURATION'");
      }
      test_case.aggregate_duration = words[1] == "DURATION";
    } else if (words[0] == "schedule") {
      if (words.size() != 2) return ParseError(line, "expected 'schedule <name>'");
      test_case.schedules.push_back({std::string(words[1]), {}});
    } else if (words[0] == "query") {
      test_case.schedule_ids.clear();
      for (size_t i = 1; i < words.size(); ++i) test_case.schedule_ids.emplace_back(words[i]);
    } else if (words[0] == "range") {
      EbpfTimeRange range;
      if (words.size() != 3 || !absl::SimpleAtoi(words[1], &range.start_ms) ||
          !absl::SimpleAtoi(words[2], &range.end_ms)) {
        return ParseError(line, "expected 'range <start> <end>'");
      }
      test_case.time_ranges.push_back(range);
    } else {
      if (test_case.schedules.empty()) return ParseError(line, "sample before 'schedule'");
      absl::StatusOr<TextEbpfSample> sample = ParseEbpfSample(line);
      if (!sample.ok()) return sample.status();
      test_case.schedules.back().samples.push_back(*std::move(sample));
    }
  }
  return test_case;
}

std::string RunEbpfCase(const EbpfCase& test_case) {
  // The store: a dictionary of distinct stacks and symbols.
  FrameTable symbols;
  EbpfStackTable stacks;
  std::map<std::vector<EbpfFrame>, uint32_t> stack_ids;
  struct Stored {
    int64_t upload_time_ms;
    uint32_t stack_id;
    size_t schedule;  // index into test_case.schedules
    const TextEbpfSample* sample;
  };
  std::vector<Stored> stored;
  for (size_t schedule = 0; schedule < test_case.schedules.size(); ++schedule) {
    for (const TextEbpfSample& sample : test_case.schedules[schedule].samples) {
      std::vector<EbpfFrame> frames;
      for (const NamedFrame& frame : sample.stack) {
        frames.push_back({symbols.Intern(frame.symbol), frame.type});
      }
      auto [it, inserted] = stack_ids.try_emplace(frames, 0);
      if (inserted) it->second = stacks.Add(frames);
      stored.push_back({sample.upload_time_ms, it->second, schedule, &sample});
    }
  }

  // Step 1.
  absl::StatusOr<std::vector<ReadWindow>> windows = SplitTimeRanges(test_case.time_ranges);
  if (!windows.ok()) return absl::StrCat("error: ", windows.status().ToString(), "\n");
  std::string out = "windows:";
  for (const ReadWindow& window : *windows) {
    absl::StrAppend(&out, " [", window.start_ms, ",", window.end_ms, ")");
  }

  // Steps 2–3: per window, the queried schedules' records by (upload time, stack, schedule).
  auto queried = [&](size_t schedule) {
    return std::find(test_case.schedule_ids.begin(), test_case.schedule_ids.end(),
                     test_case.schedules[schedule].name) != test_case.schedule_ids.end();
  };
  std::vector<EbpfSample> samples;
  for (const ReadWindow& window : *windows) {
    std::vector<const Stored*> read;
    for (const Stored& s : stored) {
      if (queried(s.schedule) && s.upload_time_ms >= window.start_ms &&
          s.upload_time_ms < window.end_ms) {
        read.push_back(&s);
      }
    }
    std::stable_sort(read.begin(), read.end(), [&](const Stored* a, const Stored* b) {
      return std::tie(a->upload_time_ms, a->stack_id, test_case.schedules[a->schedule].name) <
             std::tie(b->upload_time_ms, b->stack_id, test_case.schedules[b->schedule].name);
    });
    for (const Stored* s : read) {
      const TextEbpfSample& sample = *s->sample;
      const int64_t value = !sample.off_cpu                ? sample.dump_count
                            : test_case.aggregate_duration ? sample.duration
                                                           : sample.switch_count;
      samples.push_back({s->stack_id, value});
    }
  }
  absl::StrAppend(&out, "\nsamples: ", samples.size(), "\n");

  absl::StatusOr<EbpfAnalysis> analysis = MergeEbpfSamples(samples, stacks, symbols);
  if (!analysis.ok()) return absl::StrCat(out, "error: ", analysis.status().ToString(), "\n");
  return absl::StrCat(out, RenderEbpfTrees(*analysis, symbols));
}

std::string RenderEbpfTrees(const EbpfAnalysis& analysis, const FrameTable& symbols) {
  std::string out;
  for (size_t t = 0; t < analysis.trees.size(); ++t) {
    absl::StrAppend(&out, "tree ", t + 1, "\n");
    for (const EbpfElement& e : analysis.trees[t].elements) {
      RenderElement(e.id, e.parent_id, symbols.Signature(e.symbol_id), e.type, e.dump_count, &out);
    }
  }
  return out;
}

std::string ReferenceEbpfTrees(const std::vector<ReferenceEbpfSample>& samples) {
  // Steps 5–6.
  struct Node {
    NamedFrame frame;
    std::vector<std::unique_ptr<Node>> children;
    absl::int128 dump_count = 0;
  };
  std::vector<std::unique_ptr<Node>> roots;
  for (const ReferenceEbpfSample& sample : samples) {
    if (sample.stack.empty()) continue;
    std::vector<std::unique_ptr<Node>>* siblings = &roots;
    for (const NamedFrame& frame : sample.stack) {
      auto it = std::find_if(siblings->begin(), siblings->end(),
                             [&](const auto& n) { return n->frame == frame; });
      if (it == siblings->end()) {
        siblings->push_back(std::make_unique<Node>());
        siblings->back()->frame = frame;
        it = siblings->end() - 1;
      }
      (*it)->dump_count += sample.value;
      siblings = &(*it)->children;
    }
  }
  // Step 7.
  const absl::int128 max = std::numeric_limits<int64_t>::max();
  const absl::int128 min = std::numeric_limits<int64_t>::min();
  std::string out;
  for (size_t t = 0; t < roots.size(); ++t) {
    absl::StrAppend(&out, "tree ", t + 1, "\n");
    std::deque<std::pair<const Node*, int32_t>> queue = {{roots[t].get(), 0}};
    int32_t next_id = 1;
    while (!queue.empty()) {
      auto [node, parent_id] = queue.front();
      queue.pop_front();
      const int32_t id = next_id++;
      for (const auto& child : node->children) queue.emplace_back(child.get(), id);
      RenderElement(id, parent_id, node->frame.symbol, node->frame.type,
                    static_cast<int64_t>(std::clamp(node->dump_count, min, max)), &out);
    }
  }
  return out;
}

}  // namespace stackhouse::analysis::testing
