#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

// Trace segments as the server keeps them: plain values, no protobuf. Thread-compatible.
namespace stackhouse::model {

enum class SpanType { kEntry = 0, kExit = 1, kLocal = 2 };
enum class SpanLayer { kUnknown = 0, kDatabase, kRpcFramework, kHttp, kMq, kCache, kFaas };
enum class RefType { kCrossProcess = 0, kCrossThread = 1 };

// SkyWalking's names: "Entry"/"Exit"/"Local" and "Unknown"/"Database"/... (GraphQL output).
const char* SpanTypeName(SpanType type);
const char* SpanLayerName(SpanLayer layer);

struct SegmentRef {
  RefType type = RefType::kCrossProcess;
  std::string trace_id;
  std::string parent_segment_id;
  int32_t parent_span_id = 0;
  std::string parent_service;
  std::string parent_instance;
  std::string parent_endpoint;
  std::string network_address;
};

struct SpanLog {
  int64_t time_ms = 0;
  std::vector<std::pair<std::string, std::string>> data;
};

struct Span {
  int32_t span_id = 0;
  int32_t parent_span_id = -1;
  int64_t start_time_ms = 0;
  int64_t end_time_ms = 0;
  std::vector<SegmentRef> refs;
  std::string operation_name;
  std::string peer;
  SpanType type = SpanType::kEntry;
  SpanLayer layer = SpanLayer::kUnknown;
  int32_t component_id = 0;
  bool is_error = false;
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<SpanLog> logs;
  bool skip_analysis = false;
};

// One trace segment (the spans of one trace in one thread of one instance).
struct Segment {
  std::string segment_id;
  std::string trace_id;
  std::string service;           // as reported
  std::string service_instance;  // as reported
  std::vector<Span> spans;
  bool is_size_limited = false;
};

// What the server derives from a segment when it stores it (grpc-protocol.md §5.5).
struct SegmentSummary {
  std::string segment_id;
  std::string trace_id;
  std::string service_id;
  std::string instance_id;
  std::string endpoint_id;  // "" when no span names an endpoint
  std::string endpoint_name;
  int64_t start_time_ms = 0;
  int32_t latency_ms = 0;
  bool is_error = false;
};

// OAP's name length limits (grpc-protocol.md §5.3).
struct NameLimits {
  int service = 70;
  int instance = 70;
  int endpoint = 150;
};

// Derives what OAP derives from a segment (§5.5): ids from normalised names, the endpoint
// (operation name of the last span that is an entry span or has span id 0), start (earliest
// span start), latency (latest end − earliest start, capped to int32), error flag.
SegmentSummary Summarize(const Segment& segment, const NameLimits& limits);

// Normalised names of the entry spans of `segment`, distinct, in order: the endpoints it
// registers.
std::vector<std::string> EntryEndpoints(const Segment& segment, const NameLimits& limits);

}  // namespace stackhouse::model
