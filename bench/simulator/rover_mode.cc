// `stackhouse-sim rover`: one simulated SkyWalking Rover against one server until --run-for
// elapses or SIGINT/SIGTERM arrives, then a one-line summary on stdout.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/logging.h"
#include "simulator/grpc_util.h"
#include "simulator/modes.h"
#include "simulator/rover_agent.h"
#include "simulator/rover_process.h"
#include "simulator/stop_signal.h"

namespace stackhouse::sim {
namespace {

// A version 4 UUID drawn from `rng`, so that --seed repeats it.
std::string RandomUuid(Rng& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hi = (rng() & ~0xF000ull) | 0x4000ull;
  uint64_t lo = (rng() & ~(0xC000ull << 48)) | (0x8000ull << 48);
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    uint64_t word = i < 16 ? hi : lo;
    out.push_back(kHex[(word >> (60 - 4 * (i % 16))) & 0xF]);
  }
  return out;
}

}  // namespace

int RunRoverMode(const std::vector<std::string>& args) {
  CommonFlags common;
  RoverDiscoveryOptions discovery;
  RoverAgentOptions options;
  int64_t processes = discovery.processes;
  std::string app = "java";
  int64_t run_for_ms = 0;
  int64_t distinct = options.distinct_stacks;

  FlagSet flags(
      "stackhouse-sim rover [flags]\n\n"
      "Plays one SkyWalking Rover (eBPF agent) on a Kubernetes node: reports the processes\n"
      "it finds in the pods of one service (reportProcesses, keepAlive), polls profiling tasks\n"
      "(queryTasks) and, while an ON_CPU or OFF_CPU task runs, streams sampled kernel and\n"
      "user stacks every flush interval (collectProfilingData), reports the continuous\n"
      "profiling meters of its registered processes every meter interval (collectBatch) and,\n"
      "while a NETWORK task runs, every network interval the network meters of the task's\n"
      "processes, sampled slow and 5xx requests (LogReportService), their trace segments and\n"
      "the events attached to their spans (SpanAttachedEventReportService). Prints a summary\n"
      "on stdout:\n"
      "  rover processes=3 registered=6 tasks=.. polls=.. uploads=.. messages=.. samples=.. "
      "meter_reports=.. meters=.. network_reports=.. sampled_requests=.. policy_polls=.. "
      "policy_changes=.. triggers=.. errors=..");
  AddCommonFlags(&flags, &common);
  flags.AddInt("processes", &processes,
               "processes found; with --mesh, every second one is the previous pod's Envoy");
  flags.AddString("service", &discovery.service,
                  "k8s service of the pods; Rover reports it as <service>.<namespace>");
  flags.AddString("namespace", &discovery.namespace_name, "namespace of the pods");
  flags.AddString("app", &app, "application process kind: java or go");
  flags.AddBool("mesh", &discovery.mesh,
                "pods have an istio-proxy sidecar (MESH/MESH_DP entities); --mesh=false: none");
  flags.AddBool("k8s-service", &discovery.k8s_service,
                "pods belong to a k8s Service (K8S_SERVICE entities)");
  flags.AddInt("heartbeat-interval", &options.heartbeat_interval_ms,
               "ms between process reports/keepAlives (Rover: 20 s)");
  flags.AddInt("check-interval", &options.check_interval_ms,
               "ms between queryTasks calls (Rover: 10 s)");
  flags.AddInt("flush-interval", &options.flush_interval_ms,
               "ms between collectProfilingData uploads while tasks run (Rover: 5 s)");
  flags.AddInt("meter-interval", &options.meter_interval_ms,
               "ms between meter reports of the registered processes (collectBatch: continuous "
               "profiling meters; Rover: 5 s); 0 = none");
  flags.AddInt("network-interval", &options.network_interval_ms,
               "ms between network profiling reports while a NETWORK task runs (Rover: 2 s)");
  flags.AddInt("run-for", &run_for_ms, "ms to run; 0 = until SIGINT/SIGTERM");
  flags.AddInt("distinct-stacks", &distinct, "distinct stacks per process and target type");
  flags.AddString("fake-task", &options.fake_task,
                  "test aid: ON_CPU or OFF_CPU gives the first registered process a local 60 s "
                  "task as if the server had sent it (the server does not know it)");
  flags.AddBool("continuous", &options.continuous,
                "play continuous profiling: fetch the services' policies (queryPolicies) after "
                "every queryTasks, check their rules against a bursting load every "
                "--continuous-check-interval, report the watched meters and trigger tasks "
                "(reportProfilingTask) whose stacks are then uploaded");
  flags.AddInt("continuous-check-interval", &options.continuous_check_interval_ms,
               "ms between continuous-profiling checks (Rover: 5 s)");
  flags.AddInt("continuous-duration", &options.continuous_task_duration_s,
               "seconds a triggered task profiles (Rover: 600)");
  flags.AddInt("silence", &options.continuous_silence_ms,
               "ms after a trigger during which the same process and target (NETWORK: instance) "
               "does not trigger again (Rover: 20 min)");
  flags.AddInt("burst-every", &options.burst_every_ms,
               "ms: every process's load bursts above the usual thresholds once per this period");
  flags.AddInt("burst-length", &options.burst_ms, "ms each burst lasts; 0 = never");
  int64_t pod_processes = 0, remote_peers = options.network_shape.remote_peers;
  flags.AddInt("pod-processes", &pod_processes,
               "processes per pod (the application, its Envoy with --mesh, then further "
               "application processes); 0 = the application and, with --mesh, its Envoy");
  flags.AddInt("remote-peers", &remote_peers,
               "remote addresses each process of a NETWORK task is a client of");
  flags.AddBool("chain", &options.network_shape.chain,
                "in a NETWORK task, connect each process only to its neighbours in the pod "
                "(a large pod), not to every other process");
  if (int code = ParseModeFlags(&flags, common, args); code >= 0) return code;
  if (app == "java") {
    discovery.app = ProcessKind::kJava;
  } else if (app == "go") {
    discovery.app = ProcessKind::kGo;
  } else {
    std::fprintf(stderr, "stackhouse-sim rover: --app must be java or go, not '%s'\n", app.c_str());
    return 2;
  }
  if (processes < 1 || processes > 10'000 || options.heartbeat_interval_ms < 1 ||
      options.check_interval_ms < 1 || options.flush_interval_ms < 1 ||
      options.meter_interval_ms < 0 || options.network_interval_ms < 1 || run_for_ms < 0 ||
      distinct < 1 || options.continuous_check_interval_ms < 1000 ||
      options.continuous_task_duration_s < 1 || options.continuous_task_duration_s > 86'400 ||
      options.continuous_silence_ms < 0 || options.burst_every_ms < 1000 || options.burst_ms < 0 ||
      options.burst_ms > options.burst_every_ms || pod_processes < 0 || pod_processes > 10'000 ||
      remote_peers < 0 || remote_peers > 10'000 || discovery.service.empty() ||
      discovery.namespace_name.empty() || (!discovery.mesh && !discovery.k8s_service) ||
      !(options.fake_task.empty() || options.fake_task == "ON_CPU" ||
        options.fake_task == "OFF_CPU")) {
    std::fputs(
        "stackhouse-sim rover: --processes must be within [1, 10000], intervals and "
        "--distinct-stacks >= 1, --meter-interval and --run-for >= 0, --service and "
        "--namespace non-empty, --mesh or --k8s-service on, --fake-task empty, ON_CPU or "
        "OFF_CPU, --continuous-check-interval and --burst-every >= 1000, "
        "--continuous-duration within [1, 86400], --silence >= 0, --burst-length within [0, "
        "--burst-every], --pod-processes and --remote-peers within [0, 10000]\n",
        stderr);
    return 2;
  }
  discovery.processes = static_cast<int>(processes);
  discovery.pod_processes = static_cast<int>(pod_processes);
  options.network_shape.remote_peers = static_cast<int>(remote_peers);
  options.token = common.token;
  options.distinct_stacks = static_cast<int>(distinct);

  InstallStopSignalHandlers();
  const Clock& clock = SystemClock::Instance();
  uint64_t seed = EffectiveSeed(common.seed);
  Rng rng(seed);
  std::string agent_id = RandomUuid(rng);
  std::string host_ip = absl::StrCat("10.0.", std::uniform_int_distribution<int>(0, 15)(rng), ".",
                                     std::uniform_int_distribution<int>(2, 254)(rng));
  std::vector<RoverProcess> found = DiscoverProcesses(discovery, rng);
  std::string service = absl::StrCat(discovery.service, ".", discovery.namespace_name);
  GetLogger("sim")->info(
      "rover {} on node {}: {} processes of service {} (service id {}.1) against {} (seed {})",
      agent_id, host_ip, found.size(), service, absl::Base64Escape(service), common.target, seed);
  for (const RoverProcess& p : found) {
    GetLogger("sim")->info("  pid {} {} ({}) in pod {}, container {}", p.pid, p.exe,
                           ProcessKindName(p.kind), p.pod, p.container);
  }

  RoverAgent rover(options, RoverProcessRegistry(std::move(found), agent_id, host_ip),
                   DeriveSeed(seed, 1), MakeAgentChannel(common.target), &clock);
  rover.Run(run_for_ms);

  const RoverRunStats& stats = rover.stats();
  std::printf(
      "%s\n",
      absl::StrCat("rover processes=", rover.registry().processes().size(),
                   " registered=", rover.registry().registered(), " tasks=", stats.tasks.size(),
                   " polls=", stats.polls, " uploads=", stats.uploads, " messages=", stats.messages,
                   " samples=", stats.samples, " meter_reports=", stats.meter_reports,
                   " meters=", stats.meter_samples, " network_reports=", stats.network_reports,
                   " sampled_requests=", stats.sampled_requests,
                   " policy_polls=", stats.policy_polls, " policy_changes=", stats.policy_changes,
                   " triggers=", stats.triggers, " errors=", stats.errors)
          .c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace stackhouse::sim
