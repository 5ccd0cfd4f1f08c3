#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/entities.h"

// eBPF profiling domain types (graphql-protocol.md §5.0): processes Rover finds, fixed-time
// tasks, schedules and stack samples. Plain values; thread-compatible.
namespace stackhouse::model {

enum class DetectType { kUndefined = 0, kVm = 1, kKubernetes = 2, kVirtual = 3 };

// "UNDEFINED" / "VM" / "KUBERNETES" / "VIRTUAL".
const char* DetectTypeName(DetectType type);

// A process Rover reported.
struct Process {
  std::string id;  // ProcessId(name, instance_id)
  std::string name;
  std::string service_id;
  std::string service_name;
  std::string instance_id;
  std::string instance_name;
  std::string layer;
  std::string agent_id;  // the last Rover that reported it
  DetectType detect_type = DetectType::kUndefined;
  bool profiling_supported = false;
  KeyValueList properties;          // merged key-wise, later values win
  std::vector<std::string> labels;  // as reported
  int64_t first_seen_ms = 0;
  int64_t last_ping_ms = 0;
};

enum class EbpfTargetType { kOnCpu = 1, kOffCpu = 2, kNetwork = 3 };
enum class EbpfTriggerType { kFixedTime = 1, kContinuousProfiling = 2 };

const char* EbpfTargetTypeName(EbpfTargetType type);    // "ON_CPU", ...
const char* EbpfTriggerTypeName(EbpfTriggerType type);  // "FIXED_TIME", ...

// What a continuous-profiling policy watches (OAP's ContinuousProfilingMonitorType ordinals).
enum class ContinuousMonitorType {
  kProcessCpu = 1,
  kProcessThreadCount = 2,
  kSystemLoad = 3,
  kHttpErrorRate = 4,
  kHttpAvgResponseTime = 5,
};

// "PROCESS_CPU", ...
const char* ContinuousMonitorTypeName(ContinuousMonitorType type);

// One cause of a task Rover triggered (grpc-protocol.md §5.9.2): values are ×100, truncated.
struct ContinuousCause {
  ContinuousMonitorType type = ContinuousMonitorType::kProcessCpu;
  bool uri = false;        // a URI cause; else a single-value cause
  bool uri_regex = false;  // with `uri`: `uri_text` is a regex, else a path
  std::string uri_text;
  int64_t threshold = 0;
  int64_t current = 0;
  std::string message;
};

// What a task Rover triggered carries besides its task fields.
struct ContinuousTrigger {
  std::string process_id;
  std::string process_name;
  std::vector<ContinuousCause> causes;
};

// One stored eBPF task record; records with the same logical id merge (§5.0).
struct EbpfTask {
  std::string logical_id;  // the TaskId Rover sees
  std::string service_id;
  std::vector<std::string> process_labels;
  std::string instance_id;  // empty for service-level tasks
  int64_t start_time_ms = 0;
  EbpfTriggerType trigger_type = EbpfTriggerType::kFixedTime;
  int64_t fixed_trigger_duration_s = 0;
  EbpfTargetType target_type = EbpfTargetType::kOnCpu;
  int64_t create_time_ms = 0;
  int64_t last_update_time_ms = 0;
  std::string extension_config_json;
  std::optional<ContinuousTrigger> continuous;  // set for CONTINUOUS_PROFILING tasks
};

// A process's profiling run of a task.
struct EbpfSchedule {
  std::string schedule_id;  // EbpfScheduleId(task, process, start)
  std::string task_id;
  std::string process_id;
  int64_t start_time_ms = 0;
  int64_t end_time_ms = 0;
};

enum class StackType { kKernel = 0, kUser = 1 };

// One frame of an eBPF stack.
struct EbpfSymbol {
  std::string name;
  StackType type = StackType::kUser;

  friend bool operator==(const EbpfSymbol&, const EbpfSymbol&) = default;
};

// One sample as Rover uploads it, stack root first (outermost user frame ... innermost
// kernel frame, grpc-protocol.md §5.8 and graphql-protocol.md §5.7 step 3).
struct EbpfSample {
  int64_t upload_time_ms = 0;
  EbpfTargetType target_type = EbpfTargetType::kOnCpu;
  std::vector<EbpfSymbol> stack;
  int64_t dump_count = 0;    // ON_CPU
  int64_t switch_count = 0;  // OFF_CPU
  int64_t duration_ns = 0;   // OFF_CPU
};

}  // namespace stackhouse::model
