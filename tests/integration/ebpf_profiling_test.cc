// eBPF On-CPU/Off-CPU profiling end to end against the real binary, playing SkyWalking Rover:
// process registration, task delivery, sample streams (with a server restart in the middle)
// and the operator's GraphQL queries down to the merged flame-graph tree.
#include <signal.h>

#include "ebpf/profiling/Process.grpc.pb.h"
#include "ebpf/profiling/Profile.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "model/ids.h"
#include "nlohmann/json.hpp"
#include "server_process.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {
namespace {

using json = nlohmann::json;
namespace v3 = skywalking::v3;

constexpr char kRover[] = "rover-8f2c";

std::shared_ptr<grpc::Channel> FreshChannel(const ServerProcess& server) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(server.GrpcTarget(), grpc::InsecureChannelCredentials(), args);
}

v3::EBPFProcessEntityMetadata Entity(const std::string& process, const std::string& label) {
  v3::EBPFProcessEntityMetadata entity;
  entity.set_layer("K8S_SERVICE");
  entity.set_servicename("order-svc.default");
  entity.set_instancename("order-7d9f-abcde");
  entity.set_processname(process);
  entity.add_labels(label);
  return entity;
}

json Data(const std::pair<int, std::string>& response) {
  EXPECT_EQ(response.first, 200) << response.second;
  json parsed = json::parse(response.second);
  EXPECT_FALSE(parsed.contains("errors")) << response.second;
  return parsed["data"];
}

// One Rover upload: the first message carries the task, stacks innermost first.
grpc::Status Upload(const ServerProcess& server, const std::string& task_id,
                    const std::string& process_id, int64_t start, int64_t now,
                    const std::vector<std::pair<std::vector<std::string>, int>>& samples) {
  auto stub = v3::EBPFProfilingService::NewStub(FreshChannel(server));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v3::Commands response;
  auto writer = stub->collectProfilingData(&context, &response);
  bool first = true;
  for (const auto& [user_innermost_first, count] : samples) {
    v3::EBPFProfilingData data;
    if (first) {
      data.mutable_task()->set_taskid(task_id);
      data.mutable_task()->set_processid(process_id);
      data.mutable_task()->set_profilingstarttime(start);
      data.mutable_task()->set_currenttime(now);
      first = false;
    }
    auto* stack = data.mutable_oncpu()->add_stacks();
    stack->set_stacktype(v3::PROCESS_USER_SPACE);
    stack->set_stackid(7);
    for (const std::string& symbol : user_innermost_first) stack->add_stacksymbols(symbol);
    auto* kernel = data.mutable_oncpu()->add_stacks();
    kernel->set_stacktype(v3::PROCESS_KERNEL_SPACE);
    kernel->add_stacksymbols("do_syscall_64");
    data.mutable_oncpu()->set_dumpcount(count);
    writer->Write(data);
  }
  // An unusable message (no profiling branch) is skipped, not fatal.
  v3::EBPFProfilingData empty;
  writer->Write(empty);
  writer->WritesDone();
  return writer->Finish();
}

TEST(EbpfProfilingTest, RoverFlowSurvivesARestart) {
  TestDir dir;
  auto server = std::make_unique<ServerProcess>(dir.path() + "/data");
  ASSERT_TRUE(server->Start()) << server->Log();

  // Rover registers two processes; each comes back with its id and its entity echoed.
  v3::EBPFProcessReportList report;
  report.set_ebpfagentid(kRover);
  for (const char* process : {"java", "envoy"}) {
    auto* k8s = report.add_processes()->mutable_k8sprocess();
    *k8s->mutable_entity() =
        Entity(process, std::string(process) == "java" ? "mesh-application" : "mesh-envoy");
    k8s->set_pid(std::string(process) == "java" ? 42 : 43);
    auto* support = k8s->add_properties();
    support->set_key("support_ebpf_profiling");
    support->set_value("true");
  }
  report.add_processes();  // neither branch: no downstream entry
  v3::EBPFReportProcessDownstream downstream;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(v3::EBPFProcessService::NewStub(FreshChannel(*server))
                    ->reportProcesses(&context, report, &downstream)
                    .ok());
  }
  ASSERT_EQ(downstream.processes_size(), 2);
  const std::string service_id = model::ServiceId("order-svc.default");
  const std::string instance_id = model::InstanceId(service_id, "order-7d9f-abcde");
  const std::string java = model::ProcessId("java", instance_id);
  EXPECT_EQ(downstream.processes(0).processid(), java);
  EXPECT_EQ(downstream.processes(0).k8sprocess().pid(), 42);
  EXPECT_EQ(downstream.processes(0).k8sprocess().entitymetadata().SerializeAsString(),
            report.processes(0).k8sprocess().entity().SerializeAsString());
  {
    v3::EBPFProcessPingPkgList ping;
    ping.set_ebpfagentid(kRover);
    *ping.add_processes()->mutable_entitymetadata() = Entity("java", "mesh-application");
    grpc::ClientContext context;
    v3::Commands none;
    ASSERT_TRUE(v3::EBPFProcessService::NewStub(FreshChannel(*server))
                    ->keepAlive(&context, ping, &none)
                    .ok());
  }

  // The operator prepares and creates an On-CPU task for the labelled application process.
  json prepare = Data(
      server->GraphQL("query($s: ID!) { p: queryPrepareCreateEBPFProfilingTaskData(serviceId: $s) "
                      "{ couldProfiling processLabels } }",
                      json{{"s", service_id}}.dump()));
  EXPECT_TRUE(prepare["p"]["couldProfiling"].get<bool>());
  // Labels in process order (by instance, then process name: envoy before java).
  EXPECT_EQ(prepare["p"]["processLabels"], json::array({"mesh-envoy", "mesh-application"}));
  json created = Data(server->GraphQL(
      "mutation($r: EBPFProfilingTaskFixedTimeCreationRequest!) { "
      "t: createEBPFProfilingFixedTimeTask(request: $r) { status errorReason id } }",
      json{{"r",
            {{"serviceId", service_id},
             {"processLabels", {"mesh-application"}},
             {"startTime", 0},
             {"duration", 60},
             {"targetType", "ON_CPU"}}}}
          .dump()));
  ASSERT_TRUE(created["t"]["status"].get<bool>()) << created.dump();
  const std::string task_id = created["t"]["id"];
  json network = Data(
      server->GraphQL("mutation($r: EBPFProfilingTaskFixedTimeCreationRequest!) { "
                      "t: createEBPFProfilingFixedTimeTask(request: $r) { status errorReason } }",
                      json{{"r",
                            {{"serviceId", service_id},
                             {"processLabels", json::array()},
                             {"startTime", 0},
                             {"duration", 60},
                             {"targetType", "NETWORK"}}}}
                          .dump()));
  EXPECT_FALSE(network["t"]["status"].get<bool>());

  // Rover asks for tasks and gets one command for the java process.
  v3::Commands commands;
  {
    v3::EBPFProfilingTaskQuery query;
    query.set_roverinstanceid(kRover);
    grpc::ClientContext context;
    ASSERT_TRUE(v3::EBPFProfilingService::NewStub(FreshChannel(*server))
                    ->queryTasks(&context, query, &commands)
                    .ok());
  }
  ASSERT_EQ(commands.commands_size(), 1);
  std::map<std::string, std::string> args;
  for (const auto& kv : commands.commands(0).args()) args[kv.key()] = kv.value();
  EXPECT_EQ(commands.commands(0).command(), "EBPFProfilingTaskQuery");
  EXPECT_EQ(args["TaskId"], task_id);
  EXPECT_EQ(args["ProcessId"], java);
  EXPECT_EQ(args["TriggerType"], "FIXED_TIME");
  EXPECT_EQ(args["TargetType"], "ON_CPU");
  EXPECT_EQ(args["ExtensionConfigJSON"], "null");
  EXPECT_EQ(args["FixedTriggerDuration"], "60");
  const int64_t start = std::stoll(args["TaskStartTime"]);

  // Samples (Case G of the spec, plus the kernel frame every sample ends in).
  ASSERT_TRUE(
      Upload(*server, task_id, java, start, start + 5000, {{{"C", "B", "A"}, 3}, {{"B", "A"}, 5}})
          .ok());
  EXPECT_EQ(server->Stop(SIGKILL), std::optional<int>(-SIGKILL));
  ASSERT_TRUE(server->Start()) << server->Log();
  ASSERT_TRUE(Upload(*server, task_id, java, start, start + 10000, {{{"B", "A"}, 3}}).ok());

  json tasks = Data(server->GraphQL(
      "query($s: ID) { t: queryEBPFProfilingTasks(serviceId: $s, targets: [ON_CPU]) "
      "{ taskId serviceName processLabels targetType triggerType fixedTriggerDuration } }",
      json{{"s", service_id}}.dump()));
  ASSERT_EQ(tasks["t"].size(), 1u);
  EXPECT_EQ(tasks["t"][0]["taskId"], task_id);
  EXPECT_EQ(tasks["t"][0]["serviceName"], "order-svc.default");
  EXPECT_EQ(tasks["t"][0]["fixedTriggerDuration"], 60);

  json schedules = Data(server->GraphQL(
      "query($t: ID!) { s: queryEBPFProfilingSchedules(taskId: $t) { scheduleId startTime "
      "endTime process { id name labels detectType } } }",
      json{{"t", task_id}}.dump()));
  ASSERT_EQ(schedules["s"].size(), 1u);
  const json& schedule = schedules["s"][0];
  EXPECT_EQ(schedule["scheduleId"], model::EbpfScheduleId(task_id, java, start));
  EXPECT_EQ(schedule["startTime"], start);
  EXPECT_EQ(schedule["endTime"], start + 10000);
  EXPECT_EQ(schedule["process"]["name"], "java");
  EXPECT_EQ(schedule["process"]["detectType"], "KUBERNETES");

  json analysis = Data(server->GraphQL(
      "query($ids: [ID!]!, $r: [EBPFProfilingAnalyzeTimeRange!]!) { a: "
      "analysisEBPFProfilingResult(scheduleIdList: $ids, timeRanges: $r, aggregateType: COUNT) "
      "{ tip trees { elements { id parentId symbol stackType dumpCount } } } }",
      json{{"ids", {schedule["scheduleId"]}},
           // Overlapping ranges: every sample still counts once.
           {"r",
            {{{"start", start}, {"end", start + 7000}},
             {{"start", start + 5000}, {"end", start + 20000}}}}}
          .dump()));
  ASSERT_EQ(analysis["a"]["trees"].size(), 1u);
  EXPECT_TRUE(analysis["a"]["tip"].is_null());
  const json& e = analysis["a"]["trees"][0]["elements"];
  ASSERT_EQ(e.size(), 5u);
  auto element = [](const char* id, const char* parent, const char* symbol, const char* type,
                    int count) {
    return json{{"id", id},
                {"parentId", parent},
                {"symbol", symbol},
                {"stackType", type},
                {"dumpCount", count}};
  };
  EXPECT_EQ(e[0], element("1", "0", "A", "USER_SPACE", 11));
  EXPECT_EQ(e[1], element("2", "1", "B", "USER_SPACE", 11));
  EXPECT_EQ(e[2], element("3", "2", "C", "USER_SPACE", 3));
  EXPECT_EQ(e[3], element("4", "2", "do_syscall_64", "KERNEL_SPACE", 8));
  EXPECT_EQ(e[4], element("5", "3", "do_syscall_64", "KERNEL_SPACE", 3));

  // A tree over 256 KiB of JSON comes streamed (chunked) and whole: 3,000 stacks of their
  // own, main → leaf_i → do_syscall_64, uploaded later than the samples above.
  constexpr int kLeaves = 3000;
  std::vector<std::pair<std::vector<std::string>, int>> leaves;
  for (int i = 0; i < kLeaves; ++i) leaves.push_back({{"leaf_" + std::to_string(i), "main"}, 1});
  ASSERT_TRUE(Upload(*server, task_id, java, start, start + 30000, leaves).ok());
  httplib::Client http("127.0.0.1", server->http_port());
  const std::string large_query =
      json{{"query",
            "query($ids: [ID!]!, $r: [EBPFProfilingAnalyzeTimeRange!]!) { a: "
            "analysisEBPFProfilingResult(scheduleIdList: $ids, timeRanges: $r, aggregateType: "
            "COUNT) { tip trees { elements { id parentId symbol stackType dumpCount } } } }"},
           {"variables",
            {{"ids", {schedule["scheduleId"]}},
             {"r", {{{"start", start + 25000}, {"end", start + 40000}}}}}}}
          .dump();
  auto large = http.Post("/graphql", large_query, "application/json");
  ASSERT_TRUE(large) << httplib::to_string(large.error());
  EXPECT_EQ(large->get_header_value("Transfer-Encoding"), "chunked");
  EXPECT_FALSE(large->has_header("Content-Length"));
  json expected_elements = json::array({element("1", "0", "main", "USER_SPACE", kLeaves)});
  for (int i = 0; i < kLeaves; ++i) {
    expected_elements.push_back(element(std::to_string(2 + i).c_str(), "1",
                                        ("leaf_" + std::to_string(i)).c_str(), "USER_SPACE", 1));
  }
  for (int i = 0; i < kLeaves; ++i) {
    expected_elements.push_back(element(std::to_string(2 + kLeaves + i).c_str(),
                                        std::to_string(2 + i).c_str(), "do_syscall_64",
                                        "KERNEL_SPACE", 1));
  }
  const json expected = {
      {"data", {{"a", {{"tip", nullptr}, {"trees", {{{"elements", expected_elements}}}}}}}}};
  EXPECT_GT(large->body.size(), 256u * 1024u);
  // Byte for byte equality with the unstreamed body is tests/graphql/http_endpoint_test.cc's;
  // here: the whole response arrived, and it is the expected tree.
  EXPECT_EQ(json::parse(large->body, nullptr, false), expected);
  // The same request's errors before execution are answered as usual.
  auto invalid = http.Post("/graphql", R"({"query":"{ a: analysisEBPFProfilingResult { tip } }"})",
                           "application/json");
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 400);
  EXPECT_TRUE(invalid->has_header("Content-Length"));
  EXPECT_NE(invalid->body.find("\"errors\""), std::string::npos) << invalid->body;

  json processes = Data(server->GraphQL(
      "query($i: ID!, $d: Duration!) { p: listProcesses(instanceId: $i, duration: $d) { name "
      "agentId labels attributes { name value } } n: estimateProcessScale(serviceId: \"" +
          service_id + "\", labels: [\"mesh-envoy\"]) }",
      json{{"i", instance_id},
           {"d", {{"start", "2000-01-01 0000"}, {"end", "2100-01-01 0000"}, {"step", "MINUTE"}}}}
          .dump()));
  ASSERT_EQ(processes["p"].size(), 2u);
  EXPECT_EQ(processes["p"][0]["agentId"], kRover);
  EXPECT_EQ(processes["n"], 1);
  ASSERT_EQ(server->Stop(SIGTERM), std::optional<int>(0)) << server->Log();
}

}  // namespace
}  // namespace stackhouse::testing
