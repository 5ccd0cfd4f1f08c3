#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "model/ebpf.h"

// Continuous-profiling policies and the causes of the tasks Rover triggers
// (grpc-protocol.md §3.4, §5.9; graphql-protocol.md §6). Plain values; thread-compatible.
namespace stackhouse::model {

// The monitor type named `name` ("PROCESS_CPU", ...), or nullopt.
std::optional<ContinuousMonitorType> ParseContinuousMonitorType(absl::string_view name);
// The target type named `name` ("ON_CPU", "OFF_CPU", "NETWORK"), or nullopt.
std::optional<EbpfTargetType> ParseEbpfTargetType(absl::string_view name);

// One check of a policy: trigger when `count` of the last `period` seconds reach `threshold`.
struct ContinuousCheckItem {
  ContinuousMonitorType type = ContinuousMonitorType::kProcessCpu;
  std::string threshold;  // an integer, as text
  int64_t period = 0;     // seconds
  int64_t count = 0;
  std::optional<std::vector<std::string>> uri_list;
  std::optional<std::string> uri_regex;
};

// What to profile when one of `items` fires.
struct ContinuousTarget {
  EbpfTargetType type = EbpfTargetType::kOnCpu;
  std::vector<ContinuousCheckItem> items;
};

// A service's policy. Targets are in enum declaration order (ON_CPU, OFF_CPU, NETWORK), the
// items of each in monitor-type order; empty targets disable the checks.
struct ContinuousPolicy {
  std::string service_id;
  std::string uuid;  // ContinuousPolicyUuid(ContinuousConfigurationJson(targets))
  std::vector<ContinuousTarget> targets;
  int64_t update_time_ms = 0;
};

// OAP's validation of a policy request (graphql-protocol.md §6.1 step 2), in input order: the
// first error's message, or nullopt when the targets are valid.
std::optional<std::string> ValidateContinuousTargets(const std::vector<ContinuousTarget>& targets);

// `targets` sorted into the policy's order (targets, then items, by enum order).
std::vector<ContinuousTarget> NormalizeContinuousTargets(std::vector<ContinuousTarget> targets);

// The stored configuration as Gson writes it (§6.1 step 4), e.g.
// `{"targetCheckers":{"ON_CPU":{"PROCESS_CPU":{"threshold":"80","period":10,"count":3}}}}`;
// `targets` must be normalized.
std::string ContinuousConfigurationJson(const std::vector<ContinuousTarget>& targets);

// One entry of the ServiceWithPolicyJSON array Rover receives (§3.4): the policy of
// `service_name`, or with `policy` null `{"ServiceName":…,"UUID":""}` (drop the policy).
std::string ContinuousPolicyCommandEntry(absl::string_view service_name,
                                         const ContinuousPolicy* policy);

// Java's `(long) (value * 100)`: truncated toward zero, NaN → 0, saturating at the int64 range.
int64_t ContinuousCauseValue(double value);

// The message of a cause (§5.9.2 step 3), e.g. `PROCESS_CPU: current 85.23% >= threshold
// 80.00%`, from the raw (not ×100) values; `uri` (may be empty) is appended as ` on <uri>`.
std::string ContinuousCauseMessage(ContinuousMonitorType type, double threshold, double current,
                                   absl::string_view uri);

}  // namespace stackhouse::model
