// Crash test: rounds of SkyWalking Rover load (concurrent collectProfilingData streams for a task
// the operator created) against the real binary, each ended by SIGKILL at a random moment while
// streams are open. After every restart on the same data directory, every message of every
// stream the server acknowledged must be found through /graphql (found >= acknowledged; streams
// cut by the kill may have stored part of themselves). Bounded by default (3 rounds, a few
// seconds of load); for long runs by hand, see docs/operations.md ("Crash test"):
//   build/tests/integration/crash_test --rounds 50 --streams 8
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "nlohmann/json.hpp"
#include "server_process.h"
#include "simulator/flags.h"
#include "simulator/grpc_util.h"
#include "simulator/rover_client.h"
#include "simulator/rover_stacks.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {
namespace {

using json = nlohmann::json;
namespace v3 = skywalking::v3;

// The load and the kills; flags of the same names on the command line.
struct CrashOptions {
  int64_t rounds = 3;
  int64_t streams = 4;
  int64_t messages_per_stream = 50;  // each stream is one collectProfilingData call
  int64_t min_kill_ms = 300;         // SIGKILL this long after the load started, at the least
  int64_t max_kill_ms = 1500;        // and at the most
  int64_t seed = 1;
};

CrashOptions options;

constexpr char kRover[] = "rover-crash";
constexpr char kService[] = "crash-svc.default";
constexpr char kInstance[] = "crash-pod-0";
constexpr char kProcess[] = "java";

json Data(const std::pair<int, std::string>& response) {
  EXPECT_EQ(response.first, 200) << response.second;
  if (response.first != 200) return json();
  json parsed = json::parse(response.second, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded() || parsed.contains("errors")) << response.second;
  return parsed.is_object() ? parsed["data"] : json();
}

// What the load of one round was told by the server.
struct RoundLoad {
  int64_t streams_ok = 0;      // streams answered OK
  int64_t streams_failed = 0;  // streams that failed: cut by the kill, one per thread at most
  int64_t acknowledged = 0;    // samples (dumpCount) in the streams answered OK
};

// Sends streams of `options.messages_per_stream` ON_CPU messages (dumpCount 1 each, stacks from
// a fixed pool) over `options.streams` threads, one stream after another, until `stop` or the
// thread's first failed stream, counting what was acknowledged.
RoundLoad RunLoad(const ServerProcess& server, const std::string& task_id,
                  const std::string& process_id, int64_t start_ms, const sim::StackModel& stacks,
                  std::atomic<bool>* stop) {
  std::atomic<int64_t> ok{0}, failed{0}, acknowledged{0};
  std::vector<std::thread> threads;
  for (int64_t k = 0; k < options.streams; ++k) {
    threads.emplace_back([&, k] {
      sim::RoverClient client(sim::MakeAgentChannel(server.GrpcTarget()), "", 10000);
      v3::EBPFProfilingData message;
      int64_t next = k;
      while (!stop->load()) {
        const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        absl::Status status = client.CollectProfilingData(
            options.messages_per_stream,
            [&](int64_t j) -> const v3::EBPFProfilingData& {
              message = stacks.Message(static_cast<size_t>(next++) % stacks.stacks().size(), 1, 1);
              if (j == 0) {
                auto* task = message.mutable_task();
                task->set_taskid(task_id);
                task->set_processid(process_id);
                task->set_profilingstarttime(start_ms);
                task->set_currenttime(now_ms);
              }
              return message;
            },
            /*coalesce=*/true);
        if (status.ok()) {
          ok.fetch_add(1);
          acknowledged.fetch_add(options.messages_per_stream);
        } else {
          // The kill: this thread's stream was cut (or refused while the server went down).
          failed.fetch_add(1);
          break;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return RoundLoad{ok.load(), failed.load(), acknowledged.load()};
}

// The samples the server has for `task_id`: the dumpCount of every tree's roots, over all of
// the task's schedules and all time. -1 when a query fails.
int64_t FoundSamples(const ServerProcess& server, const std::string& task_id) {
  json schedules = Data(
      server.GraphQL("query($t: ID!) { s: queryEBPFProfilingSchedules(taskId: $t) { scheduleId } }",
                     json{{"t", task_id}}.dump()));
  if (!schedules.is_object() || !schedules["s"].is_array()) return -1;
  json ids = json::array();
  for (const json& schedule : schedules["s"]) ids.push_back(schedule["scheduleId"]);
  if (ids.empty()) return 0;
  json analysis = Data(server.GraphQL(
      "query($ids: [ID!]!, $r: [EBPFProfilingAnalyzeTimeRange!]!) { a: "
      "analysisEBPFProfilingResult(scheduleIdList: $ids, timeRanges: $r, aggregateType: COUNT) "
      "{ tip trees { elements { parentId dumpCount } } } }",
      json{{"ids", ids}, {"r", {{{"start", 0}, {"end", 9999999999999}}}}}.dump()));
  if (!analysis.is_object() || !analysis["a"]["trees"].is_array()) return -1;
  int64_t found = 0;
  for (const json& tree : analysis["a"]["trees"]) {
    for (const json& element : tree["elements"]) {
      if (element["parentId"] == "0") found += element["dumpCount"].get<int64_t>();
    }
  }
  return found;
}

TEST(CrashTest, NothingAcknowledgedIsLostAcrossKills) {
  TestDir dir;
  auto server = std::make_unique<ServerProcess>(dir.path() + "/data");
  ASSERT_TRUE(server->Start()) << server->Log();

  // Rover registers its process; the operator creates an ON_CPU task for it; Rover gets it.
  sim::RoverClient rover(sim::MakeAgentChannel(server->GrpcTarget()), "", 10000);
  v3::EBPFProcessReportList report;
  report.set_ebpfagentid(kRover);
  auto* k8s = report.add_processes()->mutable_k8sprocess();
  k8s->mutable_entity()->set_layer("K8S_SERVICE");
  k8s->mutable_entity()->set_servicename(kService);
  k8s->mutable_entity()->set_instancename(kInstance);
  k8s->mutable_entity()->set_processname(kProcess);
  k8s->mutable_entity()->add_labels("mesh-application");
  k8s->set_pid(42);
  auto* support = k8s->add_properties();
  support->set_key("support_ebpf_profiling");
  support->set_value("true");
  absl::StatusOr<v3::EBPFReportProcessDownstream> downstream = rover.ReportProcesses(report);
  ASSERT_TRUE(downstream.ok()) << downstream.status();
  ASSERT_EQ(downstream->processes_size(), 1);
  const std::string process_id = downstream->processes(0).processid();
  json created = Data(server->GraphQL(
      "mutation($r: EBPFProfilingTaskFixedTimeCreationRequest!) { "
      "t: createEBPFProfilingFixedTimeTask(request: $r) { status errorReason id } }",
      json{{"r",
            {{"serviceId", model::ServiceId(kService)},
             {"processLabels", json::array()},
             {"startTime", 0},
             {"duration", 3600},
             {"targetType", "ON_CPU"}}}}
          .dump()));
  ASSERT_TRUE(created.is_object() && created["t"]["status"] == true) << created.dump();
  const std::string task_id = created["t"]["id"];
  v3::EBPFProfilingTaskQuery query;
  query.set_roverinstanceid(kRover);
  absl::StatusOr<v3::Commands> commands = rover.QueryTasks(query);
  ASSERT_TRUE(commands.ok()) << commands.status();
  ASSERT_EQ(commands->commands_size(), 1);
  int64_t start_ms = 0;
  for (const auto& kv : commands->commands(0).args()) {
    if (kv.key() == "TaskStartTime") start_ms = std::stoll(kv.value());
  }
  ASSERT_GT(start_ms, 0);

  const sim::StackModel stacks(sim::ProcessKind::kJava, sim::EbpfTarget::kOnCpu, 64,
                               static_cast<uint64_t>(options.seed));
  std::mt19937_64 rng(static_cast<uint64_t>(options.seed));
  std::uniform_int_distribution<int64_t> kill_after(options.min_kill_ms, options.max_kill_ms);
  int64_t acknowledged = 0, streams_ok = 0, streams_cut = 0, found = 0;
  for (int64_t round = 1; round <= options.rounds; ++round) {
    std::atomic<bool> stop{false};
    RoundLoad load;
    std::thread driver(
        [&] { load = RunLoad(*server, task_id, process_id, start_ms, stacks, &stop); });
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after(rng)));
    EXPECT_EQ(server->Stop(SIGKILL), std::optional<int>(-SIGKILL));
    stop.store(true);
    driver.join();
    acknowledged += load.acknowledged;
    streams_ok += load.streams_ok;
    streams_cut += load.streams_failed;

    ASSERT_TRUE(server->Start()) << "round " << round << ": no restart\n" << server->Log();
    found = FoundSamples(*server, task_id);
    std::fprintf(stderr, "round %ld: acknowledged=%ld (+%ld in %ld streams, %ld cut) found=%ld\n",
                 static_cast<long>(round), static_cast<long>(acknowledged),
                 static_cast<long>(load.acknowledged), static_cast<long>(load.streams_ok),
                 static_cast<long>(load.streams_failed), static_cast<long>(found));
    ASSERT_GE(found, acknowledged) << "round " << round << ": acknowledged samples are missing";
  }
  EXPECT_GT(acknowledged, 0);
  std::printf("%s\n",
              absl::StrFormat("crash rounds=%d streams=%d acknowledged_streams=%d "
                              "cut_streams=%d acknowledged=%d found=%d lost=%d",
                              options.rounds, options.streams, streams_ok, streams_cut,
                              acknowledged, found, std::max<int64_t>(0, acknowledged - found))
                  .c_str());
  EXPECT_EQ(server->Stop(SIGTERM), std::optional<int>(0)) << server->Log();
}

}  // namespace
}  // namespace stackhouse::testing

// gtest's flags first, then the crash test's own (--rounds, --streams, ...; --help lists them).
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  using stackhouse::testing::options;
  stackhouse::sim::FlagSet flags("crash_test [gtest flags] [flags]");
  flags.AddInt("rounds", &options.rounds, "rounds of load, SIGKILL and restart");
  flags.AddInt("streams", &options.streams, "concurrent collectProfilingData streams");
  flags.AddInt("messages-per-stream", &options.messages_per_stream,
               "messages per stream (one dumpCount each)");
  flags.AddInt("min-kill-ms", &options.min_kill_ms, "earliest SIGKILL after the load started");
  flags.AddInt("max-kill-ms", &options.max_kill_ms, "latest SIGKILL after the load started");
  flags.AddInt("seed", &options.seed, "seed of the kill moments and the stacks");
  absl::Status parsed = flags.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok() || flags.help_requested() || options.rounds < 1 || options.streams < 1 ||
      options.messages_per_stream < 1 || options.min_kill_ms < 0 ||
      options.max_kill_ms < options.min_kill_ms) {
    std::fprintf(stderr, "%s\n%s", parsed.ok() ? "" : std::string(parsed.message()).c_str(),
                 flags.Usage().c_str());
    return flags.help_requested() ? 0 : 2;
  }
  return RUN_ALL_TESTS();
}
