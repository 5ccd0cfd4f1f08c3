// Rover's meters end to end against the real binary: network- and continuous-profiling meters
// over MeterReportService become the metrics booster-ui's process and process-relation
// dashboards read through execExpression, and what the server acknowledged survives SIGKILL.
#include <signal.h>

#include <chrono>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ebpf/profiling/Process.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "language-agent/Meter.grpc.pb.h"
#include "model/ids.h"
#include "nlohmann/json.hpp"
#include "server_process.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {
namespace {

using json = nlohmann::json;
namespace v3 = skywalking::v3;

constexpr char kService[] = "order-svc.default";
constexpr char kInstance[] = "order-7d9f-abcde";

std::shared_ptr<grpc::Channel> FreshChannel(const ServerProcess& server) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(server.GrpcTarget(), grpc::InsecureChannelCredentials(), args);
}

void AddLabels(google::protobuf::RepeatedPtrField<v3::Label>* out,
               const std::vector<std::pair<std::string, std::string>>& labels) {
  for (const auto& [k, v] : labels) {
    auto* l = out->Add();
    l->set_name(k);
    l->set_value(v);
  }
}

// One Rover report of process `app_id` (client of a remote HTTP server) and its CPU.
v3::MeterDataCollection Report(const std::string& app_id, int64_t time_ms, double writes,
                               double cpu) {
  const std::vector<std::pair<std::string, std::string>> relation = {
      {"side", "client"},
      {"client_process_id", app_id},
      {"server_address", "10.1.2.3:80"},
      {"protocol", "http"},
      {"is_ssl", "false"}};
  v3::MeterDataCollection c;
  auto* write = c.add_meterdata();
  write->set_service(kService);
  write->set_serviceinstance(kInstance);
  write->set_timestamp(time_ms);
  write->mutable_singlevalue()->set_name("rover_net_p_client_write_counts_counter");
  write->mutable_singlevalue()->set_value(writes);
  AddLabels(write->mutable_singlevalue()->mutable_labels(), relation);

  auto* rtt = c.add_meterdata()->mutable_histogram();
  rtt->set_name("rover_net_p_client_write_rtt_histogram");
  AddLabels(rtt->mutable_labels(), relation);
  for (auto [bound, count] : std::vector<std::pair<double, int64_t>>{{0, 2}, {50, 6}, {100, 2}}) {
    auto* b = rtt->add_values();
    b->set_bucket(bound);
    b->set_count(count);
  }

  auto* cpu_meter = c.add_meterdata()->mutable_singlevalue();
  cpu_meter->set_name("rover_con_p_process_cpu");
  cpu_meter->set_value(cpu);
  AddLabels(cpu_meter->mutable_labels(), {{"process_name", "app"}, {"layer", "K8S_SERVICE"}});
  return c;
}

grpc::Status Send(const ServerProcess& server, const v3::MeterDataCollection& c) {
  auto stub = v3::MeterReportService::NewStub(FreshChannel(server));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v3::Commands response;
  auto writer = stub->collectBatch(&context, &response);
  writer->Write(c);
  writer->WritesDone();
  return writer->Finish();
}

std::string Minute(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d %H%M", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

// booster-ui's document (addendum §1.4) for `expressions` on the relation app → UNKNOWN_REMOTE,
// over the minutes around `minute_ms`; the value of each at `minute_ms`, by alias.
std::map<std::string, json> Dashboard(const ServerProcess& server, int64_t minute_ms,
                                      const std::vector<std::string>& expressions, bool relation) {
  std::string definitions = "$duration: Duration!,$entity: Entity!";
  std::string fields;
  json variables;
  variables["duration"] = {{"start", Minute(minute_ms - 120000)},
                           {"end", Minute(minute_ms + 120000)},
                           {"step", "MINUTE"}};
  variables["entity"] = {{"serviceName", kService},
                         {"normal", true},
                         {"serviceInstanceName", kInstance},
                         {"processName", "app"}};
  if (relation) {
    variables["entity"]["destServiceName"] = kService;
    variables["entity"]["destNormal"] = true;
    variables["entity"]["destServiceInstanceName"] = kInstance;
    variables["entity"]["destProcessName"] = "UNKNOWN_REMOTE";
  }
  for (size_t i = 0; i < expressions.size(); ++i) {
    const std::string name = "expression" + std::to_string(i) + "0";
    definitions += ",$" + name + ": String!";
    variables[name] = expressions[i];
    fields += name + ": execExpression(expression: $" + name +
              ", entity: $entity, duration: $duration){ type results { metric { labels { key "
              "value } } values { name: id value refId: traceID owner { scope serviceID "
              "serviceName normal serviceInstanceID serviceInstanceName endpointID endpointName "
              "} } } error }";
  }
  auto [status, body] =
      server.GraphQL("query queryData(" + definitions + ") {" + fields + "}", variables.dump());
  EXPECT_EQ(status, 200) << body;
  json data = json::parse(body);
  EXPECT_FALSE(data.contains("errors")) << body;
  std::map<std::string, json> at_minute;
  for (size_t i = 0; i < expressions.size(); ++i) {
    const json& result = data["data"]["expression" + std::to_string(i) + "0"];
    EXPECT_TRUE(result["error"].is_null()) << expressions[i] << ": " << result.dump();
    json values = json::array();
    for (const json& series : result["results"]) {
      for (const json& v : series["values"]) {
        if (v["name"] == std::to_string(minute_ms)) {
          values.push_back({{"labels", series["metric"]["labels"]}, {"value", v["value"]}});
        }
      }
    }
    at_minute[expressions[i]] = values;
  }
  return at_minute;
}

TEST(MetricsTest, RoverMetersReachTheDashboardsAndSurviveSigkill) {
  TestDir dir;
  auto server = std::make_unique<ServerProcess>(dir.path() + "/data",
                                                std::map<std::string, std::string>{{"TZ", "UTC"}});
  ASSERT_TRUE(server->Start()) << server->Log();

  // Rover registers the process first, as it does before it measures anything.
  v3::EBPFProcessReportList report;
  report.set_ebpfagentid("rover-1");
  auto* k8s = report.add_processes()->mutable_k8sprocess();
  k8s->mutable_entity()->set_layer("K8S_SERVICE");
  k8s->mutable_entity()->set_servicename(kService);
  k8s->mutable_entity()->set_instancename(kInstance);
  k8s->mutable_entity()->set_processname("app");
  v3::EBPFReportProcessDownstream downstream;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(v3::EBPFProcessService::NewStub(FreshChannel(*server))
                    ->reportProcesses(&context, report, &downstream)
                    .ok());
  }
  ASSERT_EQ(downstream.processes_size(), 1);
  const std::string app = downstream.processes(0).processid();

  const int64_t now = absl::ToUnixMillis(absl::Now());
  const int64_t minute = now - now % 60000;
  ASSERT_TRUE(Send(*server, Report(app, now, 5, 0.255)).ok());
  ASSERT_TRUE(Send(*server, Report(app, now, 7, 0.245)).ok());

  // Hand-computed (addendum §2.1): writes 5 + 7 per minute; RTT buckets 0:4, 50:12, 100:4 →
  // p50 = 50 (roof 10), p75 = 50 (roof 15), p90 = 100 (roof 18), p95 = 100, p99 = 100; CPU
  // 0.255 × 10000 and 0.245 × 10000 averaged over the two reports = 2500, shown / 10000.
  const std::vector<std::string> relation = {"process_relation_client_write_cpm",
                                             "process_relation_client_write_rtt_time_percentile",
                                             "process_relation_client_write_cpm/1000"};
  auto check = [&](const ServerProcess& s) {
    auto values = Dashboard(s, minute, relation, true);
    EXPECT_EQ(values["process_relation_client_write_cpm"],
              json::parse(R"([{"labels":[],"value":"12"}])"));
    EXPECT_EQ(values["process_relation_client_write_cpm/1000"],
              json::parse(R"([{"labels":[],"value":"0.012"}])"));
    json percentiles = values["process_relation_client_write_rtt_time_percentile"];
    ASSERT_EQ(percentiles.size(), 5u) << percentiles.dump();
    EXPECT_EQ(percentiles[0], json::parse(R"({"labels":[{"key":"p","value":"50"}],"value":"50"})"));
    EXPECT_EQ(percentiles[2],
              json::parse(R"({"labels":[{"key":"p","value":"90"}],"value":"100"})"));
    auto process = Dashboard(s, minute, {"continuous_profiling_process_cpu/10000"}, false);
    EXPECT_EQ(process["continuous_profiling_process_cpu/10000"],
              json::parse(R"([{"labels":[],"value":"0.25"}])"));
  };
  check(*server);

  // The virtual peer is listed with the instance's processes (booster-ui's route check).
  auto [status, body] = server->GraphQL(
      "query($i: ID!, $d: Duration!) { p: listProcesses(instanceId: $i, duration: $d) "
      "{ name detectType } }",
      json{{"i", model::InstanceId(model::ServiceId(kService), kInstance)},
           {"d", {{"start", Minute(minute - 600000)}, {"end", Minute(minute)}, {"step", "MINUTE"}}}}
          .dump());
  EXPECT_EQ(status, 200);
  EXPECT_THAT(body,
              ::testing::HasSubstr("{\"name\":\"UNKNOWN_REMOTE\",\"detectType\":\"VIRTUAL\"}"))
      << body;

  EXPECT_EQ(server->Stop(SIGKILL), std::optional<int>(-SIGKILL));
  ASSERT_TRUE(server->Start()) << server->Log();
  check(*server);
  // Additions after the restart add to the same rows.
  ASSERT_TRUE(Send(*server, Report(app, now, 3, 0.25)).ok());
  auto after = Dashboard(*server, minute, {"process_relation_client_write_cpm"}, true);
  EXPECT_EQ(after["process_relation_client_write_cpm"],
            json::parse(R"([{"labels":[],"value":"15"}])"));
}

}  // namespace
}  // namespace stackhouse::testing
