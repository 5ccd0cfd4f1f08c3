#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "analysis/flame_graph.h"
#include "export/chunk_writer.h"

// Encoders of a merged profile (analysis::FlameGraph) into the formats other tools read. Each
// walks the trees and passes its output to `sink` in chunks as it goes, so the output is never
// held whole; the memory they add is a few indices per node and per distinct frame.
//
// One sample is written per distinct stack, i.e. per tree node with a non-zero self value
// (its value minus its children's). Kernel frames (eBPF KERNEL_SPACE) are named with the
// suffix "_[k]" (flamegraph.pl's convention) in the folded and speedscope outputs; in pprof
// they keep their name and belong to the mapping named "[kernel.kallsyms]" (id 2; user frames
// of eBPF profiles belong to the unnamed mapping 1, trace profiles have no mappings). An empty
// symbol name is written as "[unknown]" in the folded and speedscope outputs.
//
// Each returns OK, or Cancelled when the sink refused output (the output is then incomplete),
// or Internal on a compression error. Thread-safe for concurrent calls on different writers.
namespace stackhouse::exporter {

// pprof: a `perftools.profiles.Profile` (proto/perftools/profile.proto), gzip-compressed. Sample
// types are the graph's value types (trace: samples/count and wall/nanoseconds; eBPF: one of
// samples/count, off_cpu/nanoseconds, switches/count). The string table, functions and
// locations are written as the walk first meets them (protobuf allows repeated fields in any
// order); one function and one location per distinct frame.
absl::Status WritePprof(const analysis::FlameGraph& graph, const ChunkSink& sink);

// Folded stacks (the input of flamegraph.pl and inferno): one line per stack,
// `root;...;leaf <value>`, with the primary value (column 0). In names, ';' becomes ':' and
// line breaks become spaces, so that every line parses back into the same frames.
absl::Status WriteFolded(const analysis::FlameGraph& graph, const ChunkSink& sink);

// speedscope's file format (https://www.speedscope.app/file-format-schema.json): shared frames
// and one "sampled" profile per value column, named after the column's type, with unit "none"
// for counts and "nanoseconds" for durations; samples are frame indices, root first. `name`
// is the file's name shown by speedscope.
absl::Status WriteSpeedscope(const analysis::FlameGraph& graph, absl::string_view name,
                             const ChunkSink& sink);

// The name of a frame as the folded and speedscope outputs write it (before escaping).
std::string FrameLabel(absl::string_view symbol, bool kernel);

}  // namespace stackhouse::exporter
