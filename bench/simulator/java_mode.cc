// `stackhouse-sim java`: N simulated Java agents against one server until --run-for elapses or
// SIGINT/SIGTERM arrives, then a one-line summary on stdout.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/uuid.h"
#include "simulator/grpc_util.h"
#include "simulator/java_agent.h"
#include "simulator/java_app_model.h"
#include "simulator/modes.h"
#include "simulator/profile_task.h"
#include "simulator/sim_stats.h"
#include "simulator/stop_signal.h"

namespace stackhouse::sim {
namespace {

// The task --fake-task hands every agent, as if the server had sent it. CreateTime 0 keeps the
// agents' lastCommandTime from skipping real tasks.
ProfileTaskSpec FakeTask(const std::string& endpoint, int64_t now_ms) {
  ProfileTaskSpec task;
  task.task_id = absl::StrCat("sim-fake-task-", now_ms);
  task.endpoint_name = endpoint;
  task.duration_minutes = 1;
  task.min_duration_threshold_ms = 100;
  task.dump_period_ms = 10;
  task.max_sampling_count = 5;
  task.start_time_ms = now_ms;
  task.create_time_ms = 0;
  return task;
}

}  // namespace

int RunJavaMode(const std::vector<std::string>& args) {
  CommonFlags common;
  int64_t agents = 2;
  std::string service = "demo-svc";
  std::string endpoint = "GET:/orders";
  int64_t poll_interval_ms = 20'000;
  int64_t run_for_ms = 0;
  double request_rate = 5;
  bool fake_task = false;
  std::string language = "java";

  FlagSet flags(
      "stackhouse-sim java [flags]\n\n"
      "Plays N SkyWalking Java agents (one service, one instance each): instance\n"
      "properties and heartbeats, requests to --endpoint (and a few other endpoints)\n"
      "reported as trace segments, profiling-task polling, and thread dumps of slow\n"
      "requests while a task is active. Prints a summary line on stdout at exit:\n"
      "  agents=2 segments=.. snapshots=.. tasks=.. polls=.. errors=.. requests=.. "
      "dropped=..");
  AddCommonFlags(&flags, &common);
  flags.AddInt("agents", &agents, "number of simulated agents (JVM instances)");
  flags.AddString("service", &service, "service name the agents report");
  flags.AddString("endpoint", &endpoint,
                  "endpoint (entry span name) of the slow, profilable requests");
  flags.AddInt("poll-interval", &poll_interval_ms,
               "ms between getProfileTaskCommands polls (heartbeats: 1.5x, at most 30 s)");
  flags.AddInt("run-for", &run_for_ms, "ms to run; 0 = until SIGINT/SIGTERM");
  flags.AddDouble("request-rate", &request_rate,
                  "requests/s per agent to --endpoint; other endpoints get half as many more");
  flags.AddBool("fake-task", &fake_task,
                "test aid: give each agent a local 1-minute task on --endpoint (threshold 100 ms, "
                "dump period 10 ms, 5 segments) as if the server had sent it");
  flags.AddString("language", &language,
                  "java, or go: play the Go agent (language golang; each task's samples are "
                  "uploaded at its end as one pprof profile labelled with segment ids)");
  if (int code = ParseModeFlags(&flags, common, args); code >= 0) return code;
  if (agents < 1 || poll_interval_ms < 1 || run_for_ms < 0 || request_rate < 0 ||
      endpoint.empty() || service.empty() || (language != "java" && language != "go")) {
    std::fputs(
        "stackhouse-sim java: --agents and --poll-interval must be >= 1, --run-for and "
        "--request-rate >= 0, --service and --endpoint non-empty, --language java or go\n",
        stderr);
    return 2;
  }

  InstallStopSignalHandlers();
  const Clock& clock = SystemClock::Instance();
  JavaAppModel app(endpoint);
  SimStats stats;
  JavaAgentOptions options;
  options.service = service;
  options.token = common.token;
  options.poll_interval_ms = poll_interval_ms;
  options.heartbeat_interval_ms = std::clamp<int64_t>(poll_interval_ms * 3 / 2, 100, 30'000);
  options.primary_rate = request_rate;
  options.other_rate = request_rate / 2;
  options.go = language == "go";
  uint64_t seed = EffectiveSeed(common.seed);

  std::vector<std::unique_ptr<JavaAgent>> fleet;
  for (int64_t i = 0; i < agents; ++i) {
    fleet.push_back(std::make_unique<JavaAgent>(options, &app, static_cast<int>(i),
                                                DeriveSeed(seed, static_cast<uint64_t>(i)),
                                                MakeAgentChannel(common.target), &clock, &stats));
  }
  if (fake_task) {
    ProfileTaskSpec task = FakeTask(endpoint, clock.NowMillis());
    for (auto& agent : fleet) {
      task.serial_number = NewUuid();
      agent->InjectCommand(MakeProfileTaskCommand(task));
    }
  }
  GetLogger("sim")->info("{} {} agents of service {} against {} (seed {})", agents,
                         options.go ? "Go" : "Java", service, common.target, seed);
  for (auto& agent : fleet) agent->Start();

  WaitForStop(run_for_ms);

  for (auto& agent : fleet) agent->BeginStop();
  for (auto& agent : fleet) agent->Join();
  std::printf("%s\n", stats.Summary(static_cast<int>(agents)).c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace stackhouse::sim
