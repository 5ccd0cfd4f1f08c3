#include "model/ebpf.h"

namespace stackhouse::model {

const char* DetectTypeName(DetectType type) {
  switch (type) {
    case DetectType::kVm:
      return "VM";
    case DetectType::kKubernetes:
      return "KUBERNETES";
    case DetectType::kVirtual:
      return "VIRTUAL";
    case DetectType::kUndefined:
      break;
  }
  return "UNDEFINED";
}

const char* EbpfTargetTypeName(EbpfTargetType type) {
  switch (type) {
    case EbpfTargetType::kOnCpu:
      return "ON_CPU";
    case EbpfTargetType::kOffCpu:
      return "OFF_CPU";
    case EbpfTargetType::kNetwork:
      return "NETWORK";
  }
  return "ON_CPU";
}

const char* EbpfTriggerTypeName(EbpfTriggerType type) {
  return type == EbpfTriggerType::kContinuousProfiling ? "CONTINUOUS_PROFILING" : "FIXED_TIME";
}

const char* ContinuousMonitorTypeName(ContinuousMonitorType type) {
  switch (type) {
    case ContinuousMonitorType::kProcessCpu:
      return "PROCESS_CPU";
    case ContinuousMonitorType::kProcessThreadCount:
      return "PROCESS_THREAD_COUNT";
    case ContinuousMonitorType::kSystemLoad:
      return "SYSTEM_LOAD";
    case ContinuousMonitorType::kHttpErrorRate:
      return "HTTP_ERROR_RATE";
    case ContinuousMonitorType::kHttpAvgResponseTime:
      return "HTTP_AVG_RESPONSE_TIME";
  }
  return "PROCESS_CPU";
}

}  // namespace stackhouse::model
