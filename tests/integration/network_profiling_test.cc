// Network profiling end to end against the real binary: an operator's NETWORK task reaches
// Rover through queryTasks for the instance's processes with its sampling rules; Rover's
// meters, sampled request, the agents' segments and the attached events become the process
// topology, the call's sampled requests and the trace booster-ui's "View Trace" opens; all of
// it survives SIGKILL.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ebpf/profiling/Process.grpc.pb.h"
#include "ebpf/profiling/Profile.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "language-agent/Meter.grpc.pb.h"
#include "language-agent/Tracing.grpc.pb.h"
#include "logging/Logging.grpc.pb.h"
#include "model/ids.h"
#include "nlohmann/json.hpp"
#include "server_process.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
namespace v3 = skywalking::v3;

constexpr char kService[] = "shop.default";
constexpr char kInstance[] = "shop-5c8d-x2k9p";
constexpr char kTrace[] = "a1b2c3d4.42.17000000000000001";

std::shared_ptr<grpc::Channel> FreshChannel(const ServerProcess& server) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(server.GrpcTarget(), grpc::InsecureChannelCredentials(), args);
}

template <typename Writer, typename Message>
grpc::Status Finish(Writer writer, const std::vector<Message>& messages) {
  for (const Message& m : messages) writer->Write(m);
  writer->WritesDone();
  return writer->Finish();
}

void Deadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

void AddLabel(google::protobuf::RepeatedPtrField<v3::Label>* labels, const std::string& name,
              const std::string& value) {
  auto* l = labels->Add();
  l->set_name(name);
  l->set_value(value);
}

void AddTag(google::protobuf::RepeatedPtrField<v3::KeyStringValuePair>* tags,
            const std::string& key, const std::string& value) {
  auto* t = tags->Add();
  t->set_key(key);
  t->set_value(value);
}

std::string Minute(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H%M", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

std::map<std::string, std::string> Args(const v3::Command& command) {
  std::map<std::string, std::string> args;
  for (const auto& kv : command.args()) args[kv.key()] = kv.value();
  return args;
}

class NetworkProfilingTest : public ::testing::Test {
 protected:
  json GraphQL(const std::string& query, const json& variables) {
    auto [status, body] = server_->GraphQL(query, variables.dump());
    EXPECT_EQ(status, 200) << body;
    json parsed = json::parse(body, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << body;
    EXPECT_FALSE(parsed.contains("errors")) << body;
    return parsed["data"];
  }

  v3::Commands QueryTasks(int64_t latest_update_time) {
    v3::EBPFProfilingTaskQuery query;
    query.set_roverinstanceid("rover-1");
    query.set_latestupdatetime(latest_update_time);
    grpc::ClientContext context;
    Deadline(&context);
    v3::Commands commands;
    EXPECT_TRUE(v3::EBPFProfilingService::NewStub(FreshChannel(*server_))
                    ->queryTasks(&context, query, &commands)
                    .ok());
    return commands;
  }

  json Duration() const {
    return {{"start", Minute(now_ - 600000)}, {"end", Minute(now_ + 60000)}, {"step", "MINUTE"}};
  }

  TestDir dir_;
  std::unique_ptr<ServerProcess> server_;
  int64_t now_ = 0;
};

TEST_F(NetworkProfilingTest, TaskDataAndTraceThroughTheRealBinaryAcrossSigkill) {
  server_ = std::make_unique<ServerProcess>(dir_.path() + "/data",
                                            std::map<std::string, std::string>{{"TZ", "UTC"}});
  ASSERT_TRUE(server_->Start()) << server_->Log();
  now_ = absl::ToUnixMillis(absl::Now());
  const std::string instance_id = model::InstanceId(model::ServiceId(kService), kInstance);

  // Rover registers the pod's app and its sidecar.
  v3::EBPFProcessReportList report;
  report.set_ebpfagentid("rover-1");
  for (const char* name : {"app", "envoy"}) {
    auto* k8s = report.add_processes()->mutable_k8sprocess();
    k8s->set_pid(name[0] == 'a' ? 101 : 102);
    k8s->mutable_entity()->set_layer("K8S_SERVICE");
    k8s->mutable_entity()->set_servicename(kService);
    k8s->mutable_entity()->set_instancename(kInstance);
    k8s->mutable_entity()->set_processname(name);
  }
  v3::EBPFReportProcessDownstream downstream;
  {
    grpc::ClientContext context;
    Deadline(&context);
    ASSERT_TRUE(v3::EBPFProcessService::NewStub(FreshChannel(*server_))
                    ->reportProcesses(&context, report, &downstream)
                    .ok());
  }
  ASSERT_EQ(downstream.processes_size(), 2);
  const std::string app = downstream.processes(0).processid();
  const std::string envoy = downstream.processes(1).processid();

  // The operator's task, booster-ui's document; a regex that does not compile first.
  const std::string create =
      "mutation createNetworkProfiling($request: EBPFProfilingNetworkTaskRequest!) { "
      "createEBPFNetworkProfiling(request: $request) { status errorReason id } }";
  json bad = GraphQL(
      create, {{"request",
                {{"instanceId", instance_id},
                 {"samplings",
                  {{{"uriRegex", "/api/(v1"},
                    {"when4xx", true},
                    {"when5xx", true},
                    {"settings",
                     {{"requireCompleteRequest", true}, {"requireCompleteResponse", true}}}}}}}}});
  EXPECT_EQ(bad["createEBPFNetworkProfiling"]["status"], false);
  EXPECT_THAT(bad["createEBPFNetworkProfiling"]["errorReason"].get<std::string>(),
              HasSubstr("the URI regex \"/api/(v1\" does not compile"));
  json created = GraphQL(
      create,
      {{"request",
        {{"instanceId", instance_id},
         {"samplings",
          {{{"when4xx", false},
            {"when5xx", true},
            {"settings", {{"requireCompleteRequest", true}, {"requireCompleteResponse", true}}}},
           {{"uriRegex", "/api/.*"},
            {"minDuration", 100},
            {"when4xx", true},
            {"when5xx", false},
            {"settings",
             {{"requireCompleteRequest", true},
              {"maxRequestSize", 4096},
              {"requireCompleteResponse", false}}}}}}}}});
  ASSERT_EQ(created["createEBPFNetworkProfiling"]["status"], true) << created.dump();
  const std::string task_id = created["createEBPFNetworkProfiling"]["id"];

  // Rover's next poll gets one NETWORK command for both processes with the rules.
  v3::Commands commands = QueryTasks(0);
  ASSERT_EQ(commands.commands_size(), 1);
  std::map<std::string, std::string> args = Args(commands.commands(0));
  std::vector<std::string> ids = {app, envoy};
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(args["TaskId"], task_id);
  EXPECT_EQ(args["TargetType"], "NETWORK");
  EXPECT_EQ(args["TriggerType"], "FIXED_TIME");
  EXPECT_EQ(args["ProcessId"], ids[0] + "," + ids[1]);
  EXPECT_EQ(args["FixedTriggerDuration"], "600");
  EXPECT_EQ(args["ExtensionConfigJSON"],
            "{\"NetworkSamplings\":[{\"When4xx\":false,\"When5xx\":true,\"Settings\":{"
            "\"RequireCompleteRequest\":true,\"RequireCompleteResponse\":true}},{\"URIRegex\":"
            "\"/api/.*\",\"MinDuration\":100,\"When4xx\":true,\"When5xx\":false,\"Settings\":{"
            "\"RequireCompleteRequest\":true,\"MaxRequestSize\":4096,"
            "\"RequireCompleteResponse\":false}}]}");
  const int64_t update_time = std::stoll(args["TaskUpdateTime"]);
  EXPECT_EQ(QueryTasks(update_time).commands_size(), 0);

  // Rover reports: the app calls its envoy over HTTP (both sides' meters).
  v3::MeterDataCollection meters;
  for (const char* side : {"client", "server"}) {
    auto* d = meters.add_meterdata();
    if (meters.meterdata_size() == 1) {
      d->set_service(kService);
      d->set_serviceinstance(kInstance);
      d->set_timestamp(now_);
    }
    d->mutable_singlevalue()->set_name(std::string("rover_net_p_") + side +
                                       "_write_counts_counter");
    d->mutable_singlevalue()->set_value(10);
    auto* labels = d->mutable_singlevalue()->mutable_labels();
    AddLabel(labels, "client_process_id", app);
    AddLabel(labels, "server_process_id", envoy);
    AddLabel(labels, "side", side);
    AddLabel(labels, "protocol", "http");
    AddLabel(labels, "is_ssl", "false");
  }
  {
    grpc::ClientContext context;
    Deadline(&context);
    v3::Commands reply;
    ASSERT_TRUE(
        Finish(
            v3::MeterReportService::NewStub(FreshChannel(*server_))->collectBatch(&context, &reply),
            std::vector<v3::MeterDataCollection>{meters})
            .ok());
  }
  // The agents' segments of the sampled request: the app's exit span 1 calls envoy's entry.
  v3::SegmentObject client;
  client.set_traceid(kTrace);
  client.set_tracesegmentid("seg-app");
  client.set_service(kService);
  client.set_serviceinstance(kInstance);
  auto* entry = client.add_spans();
  entry->set_spanid(0);
  entry->set_parentspanid(-1);
  entry->set_starttime(now_ - 1300);
  entry->set_endtime(now_ - 40);
  entry->set_operationname("GET:/shop");
  entry->set_spantype(v3::Entry);
  auto* exit_span = client.add_spans();
  exit_span->set_spanid(1);
  exit_span->set_parentspanid(0);
  exit_span->set_starttime(now_ - 1250);
  exit_span->set_endtime(now_ - 50);
  exit_span->set_operationname("/api/cart");
  exit_span->set_peer("envoy:8080");
  exit_span->set_spantype(v3::Exit);
  v3::SegmentObject server_segment;
  server_segment.set_traceid(kTrace);
  server_segment.set_tracesegmentid("seg-envoy");
  server_segment.set_service(kService);
  server_segment.set_serviceinstance(kInstance);
  auto* served = server_segment.add_spans();
  served->set_spanid(0);
  served->set_parentspanid(-1);
  served->set_starttime(now_ - 1240);
  served->set_endtime(now_ - 60);
  served->set_operationname("GET:/api/cart");
  served->set_spantype(v3::Entry);
  auto* ref = served->add_refs();
  ref->set_traceid(kTrace);
  ref->set_parenttracesegmentid("seg-app");
  ref->set_parentspanid(1);
  {
    grpc::ClientContext context;
    Deadline(&context);
    v3::Commands reply;
    ASSERT_TRUE(Finish(v3::TraceSegmentReportService::NewStub(FreshChannel(*server_))
                           ->collect(&context, &reply),
                       std::vector<v3::SegmentObject>{client, server_segment})
                    .ok());
  }
  // Rover's sampled slow request and its attached events (a body that is not JSON first is
  // refused by name, what came before kept).
  v3::LogData sampled;
  sampled.set_timestamp(now_);
  sampled.set_service(kService);
  sampled.set_serviceinstance(kInstance);
  sampled.set_layer("K8S_SERVICE");
  sampled.mutable_tracecontext()->set_traceid(kTrace);
  AddTag(sampled.mutable_tags()->mutable_data(), "LOG_KIND", "NET_PROFILING_SAMPLED_TRACE");
  sampled.mutable_body()->mutable_json()->set_json(
      "{\"uri\":\"/api/cart\",\"reason\":\"slow\",\"latency\":1200,\"trace_provider\":"
      "\"skywalking\",\"client_process\":{\"process_id\":\"" +
      app + "\"},\"server_process\":{\"process_id\":\"" + envoy +
      "\"},\"detect_point\":\"client\",\"component\":\"http\",\"ssl\":false,\"status\":200}");
  v3::LogData not_json = sampled;
  not_json.mutable_body()->mutable_json()->set_json("uri=/api/cart");
  {
    grpc::ClientContext context;
    Deadline(&context);
    v3::Commands reply;
    grpc::Status status =
        Finish(v3::LogReportService::NewStub(FreshChannel(*server_))->collect(&context, &reply),
               std::vector<v3::LogData>{sampled, not_json});
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("message 1"));
  }
  std::vector<v3::SpanAttachedEvent> events;
  for (const char* direction : {"outbound", "inbound"}) {
    v3::SpanAttachedEvent& e = events.emplace_back();
    e.set_event("HTTP Request Sampling");
    e.mutable_starttime()->set_seconds((now_ - 1250) / 1000);
    e.mutable_starttime()->set_nanos(direction[0] == 'o' ? 1000 : 2000);
    e.mutable_endtime()->set_seconds((now_ - 1250) / 1000);
    AddTag(e.mutable_tags(), "data_content", "GET /api/cart HTTP/1.1\r\nHost: envoy:8080\r\n\r\n");
    AddTag(e.mutable_tags(), "data_direction", direction);
    AddTag(e.mutable_tags(), "data_type", "request");
    e.mutable_tracecontext()->set_traceid(kTrace);
    e.mutable_tracecontext()->set_tracesegmentid("seg-app");
    e.mutable_tracecontext()->set_spanid("1");
  }
  // The outbound request names the exit span first: both stay there (OAP keeps the first
  // choice for a span); an event naming envoy's entry span with the inbound request stays too.
  v3::SpanAttachedEvent& inbound = events.emplace_back(events[1]);
  inbound.mutable_tracecontext()->set_tracesegmentid("seg-envoy");
  inbound.mutable_tracecontext()->set_spanid("0");
  v3::SpanAttachedEvent huge = events[0];
  huge.mutable_tags(0)->set_value(std::string(5 << 20, 'x'));
  events.push_back(huge);
  {
    grpc::ClientContext context;
    Deadline(&context);
    v3::Commands reply;
    grpc::Status status = Finish(v3::SpanAttachedEventReportService::NewStub(FreshChannel(*server_))
                                     ->collect(&context, &reply),
                                 events);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("message 3 is an attached event of"));
  }

  EXPECT_EQ(server_->Stop(SIGKILL), std::optional<int>(-SIGKILL));
  ASSERT_TRUE(server_->Start()) << server_->Log();

  // The task is listed and still running; Rover gets it again from scratch, not otherwise.
  json tasks = GraphQL(
      "query($s: ID, $i: ID) { t: queryEBPFProfilingTasks(serviceId: $s, serviceInstanceId: $i, "
      "targets: [NETWORK], triggerType: FIXED_TIME) { taskId targetType serviceInstanceName "
      "fixedTriggerDuration } }",
      {{"s", model::ServiceId(kService)}, {"i", instance_id}});
  EXPECT_EQ(tasks["t"], json::parse(R"([{"taskId":")" + task_id +
                                    R"(","targetType":"NETWORK","serviceInstanceName":")" +
                                    kInstance + R"(","fixedTriggerDuration":600}])"));
  json kept = GraphQL(
      "mutation($t: ID!) { k: keepEBPFNetworkProfiling(taskId: $t) { status errorReason } }",
      {{"t", task_id}});
  EXPECT_EQ(kept["k"], json::parse(R"({"status":true,"errorReason":null})"));
  EXPECT_EQ(QueryTasks(0).commands_size(), 1);
  EXPECT_EQ(QueryTasks(update_time).commands_size(), 0);

  // The topology: app → envoy seen from both sides, over HTTP.
  json topology = GraphQL(
      "query($i: ID!, $d: Duration!) { t: getProcessTopology(serviceInstanceId: $i, duration: "
      "$d) { nodes { name isReal } calls { source target detectPoints sourceComponents "
      "targetComponents } } }",
      {{"i", instance_id}, {"d", Duration()}});
  ASSERT_EQ(topology["t"]["calls"].size(), 1u) << topology.dump();
  const json& call = topology["t"]["calls"][0];
  EXPECT_EQ(call["source"], app);
  EXPECT_EQ(call["target"], envoy);
  EXPECT_EQ(call["detectPoints"], json::parse(R"(["CLIENT","SERVER"])"));
  EXPECT_EQ(call["sourceComponents"], json::parse(R"(["http"])"));

  // The call's slow requests (booster-ui's top_n widget) name the trace.
  json records = GraphQL(
      "query($e: Entity!, $d: Duration!) { r: execExpression(expression: "
      "\"top_n(sampled_slow_trace_record, 10, des)\", entity: $e, duration: $d) { type error "
      "results { values { id value traceID } } } }",
      {{"e",
        {{"serviceName", kService},
         {"normal", true},
         {"serviceInstanceName", kInstance},
         {"processName", "app"},
         {"destServiceName", kService},
         {"destNormal", true},
         {"destServiceInstanceName", kInstance},
         {"destProcessName", "envoy"}}},
       {"d", Duration()}});
  EXPECT_EQ(records["r"]["results"][0]["values"],
            json::parse(R"([{"id":"/api/cart","value":"1200","traceID":")" + std::string(kTrace) +
                        R"("}])"))
      << records.dump();

  // View Trace: the trace's segments, then its spans with the events Rover attached.
  json basic = GraphQL(
      "query queryTraces($condition: TraceQueryCondition) { data: queryBasicTraces(condition: "
      "$condition) { traces { key: segmentId endpointNames duration isError traceIds } } }",
      {{"condition",
        {{"traceState", "ALL"},
         {"queryOrder", "BY_DURATION"},
         {"queryDuration", Duration()},
         {"paging", {{"pageNum", 1}, {"pageSize", 20}}},
         {"traceId", kTrace}}}});
  EXPECT_EQ(basic["data"]["traces"],
            json::parse(R"([{"key":"seg-app","endpointNames":["GET:/shop"],"duration":1260,)"
                        R"("isError":false,"traceIds":[")" +
                        std::string(kTrace) +
                        R"("]},{"key":"seg-envoy","endpointNames":["GET:/api/cart"],)"
                        R"("duration":1180,"isError":false,"traceIds":[")" +
                        std::string(kTrace) + R"("]}])"));
  json trace = GraphQL(
      "query querySpans($traceId: ID!) { trace: queryTrace(traceId: $traceId) { spans { "
      "segmentId spanId attachedEvents { event startTime { nanos } tags { key value } } } } }",
      {{"traceId", kTrace}});
  const json& spans = trace["trace"]["spans"];
  ASSERT_EQ(spans.size(), 3u) << trace.dump();
  EXPECT_EQ(spans[0]["segmentId"], "seg-app");
  EXPECT_EQ(spans[0]["attachedEvents"].size(), 0u);
  EXPECT_EQ(spans[1]["spanId"], 1);
  ASSERT_EQ(spans[1]["attachedEvents"].size(), 2u) << trace.dump();
  EXPECT_EQ(spans[1]["attachedEvents"][0]["startTime"]["nanos"], 1000);
  EXPECT_EQ(spans[1]["attachedEvents"][1]["startTime"]["nanos"], 2000);
  EXPECT_EQ(spans[2]["segmentId"], "seg-envoy");
  ASSERT_EQ(spans[2]["attachedEvents"].size(), 1u);
  EXPECT_EQ(spans[2]["attachedEvents"][0]["event"], "HTTP Request Sampling");
  json unknown = GraphQL("query($t: ID!) { queryTrace(traceId: $t) { spans { spanId } } }",
                         {{"t", "no-such-trace"}});
  EXPECT_EQ(unknown["queryTrace"]["spans"], json::array());
}

}  // namespace
}  // namespace stackhouse::testing
