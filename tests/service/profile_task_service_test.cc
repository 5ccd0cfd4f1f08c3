#include "service/profile_task_service.h"

#include <thread>

#include "common/logging.h"
#include "fakes/failing_stores.h"
#include "fakes/fake_stores.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "spdlog/sinks/ringbuffer_sink.h"
#include "storage/rocks_profile_store.h"
#include "storage/test_dir.h"

namespace stackhouse::service {
namespace {

constexpr int64_t kNow = 1700000000000;
constexpr int64_t kMinute = 60000;

ProfileTaskRequest Valid(const std::string& service = "svc") {
  ProfileTaskRequest r;
  r.service_id = model::ServiceId(service);
  r.endpoint_name = "  GET:/orders \t";
  r.duration_minutes = 5;
  r.min_duration_threshold_ms = 0;
  r.dump_period_ms = 10;
  r.max_sampling_count = 5;
  return r;
}

class ProfileTaskServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DatabaseOptions options;
    options.data_dir = dir_.path();
    auto db = storage::Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    store_ = std::make_unique<storage::RocksProfileStore>(db_.get(), &clock_);
    auto service = ProfileTaskService::Create(store_.get(), &clock_);
    ASSERT_TRUE(service.ok());
    service_ = std::move(*service);
  }

  std::string Refusal(const ProfileTaskRequest& request) {
    auto result = service_->CreateTask(request);
    EXPECT_TRUE(result.ok());
    EXPECT_FALSE(result->id.has_value());
    return result->error_reason.value_or("<accepted>");
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kNow};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksProfileStore> store_;
  std::unique_ptr<ProfileTaskService> service_;
};

TEST_F(ProfileTaskServiceTest, CreatesTaskWithOapIdAndTrimmedEndpoint) {
  auto result = service_->CreateTask(Valid());
  ASSERT_TRUE(result.ok());
  ASSERT_TRUE(result->id.has_value()) << *result->error_reason;
  EXPECT_EQ(*result->id, absl::StrCat(kNow, "_", model::ServiceId("svc")));
  auto task = service_->GetTask(*result->id);
  ASSERT_TRUE(task.has_value());
  EXPECT_EQ(task->endpoint_name, "GET:/orders");
  EXPECT_EQ(task->start_time_ms, kNow);  // no start time: now
  EXPECT_EQ(task->create_time_ms, kNow);
}

TEST_F(ProfileTaskServiceTest, ValidationMessagesInOapOrder) {
  ProfileTaskRequest r = Valid();
  r.service_id.reset();
  r.endpoint_name = "";
  EXPECT_EQ(Refusal(r), "service cannot be null");
  r = Valid();
  r.endpoint_name = " \t ";
  r.duration_minutes = 0;
  EXPECT_EQ(Refusal(r), "endpoint name cannot be empty");
  r = Valid();
  r.duration_minutes = 0;
  r.min_duration_threshold_ms = -1;
  EXPECT_EQ(Refusal(r), "monitor duration must greater than 1 minutes");
  r = Valid();
  r.min_duration_threshold_ms = -1;
  r.max_sampling_count = 0;
  EXPECT_EQ(Refusal(r), "min duration threshold must greater than or equals zero");
  r = Valid();
  r.max_sampling_count = 0;
  r.duration_minutes = 16;
  EXPECT_EQ(Refusal(r), "max sampling count must greater than zero");
  r = Valid();
  r.duration_minutes = 16;
  r.dump_period_ms = 9;
  EXPECT_EQ(Refusal(r), "The duration of the monitoring task cannot be greater than 15 minutes");
  r = Valid();
  r.dump_period_ms = 9;
  r.max_sampling_count = 10;
  EXPECT_EQ(Refusal(r), "dump period must be greater than or equals 10 milliseconds");
  r = Valid();
  r.max_sampling_count = 10;
  EXPECT_EQ(Refusal(r), "max sampling count must less than 10");
  EXPECT_TRUE(service_->ListTasks("", "").empty());
}

TEST_F(ProfileTaskServiceTest, OneTaskPerServiceAtATime) {
  ASSERT_TRUE(service_->CreateTask(Valid())->id.has_value());
  clock_.AdvanceMillis(1);
  EXPECT_EQ(Refusal(Valid()), "current service already has monitor task execute at this time");
  // Another service is independent.
  ASSERT_TRUE(service_->CreateTask(Valid("other"))->id.has_value());
  // A task starting right after the first ends (5 min) is still refused at the boundary...
  ProfileTaskRequest later = Valid();
  later.start_time_ms = kNow + 5 * kMinute;
  EXPECT_EQ(Refusal(later), "current service already has monitor task execute at this time");
  // ...and accepted one millisecond later.
  later.start_time_ms = kNow + 5 * kMinute + 1;
  EXPECT_TRUE(service_->CreateTask(later)->id.has_value());
  // An empty service id compares against the latest task of any service (OAP).
  ProfileTaskRequest any = Valid();
  any.service_id = "";
  EXPECT_EQ(Refusal(any), "current service already has monitor task execute at this time");
}

TEST_F(ProfileTaskServiceTest, DeliversInWindowOnceByCommandTimeAndLogs) {
  auto id = *service_->CreateTask(Valid())->id;
  // The agent's first poll (-1) gets the task and a NOTIFIED log is written.
  clock_.AdvanceMillis(20000);
  auto tasks = service_->Poll("svc", "pod-1", -1);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].id, id);
  // Having seen its CreateTime, the agent does not get it again.
  EXPECT_TRUE(service_->Poll("svc", "pod-1", tasks[0].create_time_ms).empty());
  // Other services' agents never see it.
  EXPECT_TRUE(service_->Poll("other", "pod-1", -1).empty());
  // Once the start minute is more than 5 minutes ago, it is no longer delivered.
  clock_.SetMillis(kNow + 6 * kMinute);
  EXPECT_TRUE(service_->Poll("svc", "pod-2", -1).empty());

  ASSERT_TRUE(service_->ReportFinish("svc", "pod-1", id).ok());
  ASSERT_TRUE(service_->ReportFinish("svc", "pod-1", "unknown-task").ok());
  auto logs = service_->ListLogs(id);
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 2u);
  const std::string instance = model::InstanceId(model::ServiceId("svc"), "pod-1");
  EXPECT_EQ((*logs)[0].operation, model::ProfileTaskOperation::kExecutionFinished);
  EXPECT_EQ((*logs)[0].operation_time_ms, kNow + 6 * kMinute);
  EXPECT_EQ((*logs)[1].operation, model::ProfileTaskOperation::kNotified);
  EXPECT_EQ((*logs)[1].instance_id, instance);
  EXPECT_EQ((*logs)[1].id, absl::StrCat(id, "_", instance, "_1_", kNow + 20000));
}

TEST_F(ProfileTaskServiceTest, FutureTaskIsDeliveredFiveMinutesBeforeItsStart) {
  ProfileTaskRequest r = Valid();
  r.start_time_ms = kNow + 30 * kMinute;
  ASSERT_TRUE(service_->CreateTask(r)->id.has_value());
  EXPECT_TRUE(service_->Poll("svc", "i", -1).empty());
  clock_.SetMillis(kNow + 25 * kMinute);
  EXPECT_EQ(service_->Poll("svc", "i", -1).size(), 1u);
}

TEST_F(ProfileTaskServiceTest, ConcurrentPollsEachGetTheTaskAndLogOnce) {
  auto id = *service_->CreateTask(Valid())->id;
  constexpr int kAgents = 8;
  std::vector<std::thread> threads;
  std::vector<size_t> received(kAgents);
  for (int i = 0; i < kAgents; ++i) {
    threads.emplace_back(
        [&, i] { received[i] = service_->Poll("svc", "pod-" + std::to_string(i), -1).size(); });
  }
  for (auto& t : threads) t.join();
  for (size_t n : received) EXPECT_EQ(n, 1u);
  auto logs = service_->ListLogs(id);
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(logs->size(), static_cast<size_t>(kAgents));
}

TEST_F(ProfileTaskServiceTest, TasksSurviveARestartAndAreListedNewestFirst) {
  ASSERT_TRUE(service_->CreateTask(Valid("a"))->id.has_value());
  clock_.AdvanceMillis(1);
  ProfileTaskRequest later = Valid("b");
  later.start_time_ms = kNow + 60 * kMinute;
  ASSERT_TRUE(service_->CreateTask(later)->id.has_value());
  auto reloaded = ProfileTaskService::Create(store_.get(), &clock_);
  ASSERT_TRUE(reloaded.ok());
  auto all = (*reloaded)->ListTasks("", "");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].service_id, model::ServiceId("b"));
  EXPECT_EQ((*reloaded)->ListTasks(model::ServiceId("a"), "").size(), 1u);
  EXPECT_EQ((*reloaded)->ListTasks("", "GET:/orders").size(), 2u);
  EXPECT_TRUE((*reloaded)->ListTasks("", "GET:/other").empty());
}

// Over an in-memory store whose calls can be made to fail or to pause.
class ProfileTaskServiceFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto service = ProfileTaskService::Create(&store_, &clock_);
    ASSERT_TRUE(service.ok());
    service_ = std::move(*service);
  }

  SimulatedClock clock_{kNow};
  fakes::FakeProfileTaskStore fake_;
  fakes::FaultInjector faults_;
  fakes::FailingProfileTaskStore store_{&fake_, &faults_};
  std::unique_ptr<ProfileTaskService> service_;
};

TEST_F(ProfileTaskServiceFaultTest, APollWhoseLogWriteFailsStillDeliversAndLogsTheFailure) {
  auto created = service_->CreateTask(Valid());
  ASSERT_TRUE(created.ok() && created->id);
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(8);
  auto logger = GetLogger("task");
  logger->sinks().push_back(sink);
  faults_.FailAlways("AddLog", absl::UnavailableError("disk full"));

  auto tasks = service_->Poll("svc", "pod-1", -1);
  logger->sinks().pop_back();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].id, *created->id);
  std::vector<std::string> lines = sink->last_formatted();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], ::testing::HasSubstr("could not record that"));
  EXPECT_THAT(lines[0], ::testing::HasSubstr(*created->id));
  EXPECT_THAT(lines[0], ::testing::HasSubstr("disk full"));
  EXPECT_THAT(*fake_.ListLogs(*created->id), ::testing::IsEmpty());

  faults_.Clear();
  EXPECT_EQ(service_->Poll("svc", "pod-1", -1).size(), 1u);  // a restarted agent: logged now
  EXPECT_EQ(fake_.ListLogs(*created->id)->size(), 1u);
}

TEST_F(ProfileTaskServiceFaultTest, AFailedTaskWriteLeavesNoTask) {
  faults_.FailNth(1, absl::UnavailableError("disk full"), "PutTask");
  auto failed = service_->CreateTask(Valid());
  EXPECT_EQ(failed.status(), absl::UnavailableError("disk full"));
  EXPECT_TRUE(service_->ListTasks("", "").empty());
  EXPECT_TRUE(service_->Poll("svc", "pod-1", -1).empty());
  EXPECT_THAT(*fake_.ListTasks(), ::testing::IsEmpty());
  // Nothing of it remains to overlap with a retry.
  auto retried = service_->CreateTask(Valid());
  ASSERT_TRUE(retried.ok());
  EXPECT_TRUE(retried->id.has_value()) << retried->error_reason.value_or("");
}

TEST_F(ProfileTaskServiceFaultTest, PollsGoOnWhileATaskIsWritten) {
  faults_.PauseNext("PutTask");
  absl::StatusOr<ProfileTaskCreation> created;
  std::thread creator([&] { created = service_->CreateTask(Valid()); });
  faults_.WaitUntilPaused();
  // The creation holds no lock the poll needs; its task is not delivered before it is stored,
  // and a second creation already sees it.
  EXPECT_TRUE(service_->Poll("svc", "pod-1", -1).empty());
  EXPECT_FALSE(service_->GetTask(absl::StrCat(kNow, "_", model::ServiceId("svc"))).has_value());
  EXPECT_EQ(service_->CreateTask(Valid())->error_reason.value_or(""),
            "current service already has monitor task execute at this time");
  faults_.Resume();
  creator.join();
  ASSERT_TRUE(created.ok() && created->id);
  EXPECT_EQ(service_->Poll("svc", "pod-1", -1).size(), 1u);
}

TEST_F(ProfileTaskServiceFaultTest, ConcurrentOverlappingCreationsMakeOneTask) {
  constexpr int kThreads = 8;
  std::vector<absl::StatusOr<ProfileTaskCreation>> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i] = service_->CreateTask(Valid()); });
  }
  for (std::thread& t : threads) t.join();
  int created = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok());
    created += r->id.has_value();
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(fake_.ListTasks()->size(), 1u);
}

// A store that runs a hook once, right after a ListTasks read or a PutTask write: a reload and
// a creation interleaved deterministically.
class HookedTaskStore final : public storage::ProfileTaskStore {
 public:
  absl::Status PutTask(const model::ProfileTask& task) override {
    absl::Status stored = inner_.PutTask(task);
    if (auto hook = std::exchange(after_put, nullptr)) hook();
    return stored;
  }
  absl::StatusOr<std::vector<model::ProfileTask>> ListTasks() const override {
    if (fail_list) return absl::UnavailableError("database down");
    auto tasks = inner_.ListTasks();
    if (auto hook = std::exchange(after_list, nullptr)) hook();
    return tasks;
  }
  absl::Status AddLog(const model::ProfileTaskLog& log, int64_t task_end_ms) override {
    return inner_.AddLog(log, task_end_ms);
  }
  absl::StatusOr<std::vector<model::ProfileTaskLog>> ListLogs(
      const std::string& task_id) const override {
    return inner_.ListLogs(task_id);
  }

  std::function<void()> after_put;
  mutable std::function<void()> after_list;
  bool fail_list = false;
  fakes::FakeProfileTaskStore inner_;
};

class ProfileTaskServiceReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto service = ProfileTaskService::Create(&store_, &clock_);
    ASSERT_TRUE(service.ok());
    service_ = std::move(*service);
  }
  size_t Cached() { return service_->ListTasks("", "").size(); }

  SimulatedClock clock_{kNow};
  HookedTaskStore store_;
  std::unique_ptr<ProfileTaskService> service_;
};

TEST_F(ProfileTaskServiceReloadTest, BringsInTasksStoredElsewhere) {
  model::ProfileTask other;
  other.id = "from-another-node";
  other.service_id = model::ServiceId("svc");
  other.start_time_ms = kNow;
  other.create_time_ms = kNow;
  other.duration_minutes = 5;
  ASSERT_TRUE(store_.inner_.PutTask(other).ok());
  EXPECT_EQ(Cached(), 0u);
  ASSERT_TRUE(service_->Reload().ok());
  EXPECT_EQ(Cached(), 1u);
  EXPECT_EQ(service_->Poll("svc", "pod-1", -1).size(), 1u);
}

TEST_F(ProfileTaskServiceReloadTest, ATaskAnotherNodeStoredButThisOneHasNotSeenStillOverlaps) {
  model::ProfileTask other;
  other.id = "from-another-node";
  other.service_id = model::ServiceId("svc");
  other.start_time_ms = kNow;
  other.create_time_ms = kNow - 1;
  other.duration_minutes = 5;
  ASSERT_TRUE(store_.inner_.PutTask(other).ok());
  ASSERT_EQ(Cached(), 0u);  // its notification has not arrived
  // The store checks what is stored, whatever this node's cache holds.
  auto created = service_->CreateTask(Valid());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->id.has_value());
  EXPECT_EQ(created->error_reason.value_or(""),
            "current service already has monitor task execute at this time");
  EXPECT_EQ(store_.inner_.ListTasks()->size(), 1u);
  EXPECT_EQ(Cached(), 0u);
  // Another service's task is created as usual.
  EXPECT_TRUE(service_->CreateTask(Valid("svc-2"))->id.has_value());
}

TEST_F(ProfileTaskServiceReloadTest, KeepsATaskCreatedWhileItReads) {
  // The reload's read misses the task that is created right after it.
  store_.after_list = [&] { ASSERT_TRUE(service_->CreateTask(Valid())->id.has_value()); };
  ASSERT_TRUE(service_->Reload().ok());
  EXPECT_EQ(Cached(), 1u);
}

TEST_F(ProfileTaskServiceReloadTest, AReloadBetweenTheWriteAndTheCacheKeepsOneCopy) {
  store_.after_put = [&] { ASSERT_TRUE(service_->Reload().ok()); };
  ASSERT_TRUE(service_->CreateTask(Valid())->id.has_value());
  EXPECT_EQ(Cached(), 1u);
}

TEST_F(ProfileTaskServiceReloadTest, AFailedReloadLeavesTheTasksAsTheyWere) {
  ASSERT_TRUE(service_->CreateTask(Valid())->id.has_value());
  store_.fail_list = true;
  EXPECT_EQ(service_->Reload().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Cached(), 1u);
}

}  // namespace
}  // namespace stackhouse::service
