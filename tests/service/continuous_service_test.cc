#include "service/continuous_service.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "storage/rocks_continuous_policy_store.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/rocks_metadata_store.h"
#include "storage/test_dir.h"

namespace stackhouse::service {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using M = model::ContinuousMonitorType;
using T = model::EbpfTargetType;

constexpr int64_t kNow = 1700000000000;

model::ContinuousCheckItem Item(M type, std::string threshold, int64_t period = 10,
                                int64_t count = 3) {
  return {type, std::move(threshold), period, count, std::nullopt, std::nullopt};
}

ContinuousReport Report(T target, std::vector<ReportedCause> causes = {}) {
  ContinuousReport r;
  r.layer = "K8S_SERVICE";
  r.service_name = "svc";
  r.instance_name = "pod";
  r.process_name = "java";
  r.duration_s = 600;
  r.target = target;
  r.causes = std::move(causes);
  return r;
}

ReportedCause Single(M type, double threshold, double current) {
  ReportedCause c;
  c.type = type;
  c.threshold = threshold;
  c.current = current;
  return c;
}

class ContinuousServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DatabaseOptions options;
    options.data_dir = dir_.path();
    auto db = storage::Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    ebpf_store_ = std::make_unique<storage::RocksEbpfStore>(db_.get(), &clock_);
    metadata_ = std::make_unique<storage::RocksMetadataStore>(db_.get(), &clock_);
    policies_ = std::make_unique<storage::RocksContinuousPolicyStore>(db_.get());
    Reload();
  }
  // A restart: the services load what is stored.
  void Reload() {
    service_.reset();
    auto ebpf = EbpfService::Create(ebpf_store_.get(), metadata_.get(), &clock_, {});
    ASSERT_TRUE(ebpf.ok());
    ebpf_ = std::move(*ebpf);
    auto service =
        ContinuousService::Create(policies_.get(), ebpf_.get(), metadata_.get(), &clock_, {});
    ASSERT_TRUE(service.ok());
    service_ = std::move(*service);
  }
  std::optional<std::string> Set(const std::string& service,
                                 std::vector<model::ContinuousTarget> targets) {
    auto result = service_->SetPolicy(model::ServiceId(service), std::move(targets));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : std::optional<std::string>("store error");
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kNow};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksEbpfStore> ebpf_store_;
  std::unique_ptr<storage::RocksMetadataStore> metadata_;
  std::unique_ptr<storage::RocksContinuousPolicyStore> policies_;
  std::unique_ptr<EbpfService> ebpf_;
  std::unique_ptr<ContinuousService> service_;
};

TEST_F(ContinuousServiceTest, PolicyIsNormalizedStoredAndSurvivesARestart) {
  EXPECT_EQ(Set("svc", {{T::kNetwork, {Item(M::kHttpErrorRate, "5")}},
                        {T::kOnCpu, {Item(M::kSystemLoad, "2"), Item(M::kProcessCpu, "80")}}}),
            std::nullopt);
  Reload();
  auto policy = service_->GetPolicy(model::ServiceId("svc"));
  ASSERT_TRUE(policy.has_value());
  ASSERT_EQ(policy->targets.size(), 2u);
  EXPECT_EQ(policy->targets[0].type, T::kOnCpu);
  EXPECT_EQ(policy->targets[0].items[0].type, M::kProcessCpu);
  EXPECT_EQ(policy->targets[1].type, T::kNetwork);
  EXPECT_EQ(policy->uuid,
            model::ContinuousPolicyUuid(model::ContinuousConfigurationJson(policy->targets)));
  EXPECT_EQ(policy->update_time_ms, kNow);
}

TEST_F(ContinuousServiceTest, RefusalsKeepTheStoredPolicy) {
  ASSERT_EQ(Set("svc", {{T::kOnCpu, {Item(M::kProcessCpu, "80")}}}), std::nullopt);
  const std::string uuid = service_->GetPolicy(model::ServiceId("svc"))->uuid;
  EXPECT_EQ(Set("svc", {{T::kOnCpu, {Item(M::kProcessCpu, "50.5")}}}),
            "check PROCESS_CPU in ON_CPU error: parsing threshold error");
  EXPECT_EQ(Set("svc", {{T::kOnCpu, {Item(M::kProcessCpu, "50", 5, 6)}}}),
            "check PROCESS_CPU in ON_CPU error: count must be equal to or smaller than period");
  EXPECT_EQ(Set("svc", {{T::kOnCpu, {Item(M::kProcessCpu, "50"), Item(M::kProcessCpu, "60")}}}),
            "contains multiple same monitor type PROCESS_CPU in ON_CPU");
  auto empty = service_->SetPolicy("", {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "the service id cannot be empty");
  // A policy whose JSON would be 1 MB.
  model::ContinuousCheckItem huge = Item(M::kHttpErrorRate, "5");
  huge.uri_regex = std::string(1 << 20, 'a');
  EXPECT_THAT(Set("svc", {{T::kNetwork, {huge}}}).value_or(""),
              HasSubstr("the policy is too large: its configuration JSON has 1048"));
  Reload();
  EXPECT_EQ(service_->GetPolicy(model::ServiceId("svc"))->uuid, uuid);
}

TEST_F(ContinuousServiceTest, QueryPoliciesSendsOnlyWhatDiffers) {
  EXPECT_THAT(service_->QueryPolicies({{"svc", ""}}), IsEmpty());
  // Rover holds a policy the server does not have: told to drop it.
  EXPECT_THAT(service_->QueryPolicies({{"svc", "old"}}),
              ElementsAre("{\"ServiceName\":\"svc\",\"UUID\":\"\"}"));
  ASSERT_EQ(Set("svc", {{T::kOnCpu, {Item(M::kProcessCpu, "80")}}}), std::nullopt);
  const std::string uuid = service_->GetPolicy(model::ServiceId("svc"))->uuid;
  // The change is visible at the very next poll (no cache), then not again.
  std::vector<std::string> first = service_->QueryPolicies({{"svc", ""}, {"svc", uuid}});
  ASSERT_EQ(first.size(), 1u);  // the first query of a service wins
  EXPECT_THAT(first[0], HasSubstr(uuid));
  EXPECT_THAT(service_->QueryPolicies({{"svc", uuid}}), IsEmpty());
  ASSERT_EQ(Set("svc", {{T::kOnCpu, {Item(M::kProcessCpu, "90")}}}), std::nullopt);
  EXPECT_THAT(service_->QueryPolicies({{"svc", uuid}}).at(0), HasSubstr("\"Threshold\":\"90\""));
  // Setting the same configuration again gives the same uuid.
  const std::string uuid90 = service_->GetPolicy(model::ServiceId("svc"))->uuid;
  ASSERT_EQ(Set("svc", {{T::kOnCpu, {Item(M::kProcessCpu, "90")}}}), std::nullopt);
  EXPECT_THAT(service_->QueryPolicies({{"svc", uuid90}}), IsEmpty());
}

TEST_F(ContinuousServiceTest, ManyPolicies) {
  std::vector<PolicyQuery> queries;
  for (int i = 0; i < 10000; ++i) {
    std::string name = absl::StrCat("svc-", i);
    ASSERT_EQ(Set(name, {{T::kOnCpu, {Item(M::kProcessCpu, "80")}}}), std::nullopt);
    queries.push_back({name, ""});
  }
  Reload();
  EXPECT_EQ(service_->QueryPolicies(queries).size(), 10000u);
}

TEST_F(ContinuousServiceTest, ReportedTasksCarryTheirCausesAndAreNeverPolled) {
  ReportedCause uri = Single(M::kHttpErrorRate, 10, 12.5);
  uri.uri = true;
  uri.uri_text = "/orders";
  auto id = service_->ReportTask(Report(T::kOnCpu, {Single(M::kProcessCpu, 80, 85.234), uri}));
  ASSERT_TRUE(id.ok()) << id.status();
  const std::string service_id = model::ServiceId("svc");
  EXPECT_EQ(*id, model::EbpfTaskLogicalId(service_id, {}, kNow));
  // A second report in the same millisecond gets another id.
  auto second = service_->ReportTask(Report(T::kNetwork));
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, *id);
  Reload();
  std::vector<model::EbpfTask> tasks =
      ebpf_->ListTasks(service_id, "", {}, model::EbpfTriggerType::kContinuousProfiling);
  ASSERT_EQ(tasks.size(), 2u);
  const model::EbpfTask& on_cpu = tasks[0].logical_id == *id ? tasks[0] : tasks[1];
  EXPECT_EQ(on_cpu.instance_id, model::InstanceId(service_id, "pod"));
  EXPECT_EQ(on_cpu.fixed_trigger_duration_s, 600);
  EXPECT_EQ(on_cpu.start_time_ms, kNow);
  ASSERT_TRUE(on_cpu.continuous.has_value());
  EXPECT_EQ(on_cpu.continuous->process_id, model::ProcessId("java", on_cpu.instance_id));
  ASSERT_EQ(on_cpu.continuous->causes.size(), 2u);
  EXPECT_EQ(on_cpu.continuous->causes[0].threshold, 8000);
  EXPECT_EQ(on_cpu.continuous->causes[0].current, 8523);
  EXPECT_EQ(on_cpu.continuous->causes[0].message,
            "PROCESS_CPU: current 85.23% >= threshold 80.00%");
  EXPECT_TRUE(on_cpu.continuous->causes[1].uri);
  EXPECT_FALSE(on_cpu.continuous->causes[1].uri_regex);
  EXPECT_EQ(on_cpu.continuous->causes[1].message,
            "HTTP_ERROR_RATE: current 12.50% >= threshold 10.00% on /orders");
  const model::EbpfTask& network = tasks[0].logical_id == *id ? tasks[1] : tasks[0];
  EXPECT_EQ(network.target_type, T::kNetwork);
  EXPECT_EQ(network.extension_config_json, "{\"networkSamplings\":[]}");
  // Rover never gets them from queryTasks, even for a process it registered.
  ReportedProcess java;
  java.detect_type = model::DetectType::kKubernetes;
  java.service_name = "svc";
  java.instance_name = "pod";
  java.process_name = "java";
  java.properties = {{"support_ebpf_profiling", "true"}};
  ASSERT_TRUE(ebpf_->ReportProcesses("rover", {java}).ok());
  EXPECT_THAT(ebpf_->QueryTasks("rover", 0), IsEmpty());
}

TEST_F(ContinuousServiceTest, BadReports) {
  ContinuousReport no_target = Report(T::kOnCpu);
  no_target.target.reset();
  EXPECT_EQ(service_->ReportTask(no_target).status().code(), absl::StatusCode::kInvalidArgument);
  ContinuousReport no_service = Report(T::kOnCpu);
  no_service.service_name = " ";
  EXPECT_EQ(service_->ReportTask(no_service).status().code(), absl::StatusCode::kInvalidArgument);
  ContinuousReport no_process = Report(T::kOnCpu);
  no_process.process_name.clear();
  EXPECT_EQ(service_->ReportTask(no_process).status().code(), absl::StatusCode::kInvalidArgument);
  ContinuousReport negative = Report(T::kOnCpu);
  negative.duration_s = -1;
  EXPECT_EQ(service_->ReportTask(negative).status().code(), absl::StatusCode::kInvalidArgument);
  // A NaN value: stored as 0, the message says NaN.
  auto nan = service_->ReportTask(Report(T::kOffCpu, {Single(M::kProcessCpu, 80, std::nan(""))}));
  ASSERT_TRUE(nan.ok());
  auto tasks = ebpf_->ListTasks("", model::InstanceId(model::ServiceId("svc"), "pod"), {},
                                model::EbpfTriggerType::kContinuousProfiling);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].continuous->causes[0].current, 0);
  EXPECT_EQ(tasks[0].continuous->causes[0].message, "PROCESS_CPU: current NaN >= threshold 80.00%");
}

TEST_F(ContinuousServiceTest, TargetsCountTriggersOfTheLast48Hours) {
  const std::string service_id = model::ServiceId("svc");
  EXPECT_THAT(service_->ServiceTargets(service_id), IsEmpty());
  clock_.SetMillis(kNow - ContinuousService::kTriggerWindowMs - 1);
  ASSERT_TRUE(service_->ReportTask(Report(T::kOnCpu)).ok());  // too old
  clock_.SetMillis(kNow - 1000);
  ASSERT_TRUE(service_->ReportTask(Report(T::kOnCpu)).ok());
  ASSERT_TRUE(service_->ReportTask(Report(T::kOffCpu)).ok());  // not a policy target
  clock_.SetMillis(kNow);
  ASSERT_TRUE(service_->ReportTask(Report(T::kOnCpu)).ok());
  ASSERT_EQ(Set("svc", {{T::kNetwork, {}}, {T::kOnCpu, {Item(M::kProcessCpu, "80")}}}),
            std::nullopt);
  std::vector<ContinuousTargetSummary> targets = service_->ServiceTargets(service_id);
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].target.type, T::kOnCpu);
  EXPECT_EQ(targets[0].triggered_count, 2);
  EXPECT_EQ(targets[0].last_trigger_ms, kNow);
  EXPECT_EQ(targets[1].target.type, T::kNetwork);
  EXPECT_EQ(targets[1].triggered_count, 0);
  EXPECT_EQ(targets[1].last_trigger_ms, std::nullopt);
  // An empty policy lists nothing.
  ASSERT_EQ(Set("svc", {}), std::nullopt);
  EXPECT_THAT(service_->ServiceTargets(service_id), IsEmpty());
}

}  // namespace
}  // namespace stackhouse::service
