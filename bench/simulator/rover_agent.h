#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "common/clock.h"
#include "grpcpp/channel.h"
#include "simulator/grpc_util.h"
#include "simulator/java_app_model.h"
#include "simulator/rover_client.h"
#include "simulator/rover_continuous.h"
#include "simulator/rover_meters.h"
#include "simulator/rover_network.h"
#include "simulator/rover_process.h"
#include "simulator/rover_stacks.h"
#include "simulator/rover_task.h"

namespace stackhouse::sim {

struct RoverAgentOptions {
  std::string token;                       // `authentication` metadata; empty = none
  int64_t heartbeat_interval_ms = 20'000;  // process_discovery.heartbeat_period
  int64_t check_interval_ms = 10'000;      // profiling.check_interval
  int64_t flush_interval_ms = 5'000;       // profiling.flush_interval
  int64_t call_timeout_ms = 10'000;        // deadline of every call
  int distinct_stacks = 400;               // distinct stacks per process and target
  // Test aid: once a process is registered, hand its first entry a local task of this target
  // ("ON_CPU" or "OFF_CPU"; empty = none) running `fake_task_duration_s`, as if queryTasks had
  // returned it. The server does not know the task.
  std::string fake_task;
  int64_t fake_task_duration_s = 60;
  // Meters (continuous and network profiling) of every registered process this often, on one
  // collectBatch stream (Rover checks continuous-profiling meters every 5 s; its network
  // profiling reports every profiling.task.network.report_interval, 2 s); 0 = none.
  int64_t meter_interval_ms = 5'000;
  // Continuous profiling (grpc-protocol.md §4.4.3), off unless `continuous`: policies fetched
  // right after every queryTasks, rules checked every `continuous_check_interval_ms` against a
  // ContinuousLoad bursting for `burst_ms` once every `burst_every_ms`, triggered tasks reported
  // and sampled like received ones. The RoverMeterModel's rover_con_p_* meters are then replaced
  // by the checker's.
  bool continuous = false;
  int64_t continuous_check_interval_ms = 5'000;  // continuous.check_interval
  int64_t continuous_task_duration_s = 600;      // continuous.trigger.execute_duration
  int64_t continuous_silence_ms = 1'200'000;     // continuous.trigger.silence_duration
  int64_t burst_every_ms = 120'000;
  int64_t burst_ms = 20'000;
  // While a NETWORK task runs: its processes' network meters, sampled requests, their trace
  // segments and attached events this often (profiling.task.network.report_interval).
  int64_t network_interval_ms = 2'000;
  // The connections each process of a NETWORK task reports (remote peers, chained pod).
  ConnectionShape network_shape;
};

// What one run did, for the summary line.
struct RoverRunStats {
  int64_t polls = 0;             // queryTasks calls
  int64_t uploads = 0;           // acknowledged collectProfilingData streams that carried data
  int64_t messages = 0;          // EBPFProfilingData messages acknowledged
  int64_t samples = 0;           // ON_CPU samples + OFF_CPU switches acknowledged
  int64_t errors = 0;            // failed calls
  int64_t meter_reports = 0;     // acknowledged collectBatch streams
  int64_t meter_samples = 0;     // MeterData elements acknowledged
  int64_t network_reports = 0;   // network-profiling report rounds fully acknowledged
  int64_t sampled_requests = 0;  // sampled requests (logs) in them
  absl::flat_hash_set<std::string> tasks;  // ids of the tasks started

  // Continuous profiling.
  int64_t policy_polls = 0;    // queryPolicies calls
  int64_t policy_changes = 0;  // services whose policy was replaced or dropped
  int64_t triggers = 0;        // continuous tasks the server acknowledged (reportProfilingTask)
};

// One simulated SkyWalking Rover (grpc-protocol.md §4.4.1-4.4.2) on the calling thread:
// reportProcesses/keepAlive every heartbeat (a full report every 10th), queryTasks every check
// interval with latestUpdateTime from 0, tasks parsed and run like Rover's task manager, and
// every flush interval, while it holds tasks, one collectProfilingData stream with the deltas
// each running task sampled since the last flush (the first message of each task carries
// `task`). ON_CPU processes are sampled every 9 ms per busy core, OFF_CPU at their switch rate,
// stacks drawn from a StackModel per process and target. Every meter interval, one collectBatch
// stream with one MeterDataCollection per registered process (RoverMeterModel, its first
// registered entity's service, instance and layer; continuous-profiling meters only). While a
// NETWORK task runs, every network interval the RoverNetworkModel report of the task's
// processes (network meters, sampled requests, their segments and attached events). With
// `continuous`, also the policies of its services after every queryTasks and, every continuous
// check interval, a ContinuousChecker round: the watched values (collectBatch), the triggered
// tasks (reportProfilingTask), run like received ones. Failed calls are counted, logged and
// simply happen again at their next period; data of a failed flush is lost, as in Rover.
// Thread-compatible.
class RoverAgent {
 public:
  RoverAgent(const RoverAgentOptions& options, RoverProcessRegistry registry, uint64_t seed,
             std::shared_ptr<grpc::Channel> channel, const Clock* clock);

  // Runs until a stop signal arrives or, when `run_for_ms` > 0, that long; then flushes what the
  // running tasks sampled so far (Rover itself would drop it).
  void Run(int64_t run_for_ms);

  const RoverRunStats& stats() const { return stats_; }
  const RoverProcessRegistry& registry() const { return registry_; }

 private:
  void Heartbeat(int64_t now_ms);
  void CheckTasks(int64_t now_ms);
  void HandleCommand(const skywalking::v3::Command& command, int64_t now_ms);
  void InjectFakeTask(int64_t now_ms);
  void Flush(int64_t now_ms);
  void ReportMeters(int64_t now_ms);
  void CheckPolicies(int64_t now_ms);
  void CheckContinuous(int64_t now_ms);
  void StartTriggered(const ContinuousChecker::Trigger& trigger, int64_t now_ms);
  // The first registered entity of every registered process, in process order.
  std::vector<MeterProcess> RegisteredProcesses() const;
  void ReportNetwork(int64_t now_ms);
  const StackModel& ModelFor(size_t process, EbpfTarget target);
  void CountFailure(absl::string_view method, const absl::Status& status, int64_t now_ms);

  const RoverAgentOptions options_;
  const Clock* const clock_;
  const std::string name_;  // "rover <id prefix>", for logs
  RoverProcessRegistry registry_;
  RoverClient client_;
  RoverTaskBoard board_;
  Rng rng_;
  uint64_t seed_;
  std::map<std::pair<size_t, EbpfTarget>, std::unique_ptr<StackModel>> models_;
  RoverMeterModel meters_;
  int64_t meter_round_ = 0;
  ContinuousLoad load_;
  ContinuousPolicyBook policies_;
  ContinuousChecker checker_;
  RoverNetworkProfiler network_;
  RoverNetworkModel network_model_;
  RoverNetworkClient network_client_;
  CallFailureLog failures_;
  RoverRunStats stats_;
  bool fake_task_pending_;
};

}  // namespace stackhouse::sim
