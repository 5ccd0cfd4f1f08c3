#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "metrics/meter_analyzer.h"
#include "metrics/mqe.h"

// Rover's sampled slow / failing HTTP requests (logs tagged LOG_KIND=NET_PROFILING_SAMPLED_TRACE)
// → the sampled records MQE's top_n reads and a relation row, as the OAP's LAL rule
// network-profiling-slow-trace computes them (addendum §3.1), for any layer. Pure; thread-safe.
namespace stackhouse::metrics {

inline constexpr char kSampledTraceLogKind[] = "NET_PROFILING_SAMPLED_TRACE";

// The parts of one log the rule reads.
struct SampledTraceLog {
  std::string service;
  std::string instance;
  int64_t timestamp_ms = 0;
  std::string trace_id;  // of the log's trace context
  std::string body;      // the JSON body
};

struct SampledTrace {
  std::string record;  // sampled_slow_trace_record / sampled_status_4xx_… / sampled_status_5xx_…
  std::string entity_id;                          // client process id "-" server process id
  SampledRecord value;                            // uri, trace id, latency, time
  RelationRow relation;                           // minute of `now_ms`
  std::vector<VirtualProcess> virtual_processes;  // the peers it names that are virtual
};

// The record of `log`; nullopt when the rule drops it silently (no trace id, reason or detect
// point, no uri, service or instance, a time <= 0). InvalidArgument when the body is not a
// JSON object (naming the problem).
absl::StatusOr<std::optional<SampledTrace>> ParseSampledTrace(const SampledTraceLog& log,
                                                              int64_t now_ms);

}  // namespace stackhouse::metrics
