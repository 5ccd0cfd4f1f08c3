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

}  // namespace stackhouse::model
