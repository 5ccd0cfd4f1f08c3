// WriteSpeedscope: speedscope's JSON file format, written in passes over the trees (frames, then
// per value column its samples and its weights) with the GraphQL engine's streaming JsonWriter.
#include <cstdint>
#include <string>
#include <vector>

#include "common/json_writer.h"
#include "common/saturating.h"
#include "export/profile_writers.h"

namespace stackhouse::exporter {
namespace {

constexpr char kSchema[] = "https://www.speedscope.app/file-format-schema.json";

}  // namespace

absl::Status WriteSpeedscope(const analysis::FlameGraph& graph, absl::string_view name,
                             const ChunkSink& sink) {
  ChunkWriter out(sink);
  JsonWriter json(out.buffer());
  const bool typed = graph.has_stack_types();
  auto frame_key = [&](const analysis::StackStep& step, size_t i) {
    const analysis::FlameNode node = graph.Node(step.tree, step.path[i]);
    const bool kernel = typed && node.type == analysis::StackType::kKernelSpace;
    return 2 * size_t{node.symbol} + (kernel ? 1 : 0);
  };

  json.BeginObject();
  json.Key("$schema");
  json.String(kSchema);
  json.Key("name");
  json.String(name);
  json.Key("exporter");
  json.String("stackhouse");
  json.Key("activeProfileIndex");
  json.Int(0);
  // Pass 1: one shared frame per distinct (symbol, stack type), numbered in order of first use.
  std::vector<int64_t> frame_of(2 * graph.symbols().size(), -1);
  int64_t frames = 0;
  json.Key("shared");
  json.BeginObject();
  json.Key("frames");
  json.BeginArray();
  bool complete = analysis::WalkStacks(graph, [&](const analysis::StackStep& step) {
    int64_t& frame = frame_of[frame_key(step, step.path.size() - 1)];
    if (frame >= 0) return out.MaybeFlush();
    frame = frames++;
    const analysis::FlameNode node = graph.Node(step.tree, step.path.back());
    json.BeginObject();
    json.Key("name");
    json.String(FrameLabel(graph.symbols().Signature(node.symbol),
                           typed && node.type == analysis::StackType::kKernelSpace));
    json.EndObject();
    return out.MaybeFlush();
  });
  json.EndArray();
  json.EndObject();

  json.Key("profiles");
  json.BeginArray();
  const auto types = graph.value_types();
  for (size_t column = 0; complete && column < types.size(); ++column) {
    json.BeginObject();
    json.Key("type");
    json.String("sampled");
    json.Key("name");
    json.String(types[column].type);
    json.Key("unit");
    json.String(types[column].unit == "nanoseconds" ? "nanoseconds" : "none");
    json.Key("startValue");
    json.Int(0);
    // Pass 2: the stacks with a value in this column, root first.
    json.Key("samples");
    json.BeginArray();
    complete = analysis::WalkStacks(graph, [&](const analysis::StackStep& step) {
      if (step.self[column] == 0) return out.MaybeFlush();
      json.BeginArray();
      for (size_t i = 0; i < step.path.size(); ++i) json.Int(frame_of[frame_key(step, i)]);
      json.EndArray();
      return out.MaybeFlush();
    });
    json.EndArray();
    // Pass 3: their weights, in the same order.
    int64_t total = 0;
    json.Key("weights");
    json.BeginArray();
    complete = complete && analysis::WalkStacks(graph, [&](const analysis::StackStep& step) {
                 if (step.self[column] == 0) return out.MaybeFlush();
                 json.Int(step.self[column]);
                 total = SaturatingAdd(total, step.self[column]);
                 return out.MaybeFlush();
               });
    json.EndArray();
    json.Key("endValue");
    json.Int(total);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  if (!complete || !out.Flush()) return absl::CancelledError("the receiver stopped reading");
  return absl::OkStatus();
}

}  // namespace stackhouse::exporter
