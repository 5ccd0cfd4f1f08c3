// ContinuousProfilingGrpcService over gRPC in process: queryPolicies' uuid semantics and
// reportProfilingTask's answer and bad input (grpc-protocol.md §3.4, §3.5, §5.9).
#include "receiver/continuous_profiling_service.h"

#include <cmath>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "receiver/receiver_server.h"

namespace stackhouse::testing {
namespace {

namespace v3 = skywalking::v3;
using ::testing::HasSubstr;
using M = model::ContinuousMonitorType;
using T = model::EbpfTargetType;

std::string Arg(const v3::Command& command, const std::string& key) {
  for (const auto& kv : command.args()) {
    if (kv.key() == key) return kv.value();
  }
  return "";
}

class ContinuousProfilingServiceTest : public ::testing::Test {
 protected:
  grpc::Status Query(const std::vector<std::pair<std::string, std::string>>& services,
                     v3::Commands* response) {
    v3::ContinuousProfilingPolicyQuery request;
    for (const auto& [name, uuid] : services) {
      auto* p = request.add_policies();
      p->set_servicename(name);
      p->set_uuid(uuid);
    }
    grpc::ClientContext context;
    return stub_->queryPolicies(&context, request, response);
  }
  grpc::Status Report(const v3::ContinuousProfilingReport& request, v3::Commands* response) {
    grpc::ClientContext context;
    return stub_->reportProfilingTask(&context, request, response);
  }
  void SetPolicy(const std::string& service, const std::string& threshold) {
    auto refused = server_.continuous().SetPolicy(
        model::ServiceId(service),
        {{T::kOnCpu, {{M::kProcessCpu, threshold, 10, 3, std::nullopt, std::nullopt}}}});
    ASSERT_TRUE(refused.ok());
    ASSERT_EQ(*refused, std::nullopt);
  }
  static v3::ContinuousProfilingReport OnCpuReport() {
    v3::ContinuousProfilingReport r;
    r.set_layer("K8S_SERVICE");
    r.set_servicename("order-svc");
    r.set_instancename("pod-1");
    r.set_processname("never-registered");
    r.set_duration(600);
    r.mutable_oncpu();
    auto* cause = r.add_causes();
    cause->set_type(v3::ProcessCPU);
    cause->mutable_singlevalue()->set_threshold(80);
    cause->mutable_singlevalue()->set_current(85.234);
    return r;
  }

  ReceiverServer server_;
  std::unique_ptr<v3::ContinuousProfilingService::Stub> stub_ =
      v3::ContinuousProfilingService::NewStub(server_.channel_shared());
};

TEST_F(ContinuousProfilingServiceTest, PoliciesByUuid) {
  v3::Commands none;
  ASSERT_TRUE(Query({{"order-svc", ""}}, &none).ok());
  EXPECT_EQ(none.commands_size(), 0);

  SetPolicy("order-svc", "80");
  v3::Commands first;
  ASSERT_TRUE(Query({{"order-svc", ""}, {"billing", ""}}, &first).ok());
  ASSERT_EQ(first.commands_size(), 1);
  EXPECT_EQ(first.commands(0).command(), "ContinuousProfilingPolicyQuery");
  EXPECT_EQ(Arg(first.commands(0), "SerialNumber").size(), 36u);
  const std::string uuid = server_.continuous().GetPolicy(model::ServiceId("order-svc"))->uuid;
  EXPECT_EQ(Arg(first.commands(0), "ServiceWithPolicyJSON"),
            "[{\"ServiceName\":\"order-svc\",\"UUID\":\"" + uuid +
                "\",\"Profiling\":{\"ON_CPU\":{\"PROCESS_CPU\":{\"Threshold\":\"80\","
                "\"Period\":10,\"Count\":3}}}}]");

  // Unchanged: nothing; changed: at the next poll; gone from the server: an empty entry.
  v3::Commands unchanged;
  ASSERT_TRUE(Query({{"order-svc", uuid}}, &unchanged).ok());
  EXPECT_EQ(unchanged.commands_size(), 0);
  SetPolicy("order-svc", "90");
  v3::Commands changed;
  ASSERT_TRUE(Query({{"order-svc", uuid}, {"billing", "stale"}}, &changed).ok());
  ASSERT_EQ(changed.commands_size(), 1);
  const std::string json = Arg(changed.commands(0), "ServiceWithPolicyJSON");
  EXPECT_THAT(json, HasSubstr("\"Threshold\":\"90\""));
  EXPECT_THAT(json, HasSubstr("{\"ServiceName\":\"billing\",\"UUID\":\"\"}"));
}

TEST_F(ContinuousProfilingServiceTest, ManyServicesInOneCommand) {
  v3::ContinuousProfilingPolicyQuery request;
  for (int i = 0; i < 10000; ++i) {
    std::string name = absl::StrCat("svc-", i);
    SetPolicy(name, "80");
    request.add_policies()->set_servicename(name);
  }
  grpc::ClientContext context;
  v3::Commands response;
  ASSERT_TRUE(stub_->queryPolicies(&context, request, &response).ok());
  ASSERT_EQ(response.commands_size(), 1);
  EXPECT_THAT(Arg(response.commands(0), "ServiceWithPolicyJSON"),
              HasSubstr("\"ServiceName\":\"svc-9999\""));
}

TEST_F(ContinuousProfilingServiceTest, ReportAnswersOneTaskIdCommand) {
  v3::Commands response;
  // The process was never registered: the task is created all the same (as OAP).
  ASSERT_TRUE(Report(OnCpuReport(), &response).ok());
  ASSERT_EQ(response.commands_size(), 1);
  EXPECT_EQ(response.commands(0).command(), "ContinuousProfilingReportTask");
  const std::string service_id = model::ServiceId("order-svc");
  EXPECT_EQ(Arg(response.commands(0), "TaskId"),
            model::EbpfTaskLogicalId(service_id, {}, ReceiverServer::kNow));
  auto tasks =
      server_.ebpf().ListTasks(service_id, "", {}, model::EbpfTriggerType::kContinuousProfiling);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].continuous->causes[0].message,
            "PROCESS_CPU: current 85.23% >= threshold 80.00%");

  v3::ContinuousProfilingReport network = OnCpuReport();
  network.mutable_network()->add_samplinguriregexes("/orders");
  auto* uri = network.add_causes();
  uri->set_type(v3::HTTPAvgResponseTime);
  uri->mutable_uri()->set_regex("/api/.*");
  uri->mutable_uri()->set_threshold(500);
  uri->mutable_uri()->set_current(512);
  v3::Commands second;
  ASSERT_TRUE(Report(network, &second).ok());
  ASSERT_EQ(second.commands_size(), 1);
  EXPECT_NE(Arg(second.commands(0), "TaskId"), Arg(response.commands(0), "TaskId"));
  tasks = server_.ebpf().ListTasks(service_id, "", {T::kNetwork},
                                   model::EbpfTriggerType::kContinuousProfiling);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].continuous->causes[1].message,
            "HTTP_AVG_RESPONSE_TIME: current 512.00ms >= threshold 500.00ms on /api/.*");
  EXPECT_THAT(tasks[0].extension_config_json, HasSubstr("\"uriRegex\":\"/orders\""));
}

TEST_F(ContinuousProfilingServiceTest, BadReports) {
  auto refused = [&](v3::ContinuousProfilingReport r, const std::string& message) {
    v3::Commands response;
    grpc::Status status = Report(r, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << message;
    EXPECT_THAT(status.error_message(), HasSubstr(message));
  };
  v3::ContinuousProfilingReport no_target = OnCpuReport();
  no_target.clear_targetTask();
  refused(no_target, "names no target task");
  v3::ContinuousProfilingReport no_service = OnCpuReport();
  no_service.clear_servicename();
  refused(no_service, "names no service");
  v3::ContinuousProfilingReport unknown_type = OnCpuReport();
  unknown_type.mutable_causes(0)->set_type(
      static_cast<v3::ContinuousProfilingTriggeredMonitorType>(9));
  refused(unknown_type, "cause 0 has an unknown monitor type 9");
  v3::ContinuousProfilingReport no_value = OnCpuReport();
  no_value.add_causes()->set_type(v3::SystemLoad);
  refused(no_value, "cause 1 has neither a singleValue nor a uri");
  EXPECT_TRUE(server_.ebpf()
                  .ListTasks(model::ServiceId("order-svc"), "", {},
                             model::EbpfTriggerType::kContinuousProfiling)
                  .empty());

  // A NaN current value is no error: stored as 0, the message says NaN.
  v3::ContinuousProfilingReport nan = OnCpuReport();
  nan.mutable_causes(0)->mutable_singlevalue()->set_current(std::nan(""));
  v3::Commands response;
  ASSERT_TRUE(Report(nan, &response).ok());
  EXPECT_EQ(response.commands_size(), 1);
}

}  // namespace
}  // namespace stackhouse::testing
