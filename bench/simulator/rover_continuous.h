#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/Command.pb.h"
#include "ebpf/profiling/Continuous.pb.h"
#include "language-agent/Meter.pb.h"
#include "simulator/rover_task.h"

namespace stackhouse::sim {

// What a continuous-profiling policy item watches (grpc-protocol.md §3.4).
enum class MonitorType {
  kProcessCpu,           // PROCESS_CPU, percent 0-100
  kThreadCount,          // PROCESS_THREAD_COUNT
  kSystemLoad,           // SYSTEM_LOAD, the node's 1-minute load average
  kHttpErrorRate,        // HTTP_ERROR_RATE, percent of 5xx responses
  kHttpAvgResponseTime,  // HTTP_AVG_RESPONSE_TIME, ms
};

// "PROCESS_CPU", ... as the policy JSON spells it.
absl::string_view MonitorTypeName(MonitorType type);

// The meter Rover reports for `type`: "rover_con_p_" + the lower-case name.
std::string MonitorMeterName(MonitorType type);

// One item of a policy target as Rover keeps it after parsing.
struct ContinuousItem {
  MonitorType type = MonitorType::kProcessCpu;
  double threshold = 0;
  int64_t period_s = 0;  // the sliding window
  int64_t count = 0;     // seconds of the window at or above the threshold that trigger
  std::vector<std::string> uri_list;
  std::string uri_regex;

  // The `uri` label values of this item's series: the fixed URIs, else the regex, else "global".
  // Empty for the monitor types without URIs.
  std::vector<std::string> Uris() const;
};

struct ContinuousTarget {
  EbpfTarget target = EbpfTarget::kOnCpu;
  std::vector<ContinuousItem> items;
};

// The policy of one service, replaced as a whole when its uuid changes.
struct ContinuousPolicy {
  std::string service;
  std::string uuid;
  std::vector<ContinuousTarget> targets;  // in the JSON's order
};

// Parses one `ContinuousProfilingPolicyQuery` command (grpc-protocol.md §3.4) as Rover does: the
// name and a non-empty `ServiceWithPolicyJSON` array are required; an entry without `Profiling`
// (or with an empty UUID) drops the service's policy; a target other than ON_CPU, OFF_CPU or
// NETWORK and a monitor type Rover does not know are errors (Rover would crash); an item with an
// empty threshold, Period <= 0, Count <= 0, Count > Period, or a threshold that does not parse
// (integers for PROCESS_CPU and PROCESS_THREAD_COUNT, numbers for the rest) is silently ignored.
// InvalidArgument names the first problem.
absl::StatusOr<std::vector<ContinuousPolicy>> ParsePolicyCommand(
    const skywalking::v3::Command& command);

// The policies one simulated Rover holds, by service name. Thread-compatible.
class ContinuousPolicyBook {
 public:
  // The queryPolicies request: one entry per name of `services` (deduplicated, in order) with the
  // uuid of the policy held for it, "" when none.
  skywalking::v3::ContinuousProfilingPolicyQuery Query(
      const std::vector<std::string>& services) const;

  // Applies a queryPolicies answer: no command leaves everything as is; otherwise exactly one
  // policy command is expected (anything else is an error, as for Rover). Returns the names of
  // the services whose policy changed (replaced or dropped).
  absl::StatusOr<std::vector<std::string>> Apply(const skywalking::v3::Commands& reply);

  // The policy of `service`, or nullptr.
  const ContinuousPolicy* Find(absl::string_view service) const;

 private:
  std::map<std::string, ContinuousPolicy, std::less<>> policies_;
};

// The values Rover would fetch every second for one process: a baseline with noise, and now and
// then a burst well above the usual thresholds (CPU over 80 %, threads over 150, load over 5,
// error rate over 10 %, response time over 500 ms). Each `every_ms` period of the epoch has one
// burst of `burst_ms` at an offset drawn from the seed, the process and the period; values are a
// pure function of (seed, process key, type, uri, second), so a rerun with the same seed sees the
// same load. System load is the node's: the same for every process. Thread-safe (immutable).
class ContinuousLoad {
 public:
  ContinuousLoad(uint64_t seed, int64_t every_ms, int64_t burst_ms);

  double Value(uint64_t process_key, MonitorType type, absl::string_view uri, int64_t second) const;

  // Whether `second` is within a burst of that process and type.
  bool InBurst(uint64_t process_key, MonitorType type, int64_t second) const;

 private:
  uint64_t seed_;
  int64_t every_s_;
  int64_t burst_s_;
};

// The process a check looks at: its server-assigned id, entity and load key.
struct ContinuousProcess {
  uint64_t key = 0;
  std::string id;
  std::string service;
  std::string instance;
  std::string process_name;
  std::string layer;
};

// Rover's continuous-profiling checker without I/O (pkg/profiling/continuous): per process, item
// and uri a window of per-second values; at each check, an item matches when at least `count` of
// the last `period` seconds are >= its threshold; a target whose items match triggers one task
// with every matching item as a cause, unless the process (ON_CPU/OFF_CPU) or its instance
// (NETWORK) already triggered that target less than `silence_ms` ago (Rover's silence period
// counts from the task's start, which covers a task still running). A policy change (uuid)
// resets its service's windows. Thread-compatible.
class ContinuousChecker {
 public:
  struct Options {
    int64_t task_duration_s = 600;   // continuous.trigger.execute_duration
    int64_t silence_ms = 1'200'000;  // continuous.trigger.silence_duration
  };

  // One task to report: the reportProfilingTask request, and who it is for.
  struct Trigger {
    skywalking::v3::ContinuousProfilingReport report;
    std::string process_id;
    EbpfTarget target = EbpfTarget::kOnCpu;
  };

  // What one check produced.
  struct Result {
    // One data set per process with at least one watched monitor type: the last second's value
    // of every watched series (labels process_name, layer[, uri]), service, instance and
    // timestamp on the first element.
    std::vector<skywalking::v3::MeterDataCollection> meters;
    std::vector<Trigger> triggers;
  };

  // The value of one watched series of a process at one second (Unix seconds); `uri` is "" for
  // the monitor types without URIs.
  using ValueSource = std::function<double(const ContinuousProcess& process, MonitorType type,
                                           absl::string_view uri, int64_t second)>;

  ContinuousChecker(Options options, ValueSource values);

  // Samples every second in (last check, now_ms] (at most the longest period back) of every
  // process whose service holds a policy in `book`, then evaluates the rules at `now_ms`.
  // Triggers count as started at `now_ms` (for the silence period) whether or not the caller
  // manages to report them: a failed report is not retried.
  Result Check(const std::vector<ContinuousProcess>& processes, const ContinuousPolicyBook& book,
               int64_t now_ms);

 private:
  struct Window {
    std::string uuid;                                // of the policy the values were taken for
    std::deque<std::pair<int64_t, double>> seconds;  // (second, value), ascending
  };

  Options options_;
  ValueSource values_;
  int64_t last_second_ = -1;
  // Key: process id, target, item index, uri.
  std::map<std::tuple<std::string, int, size_t, std::string>, Window> windows_;
  // Key: process id (ON_CPU/OFF_CPU) or "instance:" + instance name (NETWORK), and target.
  absl::flat_hash_map<std::pair<std::string, int>, int64_t> last_trigger_ms_;
};

}  // namespace stackhouse::sim
