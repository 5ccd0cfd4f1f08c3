#include "flame_test_util.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "analysis/ebpf_stack_merge.h"
#include "analysis/thread_dump_merge.h"
#include "ebpf_test_util.h"

namespace stackhouse::analysis::testing {

absl::StatusOr<std::unique_ptr<const FlameGraph>> ParseFlameGraph(absl::string_view text) {
  std::string kind;
  struct Line {
    int64_t value;
    std::vector<NamedFrame> frames;
  };
  std::vector<Line> lines;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    if (kind.empty()) {
      kind = std::string(line);
      continue;
    }
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(line, ':');
    Line parsed;
    if (!absl::SimpleAtoi(parts.first, &parsed.value)) {
      return absl::InvalidArgumentError(absl::StrCat("bad stack line: ", line));
    }
    for (absl::string_view word :
         absl::StrSplit(line.substr(parts.first.size() + 1), ' ', absl::SkipEmpty())) {
      parsed.frames.push_back(ParseFrame(word));
    }
    lines.push_back(std::move(parsed));
  }
  auto symbols = std::make_shared<FrameTable>();
  if (kind == "trace") {
    StackTable stacks;
    std::vector<ThreadDump> dumps;
    int32_t sequence = 0;
    for (const Line& line : lines) {
      std::vector<uint32_t> ids;
      for (const NamedFrame& frame : line.frames) {
        if (frame.type == StackType::kKernelSpace) {
          return absl::InvalidArgumentError("a trace profile has no kernel frames");
        }
        ids.push_back(symbols->Intern(frame.symbol));
      }
      const uint32_t stack = stacks.Add(ids);
      for (int64_t i = 0; i < line.value; ++i, ++sequence) {
        dumps.push_back({0, sequence, int64_t{sequence} * 10, stack});
      }
    }
    absl::StatusOr<ProfileAnalysis> analysis =
        AnalyzeThreadDumps(dumps, stacks, *symbols, std::nullopt);
    if (!analysis.ok()) return analysis.status();
    return std::make_unique<const ThreadDumpFlameGraph>(std::move(analysis->trees),
                                                        std::move(symbols));
  }
  const bool off_cpu = kind == "off_cpu_count" || kind == "off_cpu_duration";
  if (!off_cpu && kind != "on_cpu") {
    return absl::InvalidArgumentError(absl::StrCat("unknown profile kind '", kind, "'"));
  }
  EbpfStackTable stacks;
  std::vector<StackTotal> totals;
  for (const Line& line : lines) {
    std::vector<EbpfFrame> frames;
    for (const NamedFrame& frame : line.frames) {
      frames.push_back({symbols->Intern(frame.symbol), frame.type});
    }
    totals.push_back({stacks.Add(frames), line.value});
  }
  absl::StatusOr<EbpfAnalysis> analysis = BuildEbpfTrees(totals, stacks, *symbols);
  if (!analysis.ok()) return analysis.status();
  return std::make_unique<const EbpfFlameGraph>(std::move(analysis->trees), std::move(symbols),
                                                off_cpu, kind == "off_cpu_duration");
}

std::string NodeText(const FlameGraph& graph, const FlameNode& node) {
  const std::string& name = graph.symbols().Signature(node.symbol);
  if (!graph.has_stack_types()) return name.empty() ? "''" : name;
  return FrameText(name, node.type);
}

}  // namespace stackhouse::analysis::testing
