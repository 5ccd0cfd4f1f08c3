// Continuous profiling end to end against the real binary, playing SkyWalking Rover: the
// operator's policy reaches Rover at its next poll, Rover reports the task it triggered and
// uploads its samples (with a SIGKILL restart in the middle), and the operator sees the task
// with its causes, the trigger counts and the merged tree.
#include <signal.h>

#include "ebpf/profiling/Continuous.grpc.pb.h"
#include "ebpf/profiling/Process.grpc.pb.h"
#include "ebpf/profiling/Profile.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "nlohmann/json.hpp"
#include "server_process.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {
namespace {

using json = nlohmann::json;
namespace v3 = skywalking::v3;

constexpr char kRover[] = "rover-c0n7";
constexpr char kService[] = "order-svc.default";
constexpr char kInstance[] = "order-7d9f-abcde";

std::shared_ptr<grpc::Channel> FreshChannel(const ServerProcess& server) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(server.GrpcTarget(), grpc::InsecureChannelCredentials(), args);
}

json Data(const std::pair<int, std::string>& response) {
  EXPECT_EQ(response.first, 200) << response.second;
  json parsed = json::parse(response.second);
  EXPECT_FALSE(parsed.contains("errors")) << response.second;
  return parsed["data"];
}

// Rover's poll with the uuid it holds: the parsed ServiceWithPolicyJSON, or null when the
// server sent no command.
json Poll(const ServerProcess& server, const std::string& uuid) {
  v3::ContinuousProfilingPolicyQuery query;
  auto* policy = query.add_policies();
  policy->set_servicename(kService);
  policy->set_uuid(uuid);
  grpc::ClientContext context;
  v3::Commands commands;
  EXPECT_TRUE(v3::ContinuousProfilingService::NewStub(FreshChannel(server))
                  ->queryPolicies(&context, query, &commands)
                  .ok());
  if (commands.commands_size() == 0) return nullptr;
  EXPECT_EQ(commands.commands_size(), 1);
  EXPECT_EQ(commands.commands(0).command(), "ContinuousProfilingPolicyQuery");
  for (const auto& kv : commands.commands(0).args()) {
    if (kv.key() == "ServiceWithPolicyJSON") return json::parse(kv.value());
  }
  ADD_FAILURE() << "no ServiceWithPolicyJSON";
  return nullptr;
}

json SetPolicy(const ServerProcess& server, const std::string& service_id,
               const std::string& threshold) {
  return Data(server.GraphQL(
      "mutation editStrategy($request: ContinuousProfilingPolicyCreation!) { "
      "strategy: setContinuousProfilingPolicy(request: $request) { errorReason status } }",
      json{{"request",
            {{"serviceId", service_id},
             {"targets",
              {{{"targetType", "ON_CPU"},
                {"checkItems",
                 {{{"type", "PROCESS_CPU"},
                   {"threshold", threshold},
                   {"period", 10},
                   {"count", 3},
                   {"uriList", nullptr},
                   {"uriRegex", nullptr}}}}}}}}}}
          .dump()))["strategy"];
}

grpc::Status Upload(const ServerProcess& server, const std::string& task_id,
                    const std::string& process_id, int64_t start, int64_t now,
                    const std::vector<std::string>& user_innermost_first, int count) {
  auto stub = v3::EBPFProfilingService::NewStub(FreshChannel(server));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v3::Commands response;
  auto writer = stub->collectProfilingData(&context, &response);
  v3::EBPFProfilingData data;
  data.mutable_task()->set_taskid(task_id);
  data.mutable_task()->set_processid(process_id);
  data.mutable_task()->set_profilingstarttime(start);
  data.mutable_task()->set_currenttime(now);
  auto* stack = data.mutable_oncpu()->add_stacks();
  stack->set_stacktype(v3::PROCESS_USER_SPACE);
  for (const std::string& symbol : user_innermost_first) stack->add_stacksymbols(symbol);
  data.mutable_oncpu()->set_dumpcount(count);
  writer->Write(data);
  writer->WritesDone();
  return writer->Finish();
}

TEST(ContinuousProfilingTest, PolicyTriggerSamplesSurviveARestart) {
  TestDir dir;
  auto server = std::make_unique<ServerProcess>(dir.path() + "/data");
  ASSERT_TRUE(server->Start()) << server->Log();
  const std::string service_id = model::ServiceId(kService);
  const std::string instance_id = model::InstanceId(service_id, kInstance);
  const std::string java = model::ProcessId("java", instance_id);

  v3::EBPFProcessReportList report;
  report.set_ebpfagentid(kRover);
  auto* k8s = report.add_processes()->mutable_k8sprocess();
  k8s->mutable_entity()->set_layer("K8S_SERVICE");
  k8s->mutable_entity()->set_servicename(kService);
  k8s->mutable_entity()->set_instancename(kInstance);
  k8s->mutable_entity()->set_processname("java");
  k8s->mutable_entity()->add_labels("mesh-application");
  k8s->set_pid(42);
  auto* support = k8s->add_properties();
  support->set_key("support_ebpf_profiling");
  support->set_value("true");
  {
    v3::EBPFReportProcessDownstream downstream;
    grpc::ClientContext context;
    ASSERT_TRUE(v3::EBPFProcessService::NewStub(FreshChannel(*server))
                    ->reportProcesses(&context, report, &downstream)
                    .ok());
    ASSERT_EQ(downstream.processes_size(), 1);
  }

  // No policy yet: nothing to send. The operator sets one; Rover gets it at its next poll.
  EXPECT_TRUE(Poll(*server, "").is_null());
  json refused = SetPolicy(*server, service_id, "50.5");
  EXPECT_EQ(refused["errorReason"], "check PROCESS_CPU in ON_CPU error: parsing threshold error");
  ASSERT_TRUE(SetPolicy(*server, service_id, "80")["status"].get<bool>());
  json policies = Poll(*server, "");
  ASSERT_EQ(policies.size(), 1u);
  EXPECT_EQ(policies[0]["ServiceName"], kService);
  EXPECT_EQ(policies[0]["Profiling"],
            json::parse(R"({"ON_CPU":{"PROCESS_CPU":{"Threshold":"80","Period":10,"Count":3}}})"));
  const std::string uuid = policies[0]["UUID"];
  EXPECT_TRUE(Poll(*server, uuid).is_null());

  // The threshold is crossed: Rover reports the task it starts.
  v3::ContinuousProfilingReport triggered;
  triggered.set_layer("K8S_SERVICE");
  triggered.set_servicename(kService);
  triggered.set_instancename(kInstance);
  triggered.set_processname("java");
  triggered.set_duration(600);
  triggered.mutable_oncpu();
  auto* cause = triggered.add_causes();
  cause->set_type(v3::ProcessCPU);
  cause->mutable_singlevalue()->set_threshold(80);
  cause->mutable_singlevalue()->set_current(85.234);
  std::string task_id;
  {
    grpc::ClientContext context;
    v3::Commands commands;
    ASSERT_TRUE(v3::ContinuousProfilingService::NewStub(FreshChannel(*server))
                    ->reportProfilingTask(&context, triggered, &commands)
                    .ok());
    ASSERT_EQ(commands.commands_size(), 1);
    EXPECT_EQ(commands.commands(0).command(), "ContinuousProfilingReportTask");
    for (const auto& kv : commands.commands(0).args()) {
      if (kv.key() == "TaskId") task_id = kv.value();
    }
  }
  ASSERT_FALSE(task_id.empty());
  {
    // Never handed out by queryTasks.
    v3::EBPFProfilingTaskQuery query;
    query.set_roverinstanceid(kRover);
    grpc::ClientContext context;
    v3::Commands commands;
    ASSERT_TRUE(v3::EBPFProfilingService::NewStub(FreshChannel(*server))
                    ->queryTasks(&context, query, &commands)
                    .ok());
    EXPECT_EQ(commands.commands_size(), 0);
  }

  json tasks = Data(server->GraphQL(
      "query($s: ID, $i: ID) { t: queryEBPFProfilingTasks(serviceId: $s, serviceInstanceId: $i, "
      "targets: [], triggerType: CONTINUOUS_PROFILING) { taskId processId processName "
      "taskStartTime triggerType targetType continuousProfilingCauses { type singleValue { "
      "threshold current } message } } }",
      json{{"s", service_id}, {"i", instance_id}}.dump()));
  ASSERT_EQ(tasks["t"].size(), 1u);
  EXPECT_EQ(tasks["t"][0]["taskId"], task_id);
  EXPECT_EQ(tasks["t"][0]["processId"], java);
  EXPECT_EQ(tasks["t"][0]["triggerType"], "CONTINUOUS_PROFILING");
  EXPECT_EQ(tasks["t"][0]["continuousProfilingCauses"][0]["message"],
            "PROCESS_CPU: current 85.23% >= threshold 80.00%");
  EXPECT_EQ(tasks["t"][0]["continuousProfilingCauses"][0]["singleValue"]["current"], 8523);
  const int64_t start = tasks["t"][0]["taskStartTime"];

  // Samples, a SIGKILL, more samples.
  ASSERT_TRUE(Upload(*server, task_id, java, start, start + 5000, {"B", "A"}, 3).ok());
  EXPECT_EQ(server->Stop(SIGKILL), std::optional<int>(-SIGKILL));
  ASSERT_TRUE(server->Start()) << server->Log();
  ASSERT_TRUE(Upload(*server, task_id, java, start, start + 10000, {"C", "A"}, 2).ok());

  // The policy survived: Rover's uuid is still current; a change reaches the next poll.
  EXPECT_TRUE(Poll(*server, uuid).is_null());
  ASSERT_TRUE(SetPolicy(*server, service_id, "90")["status"].get<bool>());
  json changed = Poll(*server, uuid);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0]["Profiling"]["ON_CPU"]["PROCESS_CPU"]["Threshold"], "90");
  EXPECT_NE(changed[0]["UUID"], uuid);

  json schedules = Data(server->GraphQL(
      "query($t: ID!) { s: queryEBPFProfilingSchedules(taskId: $t) { scheduleId endTime } }",
      json{{"t", task_id}}.dump()));
  ASSERT_EQ(schedules["s"].size(), 1u);
  EXPECT_EQ(schedules["s"][0]["endTime"], start + 10000);
  json analysis = Data(server->GraphQL(
      "query($ids: [ID!]!, $r: [EBPFProfilingAnalyzeTimeRange!]!) { a: "
      "analysisEBPFProfilingResult(scheduleIdList: $ids, timeRanges: $r, aggregateType: COUNT) "
      "{ trees { elements { id parentId symbol dumpCount } } } }",
      json{{"ids", {schedules["s"][0]["scheduleId"]}},
           {"r", {{{"start", start}, {"end", start + 20000}}}}}
          .dump()));
  ASSERT_EQ(analysis["a"]["trees"].size(), 1u);
  const json& e = analysis["a"]["trees"][0]["elements"];
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0], json({{"id", "1"}, {"parentId", "0"}, {"symbol", "A"}, {"dumpCount", 5}}));

  json targets = Data(server->GraphQL(
      "query($s: ID!) { t: queryContinuousProfilingServiceTargets(serviceId: $s) { type "
      "triggeredCount lastTriggerTimestamp } m: queryContinuousProfilingMonitoringInstances("
      "serviceId: $s, target: ON_CPU) { name triggeredCount processes { name triggeredCount } } }",
      json{{"s", service_id}}.dump()));
  ASSERT_EQ(targets["t"].size(), 1u);
  EXPECT_EQ(targets["t"][0]["triggeredCount"], 1);
  EXPECT_EQ(targets["t"][0]["lastTriggerTimestamp"], start);
  ASSERT_EQ(targets["m"].size(), 1u);
  EXPECT_EQ(targets["m"][0]["name"], kInstance);
  EXPECT_EQ(targets["m"][0]["triggeredCount"], 1);
  EXPECT_EQ(targets["m"][0]["processes"][0]["triggeredCount"], 1);
  ASSERT_EQ(server->Stop(SIGTERM), std::optional<int>(0)) << server->Log();
}

}  // namespace
}  // namespace stackhouse::testing
