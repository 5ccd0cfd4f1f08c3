// WriteFolded and FrameLabel.
#include <string>

#include "absl/strings/str_cat.h"
#include "export/profile_writers.h"

namespace stackhouse::exporter {

std::string FrameLabel(absl::string_view symbol, bool kernel) {
  std::string label = symbol.empty() ? std::string("[unknown]") : std::string(symbol);
  if (kernel) label += "_[k]";
  return label;
}

absl::Status WriteFolded(const analysis::FlameGraph& graph, const ChunkSink& sink) {
  ChunkWriter out(sink);
  std::string& text = *out.buffer();
  const bool typed = graph.has_stack_types();
  const bool complete = analysis::WalkStacks(graph, [&](const analysis::StackStep& step) {
    if (step.self[0] == 0) return out.MaybeFlush();
    for (size_t i = 0; i < step.path.size(); ++i) {
      const analysis::FlameNode node = graph.Node(step.tree, step.path[i]);
      if (i > 0) text.push_back(';');
      for (char c : FrameLabel(graph.symbols().Signature(node.symbol),
                               typed && node.type == analysis::StackType::kKernelSpace)) {
        text.push_back(c == ';' ? ':' : (c == '\n' || c == '\r') ? ' ' : c);
      }
    }
    absl::StrAppend(&text, " ", step.self[0], "\n");
    return out.MaybeFlush();
  });
  if (!complete || !out.Flush()) return absl::CancelledError("the receiver stopped reading");
  return absl::OkStatus();
}

}  // namespace stackhouse::exporter
