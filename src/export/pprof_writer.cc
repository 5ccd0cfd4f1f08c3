// WritePprof: protobuf encoded by hand, field by field, with the field numbers of the generated
// code of proto/perftools/profile.proto.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "export/gzip_writer.h"
#include "export/profile_writers.h"
#include "perftools/profile.pb.h"

namespace stackhouse::exporter {
namespace {

namespace pb = perftools::profiles;

constexpr uint32_t kVarint = 0;
constexpr uint32_t kLengthDelimited = 2;
// eBPF profiles have two mappings: user space first (pprof takes mapping 1 for the main
// binary, whose name the samples do not tell), then the kernel.
constexpr uint64_t kUserMappingId = 1;
constexpr uint64_t kKernelMappingId = 2;
constexpr char kKernelMappingName[] = "[kernel.kallsyms]";

void PutVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void PutTag(int field, uint32_t wire_type, std::string* out) {
  PutVarint((static_cast<uint64_t>(field) << 3) | wire_type, out);
}

// A varint field (int64 values as their two's complement, as protobuf does); 0 is the default
// and is left out.
void PutVarintField(int field, uint64_t value, std::string* out) {
  if (value == 0) return;
  PutTag(field, kVarint, out);
  PutVarint(value, out);
}

void PutBytesField(int field, absl::string_view bytes, std::string* out) {
  PutTag(field, kLengthDelimited, out);
  PutVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

// Writes the Profile's top-level fields as the walk needs them.
class PprofEncoder {
 public:
  PprofEncoder(const analysis::FlameGraph& graph, ChunkWriter* out)
      : graph_(graph),
        out_(*out->buffer()),
        writer_(*out),
        string_of_symbol_(graph.symbols().size(), -1),
        location_of_frame_(2 * graph.symbols().size(), 0) {}

  void WriteHeader() {
    AddString("");  // string_table[0] must be the empty string
    for (const analysis::ValueType& type : graph_.value_types()) {
      std::string message;
      PutVarintField(pb::ValueType::kTypeFieldNumber, AddString(type.type), &message);
      PutVarintField(pb::ValueType::kUnitFieldNumber, AddString(type.unit), &message);
      PutBytesField(pb::Profile::kSampleTypeFieldNumber, message, &out_);
    }
    if (graph_.has_stack_types()) {
      WriteMapping(kUserMappingId, 0);
      WriteMapping(kKernelMappingId, AddString(kKernelMappingName));
    }
  }

  // One Sample for the stack ending at step.path.back(), if its self value is not all zero.
  bool WriteSample(const analysis::StackStep& step) {
    bool any = false;
    for (int64_t v : step.self) any = any || v != 0;
    if (!any) return writer_.MaybeFlush();
    locations_.clear();
    for (auto it = step.path.rbegin(); it != step.path.rend(); ++it) {
      PutVarint(LocationOf(graph_.Node(step.tree, *it)), &locations_);  // leaf first
    }
    values_.clear();
    for (int64_t v : step.self) PutVarint(static_cast<uint64_t>(v), &values_);
    sample_.clear();
    PutBytesField(pb::Sample::kLocationIdFieldNumber, locations_, &sample_);
    PutBytesField(pb::Sample::kValueFieldNumber, values_, &sample_);
    PutBytesField(pb::Profile::kSampleFieldNumber, sample_, &out_);
    return writer_.MaybeFlush();
  }

 private:
  // Appends `s` to the string table; returns its index.
  int64_t AddString(absl::string_view s) {
    PutBytesField(pb::Profile::kStringTableFieldNumber, s, &out_);
    return next_string_++;
  }

  void WriteMapping(uint64_t id, int64_t filename) {
    std::string mapping;
    PutVarintField(pb::Mapping::kIdFieldNumber, id, &mapping);
    PutVarintField(pb::Mapping::kFilenameFieldNumber, static_cast<uint64_t>(filename), &mapping);
    PutVarintField(pb::Mapping::kHasFunctionsFieldNumber, 1, &mapping);
    PutBytesField(pb::Profile::kMappingFieldNumber, mapping, &out_);
  }

  // The location (and function, same id) of a node's frame, written on first use.
  uint64_t LocationOf(const analysis::FlameNode& node) {
    const bool kernel = graph_.has_stack_types() && node.type == analysis::StackType::kKernelSpace;
    uint64_t& location = location_of_frame_[2 * size_t{node.symbol} + (kernel ? 1 : 0)];
    if (location != 0) return location;
    location = ++last_location_;
    int64_t& name = string_of_symbol_[node.symbol];
    if (name < 0) name = AddString(graph_.symbols().Signature(node.symbol));
    std::string function;
    PutVarintField(pb::Function::kIdFieldNumber, location, &function);
    PutVarintField(pb::Function::kNameFieldNumber, static_cast<uint64_t>(name), &function);
    PutVarintField(pb::Function::kSystemNameFieldNumber, static_cast<uint64_t>(name), &function);
    PutBytesField(pb::Profile::kFunctionFieldNumber, function, &out_);
    std::string line;
    PutVarintField(pb::Line::kFunctionIdFieldNumber, location, &line);
    std::string message;
    PutVarintField(pb::Location::kIdFieldNumber, location, &message);
    if (graph_.has_stack_types()) {
      PutVarintField(pb::Location::kMappingIdFieldNumber,
                     kernel ? kKernelMappingId : kUserMappingId, &message);
    }
    PutBytesField(pb::Location::kLineFieldNumber, line, &message);
    PutBytesField(pb::Profile::kLocationFieldNumber, message, &out_);
    return location;
  }

  const analysis::FlameGraph& graph_;
  std::string& out_;
  ChunkWriter& writer_;
  int64_t next_string_ = 0;
  std::vector<int64_t> string_of_symbol_;    // symbol → string index, -1 before first use
  std::vector<uint64_t> location_of_frame_;  // 2 × symbol + kernel → location id, 0 before
  uint64_t last_location_ = 0;
  std::string locations_, values_, sample_;  // scratch, reused per sample
};

}  // namespace

absl::Status WritePprof(const analysis::FlameGraph& graph, const ChunkSink& sink) {
  GzipWriter gzip(sink);
  ChunkSink compress = [&gzip](absl::string_view chunk) { return gzip.Write(chunk); };
  ChunkWriter out(compress);
  PprofEncoder encoder(graph, &out);
  encoder.WriteHeader();
  const bool complete = analysis::WalkStacks(
      graph, [&encoder](const analysis::StackStep& step) { return encoder.WriteSample(step); });
  if (complete && out.Flush()) gzip.Finish();
  if (!gzip.status().ok()) return gzip.status();
  if (!complete) return absl::CancelledError("the receiver stopped reading");
  return absl::OkStatus();
}

}  // namespace stackhouse::exporter
