// collectProfilingData in process: what the receiver stores from a stream mixing good and
// unusable messages and several uploads.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fakes/failing_stores.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "receiver/ebpf_services.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/rocks_metadata_store.h"
#include "storage/test_dir.h"

namespace stackhouse::receiver {
namespace {

namespace v3 = skywalking::v3;
using ::testing::ElementsAre;

constexpr int64_t kNow = 1700000000000;
constexpr int64_t kStart = kNow - 60'000;

class EbpfProfilingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DatabaseOptions options;
    options.data_dir = dir_.path();
    auto db = storage::Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    store_ = std::make_unique<storage::RocksEbpfStore>(db_.get(), &clock_);
    metadata_ = std::make_unique<storage::RocksMetadataStore>(db_.get(), &clock_);
    failing_ = std::make_unique<fakes::FailingEbpfStore>(store_.get(), &faults_);
    auto ebpf = service::EbpfService::Create(failing_.get(), metadata_.get(), &clock_, {});
    ASSERT_TRUE(ebpf.ok()) << ebpf.status();
    ebpf_ = std::move(*ebpf);
    service_ = std::make_unique<EbpfProfilingGrpcService>(&auth_, &times_, ebpf_.get(), &streams_);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v3::EBPFProfilingService::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  grpc::Status Send(const std::vector<v3::EBPFProfilingData>& messages) {
    grpc::ClientContext context;
    v3::Commands response;
    auto writer = stub_->collectProfilingData(&context, &response);
    for (const auto& m : messages) {
      if (!writer->Write(m)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  std::vector<storage::StoredEbpfSample> Samples(const std::string& schedule_id) {
    std::vector<storage::StoredEbpfSample> out;
    EXPECT_TRUE(store_
                    ->ScanSamples(schedule_id, 0, kNow * 2,
                                  [&](const storage::StoredEbpfSample& s) { out.push_back(s); })
                    .ok());
    return out;
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kNow};
  AuthGuard auth_{""};
  MetricsRegistry metrics_;
  AgentTimeGuard times_{&clock_, AgentTimeGuard::Window{}, &metrics_};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksEbpfStore> store_;
  std::unique_ptr<storage::RocksMetadataStore> metadata_;
  // What the service and the receiver use: store_, with calls that can be made to fail.
  fakes::FaultInjector faults_;
  std::unique_ptr<fakes::FailingEbpfStore> failing_;
  std::unique_ptr<service::EbpfService> ebpf_;
  StreamRuntime streams_{StreamRuntime::Options{}, &clock_, &metrics_};
  std::unique_ptr<EbpfProfilingGrpcService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v3::EBPFProfilingService::Stub> stub_;
};

void SetTask(v3::EBPFProfilingData* m, const std::string& process) {
  m->mutable_task()->set_taskid("task-1");
  m->mutable_task()->set_processid(process);
  m->mutable_task()->set_profilingstarttime(kStart);
  m->mutable_task()->set_currenttime(kNow);
}

void AddStack(google::protobuf::RepeatedPtrField<v3::EBPFProfilingStackMetadata>* stacks,
              v3::EBPFProfilingStackType type, std::vector<std::string> innermost_first) {
  auto* stack = stacks->Add();
  stack->set_stacktype(type);
  for (auto& s : innermost_first) stack->add_stacksymbols(std::move(s));
}

v3::EBPFProfilingData OnCpu(int32_t dump_count) {
  v3::EBPFProfilingData m;
  AddStack(m.mutable_oncpu()->mutable_stacks(), v3::PROCESS_KERNEL_SPACE, {"k_leaf", "k_entry"});
  AddStack(m.mutable_oncpu()->mutable_stacks(), v3::PROCESS_USER_SPACE, {"u_leaf", "main"});
  m.mutable_oncpu()->set_dumpcount(dump_count);
  return m;
}

TEST_F(EbpfProfilingServiceTest, StoresUsableSamplesOfEachUploadAndSkipsTheRest) {
  std::vector<v3::EBPFProfilingData> messages;
  messages.push_back(OnCpu(2));
  SetTask(&messages.back(), "proc-a");
  messages.push_back(OnCpu(3));
  messages.emplace_back();  // no profiling branch
  messages.emplace_back();  // a stack list with no symbols
  AddStack(messages.back().mutable_oncpu()->mutable_stacks(), v3::PROCESS_USER_SPACE, {});
  messages.back().mutable_oncpu()->set_dumpcount(9);
  messages.push_back(OnCpu(-4));  // a negative count
  messages.emplace_back();        // Off-CPU in the same upload
  AddStack(messages.back().mutable_offcpu()->mutable_stacks(), v3::PROCESS_USER_SPACE,
           {"futex_wait", "main"});
  messages.back().mutable_offcpu()->set_switchcount(1);
  messages.back().mutable_offcpu()->set_duration(1500);
  messages.push_back(OnCpu(5));  // a second upload in the same stream, another process
  SetTask(&messages.back(), "proc-b");
  ASSERT_TRUE(Send(messages).ok());

  const std::string a = model::EbpfScheduleId("task-1", "proc-a", kStart);
  const std::string b = model::EbpfScheduleId("task-1", "proc-b", kStart);
  auto samples_a = Samples(a);
  auto samples_b = Samples(b);
  ASSERT_EQ(samples_a.size(), 3u);
  ASSERT_EQ(samples_b.size(), 1u);
  std::map<model::EbpfTargetType, std::vector<storage::StoredEbpfSample>> by_type;
  for (const auto& s : samples_a) by_type[s.target_type].push_back(s);
  ASSERT_EQ(by_type[model::EbpfTargetType::kOnCpu].size(), 2u);
  const uint64_t on_cpu_stack = by_type[model::EbpfTargetType::kOnCpu][0].stack_id;
  EXPECT_EQ(by_type[model::EbpfTargetType::kOnCpu][0].dump_count, 2);
  EXPECT_EQ(by_type[model::EbpfTargetType::kOnCpu][1].dump_count, 3);
  EXPECT_EQ(by_type[model::EbpfTargetType::kOnCpu][1].stack_id, on_cpu_stack);
  ASSERT_EQ(by_type[model::EbpfTargetType::kOffCpu].size(), 1u);
  EXPECT_EQ(by_type[model::EbpfTargetType::kOffCpu][0].switch_count, 1);
  EXPECT_EQ(by_type[model::EbpfTargetType::kOffCpu][0].duration_ns, 1500);
  EXPECT_EQ(samples_b[0].stack_id, on_cpu_stack);
  EXPECT_EQ(samples_b[0].dump_count, 5);
  EXPECT_EQ(samples_b[0].upload_time_ms, kNow);

  // Spec case J: user frames outermost first, then kernel frames.
  using model::StackType;
  EXPECT_THAT(*store_->GetStack(on_cpu_stack),
              ElementsAre(model::EbpfSymbol{"main", StackType::kUser},
                          model::EbpfSymbol{"u_leaf", StackType::kUser},
                          model::EbpfSymbol{"k_entry", StackType::kKernel},
                          model::EbpfSymbol{"k_leaf", StackType::kKernel}));
  // The schedules were recorded.
  auto schedule = store_->GetSchedule(a);
  ASSERT_TRUE(schedule.ok());
  ASSERT_TRUE(schedule->has_value());
  EXPECT_EQ((*schedule)->end_time_ms, kNow);
}

TEST_F(EbpfProfilingServiceTest, SamplesBeforeAnyTaskAreSkipped) {
  std::vector<v3::EBPFProfilingData> messages = {OnCpu(1), OnCpu(1)};
  messages[0].mutable_task()->set_currenttime(kNow);  // a task without ids
  ASSERT_TRUE(Send(messages).ok());
  auto schedules = store_->ListSchedules("task-1");
  ASSERT_TRUE(schedules.ok());
  EXPECT_TRUE(schedules->empty());
  EXPECT_TRUE(Samples(model::EbpfScheduleId("", "", 0)).empty());
}

// A failed write reaches the agent as an error status with the store's code, and leaves no
// samples of the failed upload behind.
TEST_F(EbpfProfilingServiceTest, AFailedStoreWriteFailsTheStreamAndStoresNoSamples) {
  const std::string a = model::EbpfScheduleId("task-1", "proc-a", kStart);
  for (const char* method : {"PutSchedule", "AddSampleBlock", "ResolveStacks"}) {
    faults_.FailNth(1, absl::UnavailableError("disk full"), method);
    std::vector<v3::EBPFProfilingData> messages = {OnCpu(2), OnCpu(3)};
    SetTask(&messages[0], "proc-a");
    grpc::Status status = Send(messages);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << method;
    EXPECT_EQ(status.error_message(), "disk full") << method;
    EXPECT_TRUE(Samples(a).empty()) << method;
  }
  // The same stream with a working store is stored whole.
  std::vector<v3::EBPFProfilingData> messages = {OnCpu(2), OnCpu(3)};
  SetTask(&messages[0], "proc-a");
  ASSERT_TRUE(Send(messages).ok());
  EXPECT_EQ(Samples(a).size(), 2u);
}

}  // namespace
}  // namespace stackhouse::receiver

namespace stackhouse::receiver {
namespace {

std::map<std::string, std::string> Args(const v3::Command& command) {
  std::map<std::string, std::string> args;
  for (const auto& kv : command.args()) args[kv.key()] = kv.value();
  return args;
}

TEST_F(EbpfProfilingServiceTest, QueryTasksHandsANetworkTaskToItsInstancesProcesses) {
  service::ReportedProcess envoy;
  envoy.detect_type = model::DetectType::kKubernetes;
  envoy.service_name = "svc";
  envoy.instance_name = "pod-1";
  envoy.process_name = "envoy";
  service::ReportedProcess java = envoy;
  java.process_name = "java";
  auto ids = ebpf_->ReportProcesses("rover-1", {java, envoy});
  ASSERT_TRUE(ids.ok()) << ids.status();
  model::NetworkSamplingRule rule;
  rule.when_4xx = true;
  rule.when_5xx = false;
  rule.settings = model::NetworkCollectSettings{true, 512, false, std::nullopt};
  const std::string instance = model::InstanceId(model::ServiceId("svc"), "pod-1");
  auto created = ebpf_->CreateNetworkTask({instance, {rule}});
  ASSERT_TRUE(created.ok() && created->id) << created.status();

  grpc::ClientContext context;
  v3::EBPFProfilingTaskQuery query;
  query.set_roverinstanceid("rover-1");
  v3::Commands commands;
  ASSERT_TRUE(stub_->queryTasks(&context, query, &commands).ok());
  ASSERT_EQ(commands.commands_size(), 1);
  EXPECT_EQ(commands.commands(0).command(), "EBPFProfilingTaskQuery");
  std::map<std::string, std::string> args = Args(commands.commands(0));
  EXPECT_FALSE(args["SerialNumber"].empty());
  args.erase("SerialNumber");
  std::vector<std::string> sorted = *ids;
  std::sort(sorted.begin(), sorted.end());
  const std::string now = std::to_string(kNow);
  EXPECT_EQ(args, (std::map<std::string, std::string>{
                      {"TaskId", *created->id},
                      {"ProcessId", sorted[0] + "," + sorted[1]},
                      {"TaskUpdateTime", now},
                      {"TriggerType", "FIXED_TIME"},
                      {"TargetType", "NETWORK"},
                      {"TaskStartTime", now},
                      {"ExtensionConfigJSON",
                       "{\"NetworkSamplings\":[{\"When4xx\":true,\"When5xx\":false,\"Settings\":{"
                       "\"RequireCompleteRequest\":true,\"MaxRequestSize\":512,"
                       "\"RequireCompleteResponse\":false}}]}"},
                      {"FixedTriggerDuration", "600"},
                  }));
}

}  // namespace
}  // namespace stackhouse::receiver
