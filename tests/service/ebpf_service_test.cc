#include "service/ebpf_service.h"

#include <thread>

#include "fakes/failing_stores.h"
#include "fakes/fake_stores.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "service/cache_refresher.h"
#include "storage/change_feed.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/rocks_metadata_store.h"
#include "storage/test_dir.h"

namespace stackhouse::service {
namespace {

constexpr int64_t kNow = 1700000000000;

ReportedProcess Rover(const std::string& service, const std::string& pod,
                      const std::string& process, std::vector<std::string> labels,
                      bool supported = true) {
  ReportedProcess r;
  r.detect_type = model::DetectType::kKubernetes;
  r.layer = "K8S_SERVICE";
  r.service_name = service;
  r.instance_name = pod;
  r.process_name = process;
  r.labels = std::move(labels);
  r.properties = {{"pid", "42"}, {"support_ebpf_profiling", supported ? "true" : "false"}};
  return r;
}

class EbpfServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DatabaseOptions options;
    options.data_dir = dir_.path();
    auto db = storage::Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    store_ = std::make_unique<storage::RocksEbpfStore>(db_.get(), &clock_);
    metadata_ = std::make_unique<storage::RocksMetadataStore>(db_.get(), &clock_);
    Reload();
  }
  void Reload() {
    auto service = EbpfService::Create(store_.get(), metadata_.get(), &clock_, {});
    ASSERT_TRUE(service.ok());
    service_ = std::move(*service);
  }
  EbpfFixedTimeRequest Request(std::vector<std::string> labels = {}) {
    EbpfFixedTimeRequest r;
    r.service_id = model::ServiceId("svc");
    r.process_labels = std::move(labels);
    r.duration_s = 60;
    r.target_type = model::EbpfTargetType::kOnCpu;
    return r;
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kNow};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksEbpfStore> store_;
  std::unique_ptr<storage::RocksMetadataStore> metadata_;
  std::unique_ptr<EbpfService> service_;
};

TEST_F(EbpfServiceTest, ReportsReturnSpecIdsAndSurviveReload) {
  auto ids = service_->ReportProcesses("rover-1",
                                       {Rover("order-svc", "pod-1", "java", {"mesh-application"})});
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 1u);
  EXPECT_EQ((*ids)[0], "59a6a9ff97c729a2ae83821976fb43308959ce0a5daf1f0d710317a0151f14e8");
  Reload();
  auto p = service_->GetProcess((*ids)[0]);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->agent_id, "rover-1");
  EXPECT_EQ(p->service_name, "order-svc");
  EXPECT_TRUE(p->profiling_supported);
  EXPECT_THAT(service_->ServiceLabels(model::ServiceId("order-svc")),
              ::testing::ElementsAre("mesh-application"));
}

TEST_F(EbpfServiceTest, ReportRegistersServiceAndInstance) {
  ASSERT_TRUE(
      service_->ReportProcesses("rover-1", {Rover("rover-only", "pod-1", "java", {})}).ok());
  auto service = metadata_->GetService(model::ServiceId("rover-only"));
  ASSERT_TRUE(service.ok());
  ASSERT_TRUE(service->has_value());
  EXPECT_EQ(metadata_->ListInstances(model::ServiceId("rover-only"))->size(), 1u);
}

TEST_F(EbpfServiceTest, LabelsOfOneProcessReportedUnderSeveralEntitiesAccumulate) {
  ReportedProcess mesh = Rover("svc", "pod-1", "java", {"mesh-application"});
  mesh.layer = "MESH";
  ReportedProcess k8s = Rover("svc", "pod-1", "java", {"k8s-service"});
  auto ids = service_->ReportProcesses("rover-1", {mesh, k8s});
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ((*ids)[0], (*ids)[1]);  // one pid, one process id
  EXPECT_THAT(service_->ServiceLabels(model::ServiceId("svc")),
              ::testing::ElementsAre("mesh-application", "k8s-service"));
  auto created = service_->CreateFixedTimeTask(Request({"mesh-application"}));
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->id.has_value()) << created->error_reason.value_or("");
  EXPECT_EQ(service_->QueryTasks("rover-1", 0).size(), 1u);
}

TEST_F(EbpfServiceTest, KeepAliveRegistersServiceAndInstance) {
  ASSERT_TRUE(service_->KeepAlive("rover-1", {Rover("svc", "pod-1", "java", {})}).ok());
  auto service = metadata_->GetService(model::ServiceId("svc"));
  ASSERT_TRUE(service.ok());
  ASSERT_TRUE(service->has_value());
  EXPECT_THAT((*service)->layers, ::testing::ElementsAre("K8S_SERVICE"));
  EXPECT_EQ(metadata_->ListInstances(model::ServiceId("svc"))->size(), 1u);
}

TEST_F(EbpfServiceTest, FixedTimeTaskValidation) {
  ASSERT_TRUE(service_->ReportProcesses("r", {Rover("svc", "p", "java", {"a", "b"})}).ok());
  auto refused = [&](EbpfFixedTimeRequest r) {
    auto result = service_->CreateFixedTimeTask(r);
    EXPECT_TRUE(result.ok());
    return result->error_reason.value_or("<accepted>");
  };
  EbpfFixedTimeRequest r = Request();
  r.service_id = "";
  EXPECT_EQ(refused(r), "service could not be empty");
  EXPECT_EQ(refused(Request({"a", "x", "y"})),
            "The service doesn't have processes with label(s) x, y.");
  r = Request();
  r.target_type.reset();
  EXPECT_EQ(refused(r), "the profiling target could not be null");
  r = Request();
  r.duration_s = 59;
  EXPECT_EQ(refused(r), "the fixed time duration must be greater than or equals 60s");
  r = Request();
  r.target_type = model::EbpfTargetType::kNetwork;
  EXPECT_EQ(refused(r), EbpfService::kNetworkFixedTimeRefusal);

  auto created = service_->CreateFixedTimeTask(Request({"a"}));
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(created->id.has_value());
  EXPECT_EQ(*created->id, model::EbpfTaskLogicalId(model::ServiceId("svc"), {"a"}, kNow));
}

TEST_F(EbpfServiceTest, QueryTasksMatchesProcessesLikeOap) {
  ASSERT_TRUE(service_
                  ->ReportProcesses("rover-1", {Rover("svc", "p1", "envoy", {"mesh-envoy"}),
                                                Rover("svc", "p1", "java", {"mesh-application"}),
                                                Rover("svc", "p2", "cant", {}, false),
                                                Rover("other", "p3", "java", {})})
                  .ok());
  ASSERT_TRUE(service_->ReportProcesses("rover-2", {Rover("svc", "p9", "java", {})}).ok());
  auto all = service_->CreateFixedTimeTask(Request());
  clock_.AdvanceMillis(1000);
  auto labelled = service_->CreateFixedTimeTask(Request({"mesh-application"}));
  ASSERT_TRUE(all->id && labelled->id);

  auto commands = service_->QueryTasks("rover-1", 0);
  // Newest task first; one command per matching, eBPF-capable process of this Rover.
  ASSERT_EQ(commands.size(), 3u);
  EXPECT_EQ(commands[0].task.logical_id, *labelled->id);
  EXPECT_EQ(commands[0].process_ids,
            std::vector<std::string>{
                model::ProcessId("java", model::InstanceId(model::ServiceId("svc"), "p1"))});
  EXPECT_EQ(commands[1].task.logical_id, *all->id);
  EXPECT_EQ(commands[2].task.logical_id, *all->id);
  // latestUpdateTime is strict.
  EXPECT_EQ(service_->QueryTasks("rover-1", kNow).size(), 1u);
  EXPECT_TRUE(service_->QueryTasks("rover-1", kNow + 1000).empty());
  // rover-2's process has no label: only the unlabelled task applies.
  EXPECT_EQ(service_->QueryTasks("rover-2", 0).size(), 1u);
  // A Rover silent for more than 5 minutes gets nothing.
  clock_.AdvanceMillis(6 * 60 * 1000);
  EXPECT_TRUE(service_->QueryTasks("rover-1", 0).empty());
}

model::NetworkSamplingRule Rule(std::optional<std::string> regex) {
  model::NetworkSamplingRule rule;
  rule.uri_regex = std::move(regex);
  rule.when_5xx = true;
  rule.settings = model::NetworkCollectSettings{true, std::nullopt, true, std::nullopt};
  return rule;
}

TEST_F(EbpfServiceTest, NetworkTaskValidationInOapOrder) {
  ReportedProcess peer = Rover("svc", "p2", "UNKNOWN_REMOTE", {});
  peer.detect_type = model::DetectType::kVirtual;
  ASSERT_TRUE(service_->ReportProcesses("r", {Rover("svc", "p1", "java", {}), peer}).ok());
  const std::string p1 = model::InstanceId(model::ServiceId("svc"), "p1");
  auto refused = [&](EbpfNetworkRequest r) {
    auto result = service_->CreateNetworkTask(r);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->error_reason.value_or("<accepted>") : "<error>";
  };
  EXPECT_EQ(refused({"", {}}), "instance could not be empty");
  EXPECT_EQ(refused({model::InstanceId(model::ServiceId("svc"), "p9"), {}}),
            "The instance doesn't have processes.");
  // A virtual process is no process of the instance.
  EXPECT_EQ(refused({model::InstanceId(model::ServiceId("svc"), "p2"), {}}),
            "The instance doesn't have processes.");
  EXPECT_EQ(refused({p1, {Rule(std::nullopt), Rule("")}}),
            "already contains the default sampling config");
  EXPECT_EQ(refused({p1, {Rule("/a"), Rule("/a")}}), "already contains the \"/a\" sampling config");
  EXPECT_THAT(refused({p1, {Rule("/orders/(")}}),
              ::testing::StartsWith("the URI regex \"/orders/(\" does not compile: "));
  model::NetworkSamplingRule rule = Rule("/b");
  rule.min_duration_ms = -1;
  EXPECT_EQ(refused({p1, {rule}}), "the min duration must bigger or equals zero");
  // The duplicate check of a rule comes before the checks of its values.
  EXPECT_EQ(refused({p1, {rule, rule}}), "the min duration must bigger or equals zero");
  EXPECT_EQ(refused({p1, {Rule("/c"), rule, Rule("/c")}}),
            "the min duration must bigger or equals zero");
  rule = Rule("/b");
  rule.settings.reset();
  EXPECT_EQ(refused({p1, {rule}}), "the rule sampling setting cannot be null");
  rule = Rule("/b");
  rule.settings->require_complete_request = false;
  rule.settings->require_complete_response = false;
  EXPECT_EQ(refused({p1, {rule}}), "please collect at least one of request or response");
  rule = Rule("/b");
  rule.settings->max_request_size = 0;
  EXPECT_EQ(refused({p1, {rule}}), "the max request size must bigger than zero");
  rule = Rule("/b");
  rule.settings->max_response_size = -5;
  EXPECT_EQ(refused({p1, {rule}}), "the max response size must bigger than zero");
  EXPECT_TRUE(service_->ListTasks("", p1, {}, model::EbpfTriggerType::kFixedTime).empty());
}

TEST_F(EbpfServiceTest, NetworkTaskIsDeliveredToTheInstancesProcessesWithItsRules) {
  ASSERT_TRUE(service_
                  ->ReportProcesses("rover-1", {Rover("svc", "p1", "envoy", {}),
                                                Rover("svc", "p1", "java", {}, false),
                                                Rover("svc", "p2", "java", {})})
                  .ok());
  const std::string p1 = model::InstanceId(model::ServiceId("svc"), "p1");
  model::NetworkSamplingRule slow = Rule("/api/.*");
  slow.min_duration_ms = 100;
  slow.when_4xx = true;
  slow.when_5xx = false;
  slow.settings->max_response_size = 2048;
  auto created = service_->CreateNetworkTask({p1, {Rule(std::nullopt), slow}});
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(created->id.has_value()) << created->error_reason.value_or("");
  EXPECT_EQ(*created->id, model::EbpfTaskLogicalId(model::ServiceId("svc"), {}, kNow));

  Reload();  // what Rover receives comes from storage
  auto commands = service_->QueryTasks("rover-1", 0);
  ASSERT_EQ(commands.size(), 1u);
  const model::EbpfTask& task = commands[0].task;
  EXPECT_EQ(task.target_type, model::EbpfTargetType::kNetwork);
  EXPECT_EQ(task.instance_id, p1);
  EXPECT_EQ(task.service_id, model::ServiceId("svc"));
  EXPECT_EQ(task.start_time_ms, kNow);
  EXPECT_EQ(task.fixed_trigger_duration_s, 600);
  // Every process of the instance, whether or not it supports eBPF profiling; sorted.
  EXPECT_THAT(commands[0].process_ids,
              ::testing::ElementsAre(model::ProcessId("envoy", p1), model::ProcessId("java", p1)));
  EXPECT_EQ(task.extension_config_json,
            "{\"networkSamplings\":[{\"when4xx\":false,\"when5xx\":true,\"settings\":{"
            "\"requireCompleteRequest\":true,\"requireCompleteResponse\":true}},"
            "{\"uriRegex\":\"/api/.*\",\"minDuration\":100,\"when4xx\":true,\"when5xx\":false,"
            "\"settings\":{\"requireCompleteRequest\":true,\"requireCompleteResponse\":true,"
            "\"maxResponseSize\":2048}}]}");
  auto listed = service_->ListTasks("", p1, {model::EbpfTargetType::kNetwork},
                                    model::EbpfTriggerType::kFixedTime);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].logical_id, *created->id);

  // A second task of the same service in the same millisecond gets an id of its own.
  auto other = service_->CreateNetworkTask({model::InstanceId(model::ServiceId("svc"), "p2"), {}});
  ASSERT_TRUE(other.ok() && other->id);
  EXPECT_NE(*other->id, *created->id);
  EXPECT_EQ(other->id, model::EbpfTaskLogicalId(model::ServiceId("svc"), {}, kNow + 1));
}

// Several nodes: a record is neither handed out nor merged into what Rover is handed (which
// would move its cursor) until it is kSharedTaskDelayMs old.
TEST_F(EbpfServiceTest, WithAFeedARecordCountsForRoverOnlyOnceItIsOld) {
  storage::LocalChangeFeed feed;
  auto made = EbpfService::Create(store_.get(), metadata_.get(), &clock_, {}, &feed);
  ASSERT_TRUE(made.ok());
  EbpfService& service = **made;
  ASSERT_TRUE(service.ReportProcesses("rover-1", {Rover("svc", "p1", "java", {})}).ok());
  auto created =
      service.CreateNetworkTask({model::InstanceId(model::ServiceId("svc"), "p1"), {Rule("/x")}});
  ASSERT_TRUE(created.ok() && created->id);
  EXPECT_TRUE(service.QueryTasks("rover-1", 0).empty());
  clock_.AdvanceMillis(kSharedTaskDelayMs);
  ASSERT_EQ(service.QueryTasks("rover-1", 0).size(), 1u);

  // In its last minute the task is extended by a new record.
  clock_.AdvanceMillis(540 * 1000 - kSharedTaskDelayMs);
  ASSERT_TRUE(service.KeepAlive("rover-1", {Rover("svc", "p1", "java", {})}).ok());
  auto kept = service.KeepNetworkTask(*created->id);
  ASSERT_TRUE(kept.ok() && !kept->has_value());
  std::vector<EbpfTaskCommand> commands = service.QueryTasks("rover-1", 0);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].task.fixed_trigger_duration_s, 600);
  EXPECT_EQ(commands[0].task.last_update_time_ms, kNow);
  EXPECT_TRUE(service.QueryTasks("rover-1", kNow).empty());
  clock_.AdvanceMillis(kSharedTaskDelayMs);
  commands = service.QueryTasks("rover-1", kNow);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].task.fixed_trigger_duration_s, 1200);
}

TEST_F(EbpfServiceTest, KeepAliveExtendsANetworkTaskInItsLastMinute) {
  ASSERT_TRUE(service_->ReportProcesses("rover-1", {Rover("svc", "p1", "java", {})}).ok());
  const std::string p1 = model::InstanceId(model::ServiceId("svc"), "p1");
  auto created = service_->CreateNetworkTask({p1, {Rule("/x")}});
  ASSERT_TRUE(created.ok() && created->id);
  const std::string id = *created->id;
  auto keep = [&](const std::string& task_id) {
    auto result = service_->KeepNetworkTask(task_id);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->value_or("<kept>") : "<error>";
  };
  EXPECT_EQ(keep("nope"), "profiling task not exists");
  EbpfFixedTimeRequest elsewhere = Request();  // another service: Rover gets no command of it
  elsewhere.service_id = model::ServiceId("elsewhere");
  auto on_cpu = service_->CreateFixedTimeTask(elsewhere);
  ASSERT_TRUE(on_cpu.ok() && on_cpu->id);
  EXPECT_EQ(keep(*on_cpu->id), "current task is not a \"NETWORK\" task");

  // More than 60 s left: OK, nothing written.
  clock_.AdvanceMillis(500 * 1000);
  EXPECT_EQ(keep(id), "<kept>");
  EXPECT_TRUE(service_->QueryTasks("rover-1", kNow).empty());
  // 60 s left: extended by 600 s with a new update time that Rover notices.
  clock_.AdvanceMillis(40 * 1000);
  const int64_t kept_at = clock_.NowMillis();
  EXPECT_EQ(keep(id), "<kept>");
  ASSERT_TRUE(service_->KeepAlive("rover-1", {Rover("svc", "p1", "java", {})}).ok());
  Reload();
  auto commands = service_->QueryTasks("rover-1", kNow);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].task.logical_id, id);
  EXPECT_EQ(commands[0].task.fixed_trigger_duration_s, 1200);
  EXPECT_EQ(commands[0].task.start_time_ms, kNow);
  EXPECT_EQ(commands[0].task.last_update_time_ms, kept_at);
  // Merged with the first record: the re-delivered command keeps the sampling rules.
  EXPECT_THAT(commands[0].task.extension_config_json, ::testing::HasSubstr("\"/x\""));
  auto listed = service_->ListTasks("", p1, {model::EbpfTargetType::kNetwork},
                                    model::EbpfTriggerType::kFixedTime);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].fixed_trigger_duration_s, 1200);
  EXPECT_EQ(listed[0].create_time_ms, kNow);

  // A second keep-alive right after is a no-op (11 minutes left).
  EXPECT_EQ(keep(id), "<kept>");
  EXPECT_TRUE(service_->QueryTasks("rover-1", kept_at).empty());
  // Past its end (under a second over still counts as 0 s left, as OAP truncates).
  clock_.SetMillis(kNow + 1200 * 1000 + 999);
  EXPECT_EQ(keep(id), "<kept>");
  clock_.SetMillis(kNow + 1800 * 1000 + 999 + 1000);
  EXPECT_EQ(keep(id), "profiling task has been finished");
}

TEST(RoverExtensionConfigJsonTest, PascalCaseForRoverAndNullWithoutRules) {
  EXPECT_EQ(model::RoverExtensionConfigJson(""), "null");
  EXPECT_EQ(model::RoverExtensionConfigJson("{\"networkSamplings\":[]}"), "null");
  EXPECT_EQ(model::RoverExtensionConfigJson("not json"), "null");
  model::NetworkSamplingRule rule = Rule("/a\"b");
  rule.min_duration_ms = 5;
  rule.when_4xx = true;
  rule.settings->max_request_size = 10;
  rule.settings->max_response_size = 20;
  EXPECT_EQ(model::RoverExtensionConfigJson(model::NetworkExtensionJson({rule})),
            "{\"NetworkSamplings\":[{\"URIRegex\":\"/a\\\"b\",\"MinDuration\":5,\"When4xx\":true,"
            "\"When5xx\":true,\"Settings\":{\"RequireCompleteRequest\":true,\"MaxRequestSize\":10,"
            "\"RequireCompleteResponse\":true,\"MaxResponseSize\":20}}]}");
  EXPECT_EQ(model::NetworkExtensionJson({}), "");
}

TEST_F(EbpfServiceTest, SchedulesKeepTheLatestEnd) {
  auto id = service_->RecordSchedule("task", "proc", kNow, kNow + 5000);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, model::EbpfScheduleId("task", "proc", kNow));
  ASSERT_TRUE(service_->RecordSchedule("task", "proc", kNow, kNow + 10000).ok());
  ASSERT_TRUE(service_->RecordSchedule("task", "proc", kNow, kNow + 7000).ok());
  Reload();
  ASSERT_TRUE(service_->RecordSchedule("task", "proc", kNow, kNow + 8000).ok());
  auto schedules = store_->ListSchedules("task");
  ASSERT_EQ(schedules->size(), 1u);
  EXPECT_EQ((*schedules)[0].end_time_ms, kNow + 10000);
  EXPECT_EQ((*schedules)[0].start_time_ms, kNow);
}

TEST_F(EbpfServiceTest, EstimateScaleAndMergedTaskList) {
  ASSERT_TRUE(service_
                  ->ReportProcesses(
                      "r", {Rover("svc", "p1", "a", {"x"}), Rover("svc", "p1", "b", {"x", "y"}),
                            Rover("svc", "p1", "c", {"y"}, false)})
                  .ok());
  EXPECT_EQ(service_->EstimateScale(model::ServiceId("svc"), {}), 2);
  EXPECT_EQ(service_->EstimateScale(model::ServiceId("svc"), {"x", "y"}), 1);
  EXPECT_EQ(service_->EstimateScale("", {}), 0);
  ASSERT_TRUE(service_->CreateFixedTimeTask(Request()).ok());
  auto tasks = service_->ListTasks(model::ServiceId("svc"), "", {model::EbpfTargetType::kOffCpu},
                                   model::EbpfTriggerType::kFixedTime);
  EXPECT_TRUE(tasks.empty());
  tasks = service_->ListTasks(model::ServiceId("svc"), "", {}, model::EbpfTriggerType::kFixedTime);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].fixed_trigger_duration_s, 60);
}

TEST(MergeTaskRecordsTest, MaximaOverRecordsOfOneLogicalTask) {
  model::EbpfTask a;
  a.logical_id = "t";
  a.create_time_ms = 1;
  a.start_time_ms = 100;
  a.fixed_trigger_duration_s = 600;
  a.last_update_time_ms = 1;
  model::EbpfTask b = a;
  b.create_time_ms = 5;
  b.start_time_ms = 999;
  b.fixed_trigger_duration_s = 1200;
  b.last_update_time_ms = 5;
  model::EbpfTask c;
  c.logical_id = "u";
  c.create_time_ms = 3;
  auto merged = MergeTaskRecords({b, c, a});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].logical_id, "u");  // newest create time first: u (3) vs t (1)
  EXPECT_EQ(merged[1].start_time_ms, 100);
  EXPECT_EQ(merged[1].fixed_trigger_duration_s, 1200);
  EXPECT_EQ(merged[1].last_update_time_ms, 5);
}

// Over in-memory stores whose calls can be made to fail or to pause.
class EbpfServiceFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto service = EbpfService::Create(&store_, &metadata_, &clock_, {});
    ASSERT_TRUE(service.ok());
    service_ = std::move(*service);
  }
  std::string ProcessIdOf(const std::string& pod, const std::string& process) {
    return model::ProcessId(process, model::InstanceId(model::ServiceId("svc"), pod));
  }

  SimulatedClock clock_{kNow};
  fakes::FaultInjector faults_;
  fakes::FakeEbpfStore fake_;
  fakes::FailingEbpfStore store_{&fake_, &faults_};
  fakes::FakeMetadataStore fake_metadata_{&clock_};
  fakes::FailingMetadataStore metadata_{&fake_metadata_, &faults_};
  std::unique_ptr<EbpfService> service_;
};

// Labels this node's cache lacks send it to the store before it refuses; when the store cannot
// answer, the caller gets that error, not a refusal naming labels the store may have.
TEST_F(EbpfServiceFaultTest, AFixedTimeTaskForUnknownLabelsFailsWhenTheStoreCannotBeRead) {
  model::Process process;
  process.id = "proc-of-another-node";
  process.service_id = model::ServiceId("svc");
  process.labels = {"mesh"};
  process.last_ping_ms = kNow;
  ASSERT_TRUE(fake_.PutProcesses({process}).ok());
  EbpfFixedTimeRequest request;
  request.service_id = model::ServiceId("svc");
  request.process_labels = {"mesh"};
  request.duration_s = 60;
  request.target_type = model::EbpfTargetType::kOnCpu;
  faults_.FailNth(1, absl::UnavailableError("database down"), "ListProcesses");
  auto failed = service_->CreateFixedTimeTask(request);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
  auto created = service_->CreateFixedTimeTask(request);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->id.has_value()) << created->error_reason.value_or("");
}

TEST_F(EbpfServiceFaultTest, AFailedScheduleWriteIsRetriedByTheNextCall) {
  const std::string id = model::EbpfScheduleId("task", "proc", kNow);
  faults_.FailNth(1, absl::UnavailableError("disk full"), "PutSchedule");
  EXPECT_EQ(service_->RecordSchedule("task", "proc", kNow, kNow + 5000).status(),
            absl::UnavailableError("disk full"));
  EXPECT_FALSE(fake_.GetSchedule(id)->has_value());
  // The failed end was not taken as stored.
  ASSERT_TRUE(service_->RecordSchedule("task", "proc", kNow, kNow + 5000).ok());
  EXPECT_EQ((*fake_.GetSchedule(id))->end_time_ms, kNow + 5000);
}

TEST_F(EbpfServiceFaultTest, PollsGoOnWhileAScheduleIsReadOrWritten) {
  ASSERT_TRUE(service_->ReportProcesses("rover-1", {Rover("svc", "p1", "java", {})}).ok());
  ASSERT_TRUE(service_
                  ->CreateFixedTimeTask([] {
                    EbpfFixedTimeRequest r;
                    r.service_id = model::ServiceId("svc");
                    r.duration_s = 60;
                    r.target_type = model::EbpfTargetType::kOnCpu;
                    return r;
                  }())
                  .ok());
  for (const char* method : {"GetSchedule", "PutSchedule"}) {
    faults_.PauseNext(method);
    absl::StatusOr<std::string> recorded;
    std::thread stream([&] {
      recorded = service_->RecordSchedule("task", ProcessIdOf("p1", "java"), kNow,
                                          kNow + (method[0] == 'G' ? 1000 : 2000));
    });
    faults_.WaitUntilPaused();
    EXPECT_EQ(service_->QueryTasks("rover-1", 0).size(), 1u) << method;
    faults_.Resume();
    stream.join();
    EXPECT_TRUE(recorded.ok()) << method;
  }
}

TEST_F(EbpfServiceFaultTest, AFailedProcessWriteLeavesTheRegistryAsItWas) {
  faults_.FailNth(1, absl::UnavailableError("disk full"), "PutProcesses");
  EXPECT_EQ(service_->ReportProcesses("rover-1", {Rover("svc", "p1", "java", {"a"})}).status(),
            absl::UnavailableError("disk full"));
  EXPECT_FALSE(service_->GetProcess(ProcessIdOf("p1", "java")).has_value());
  EXPECT_TRUE(service_->ListProcesses("", "").empty());
  EXPECT_THAT(*fake_.ListProcesses(), ::testing::IsEmpty());

  ASSERT_TRUE(service_->ReportProcesses("rover-1", {Rover("svc", "p1", "java", {"a"})}).ok());
  EXPECT_EQ(fake_.ListProcesses()->size(), 1u);
  // A keep-alive whose write fails does not count as written: the next one writes.
  clock_.AdvanceMillis(60'000);
  faults_.FailNth(1, absl::UnavailableError("disk full"), "PutProcesses");
  EXPECT_FALSE(service_->KeepAlive("rover-1", {Rover("svc", "p1", "java", {})}).ok());
  EXPECT_EQ(service_->GetProcess(ProcessIdOf("p1", "java"))->last_ping_ms, kNow);
  ASSERT_TRUE(service_->KeepAlive("rover-1", {Rover("svc", "p1", "java", {})}).ok());
  EXPECT_EQ((*fake_.ListProcesses())[0].last_ping_ms, kNow + 60'000);
}

TEST_F(EbpfServiceFaultTest, AFailedOwnerRegistrationStoresNoProcess) {
  faults_.FailNth(1, absl::UnavailableError("disk full"), "UpsertInstance");
  EXPECT_FALSE(service_->ReportProcesses("rover-1", {Rover("svc", "p1", "java", {})}).ok());
  EXPECT_THAT(*fake_.ListProcesses(), ::testing::IsEmpty());
  EXPECT_FALSE(service_->GetProcess(ProcessIdOf("p1", "java")).has_value());
}

TEST_F(EbpfServiceFaultTest, ATaskStoredWhileAReloadWaitsIsKeptOnceAndNotHeldUp) {
  ASSERT_TRUE(service_->ReportProcesses("rover-1", {Rover("svc", "p1", "java", {})}).ok());
  EbpfFixedTimeRequest request;
  request.service_id = model::ServiceId("svc");
  request.duration_s = 60;
  request.target_type = model::EbpfTargetType::kOnCpu;
  // Right after the reload's read, which misses it, a task is created: creations and polls
  // are not held up by the reload.
  store_.after_list_tasks = [&] {
    auto created = service_->CreateFixedTimeTask(request);
    ASSERT_TRUE(created.ok() && created->id.has_value());
    EXPECT_EQ(service_->QueryTasks("rover-1", 0).size(), 1u);
  };
  ASSERT_TRUE(service_->ReloadTasks().ok());
  ASSERT_EQ(store_.after_list_tasks, nullptr);  // the hook ran
  // The reload kept it, once.
  EXPECT_EQ(service_->ListTasks("", "", {}, model::EbpfTriggerType::kFixedTime).size(), 1u);
  EXPECT_EQ(service_->QueryTasks("rover-1", 0).size(), 1u);
}

TEST_F(EbpfServiceFaultTest, ReloadsBringInOtherNodesRecordsAndKeepTheCacheOnAnError) {
  // The cache holds this node's process and task.
  ASSERT_TRUE(service_->ReportProcesses("rover-1", {Rover("svc", "p1", "java", {})}).ok());
  const std::string mine = ProcessIdOf("p1", "java");
  EbpfFixedTimeRequest request;
  request.service_id = model::ServiceId("svc");
  request.duration_s = 60;
  request.target_type = model::EbpfTargetType::kOnCpu;
  auto created = service_->CreateFixedTimeTask(request);
  ASSERT_TRUE(created.ok() && created->id.has_value());

  model::EbpfTask other;
  other.logical_id = "from-another-node";
  other.service_id = model::ServiceId("svc");
  other.start_time_ms = kNow;
  other.fixed_trigger_duration_s = 60;
  other.create_time_ms = kNow;
  other.last_update_time_ms = kNow;
  ASSERT_TRUE(fake_.PutTask(other).ok());
  model::Process process;
  process.id = "proc-of-another-node";
  process.service_id = model::ServiceId("svc");
  process.last_ping_ms = kNow;
  ASSERT_TRUE(fake_.PutProcesses({process}).ok());

  faults_.FailNth(1, absl::UnavailableError("database down"), "ListTasks");
  EXPECT_EQ(service_->ReloadTasks().code(), absl::StatusCode::kUnavailable);
  faults_.FailNth(1, absl::UnavailableError("database down"), "ListProcesses");
  EXPECT_EQ(service_->ReloadProcesses().code(), absl::StatusCode::kUnavailable);
  // The cache is as it was: this node's records, not the other's.
  std::vector<model::EbpfTask> cached =
      service_->ListTasks("", "", {}, model::EbpfTriggerType::kFixedTime);
  ASSERT_EQ(cached.size(), 1u);
  EXPECT_EQ(cached[0].logical_id, *created->id);
  EXPECT_EQ(service_->QueryTasks("rover-1", 0).size(), 1u);
  EXPECT_TRUE(service_->HasProcess(mine));
  EXPECT_FALSE(service_->HasProcess("proc-of-another-node"));

  ASSERT_TRUE(service_->ReloadTasks().ok());
  ASSERT_TRUE(service_->ReloadProcesses().ok());
  EXPECT_EQ(service_->ListTasks("", "", {}, model::EbpfTriggerType::kFixedTime).size(), 2u);
  EXPECT_TRUE(service_->HasProcess("proc-of-another-node"));
  EXPECT_TRUE(service_->HasProcess(mine));
  // An older stored copy does not replace a newer one in memory.
  clock_.AdvanceMillis(5000);  // within the 10 s in which pings are not written
  ASSERT_TRUE(service_->KeepAlive("rover-1", {Rover("svc", "p1", "java", {})}).ok());
  ASSERT_TRUE(service_->ReloadProcesses().ok());
  EXPECT_EQ(service_->GetProcess(mine)->last_ping_ms, kNow + 5000);
}

}  // namespace
}  // namespace stackhouse::service
