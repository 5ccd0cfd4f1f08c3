#include "service/cache_refresher.h"

#include <chrono>
#include <map>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "service/continuous_service.h"
#include "service/ebpf_service.h"
#include "service/profile_task_service.h"
#include "storage/change_feed.h"
#include "storage/rocks_continuous_policy_store.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/rocks_metadata_store.h"
#include "storage/rocks_profile_store.h"
#include "storage/test_dir.h"

namespace stackhouse::service {
namespace {

using storage::ChangeKind;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kNow = 1700000000000;
constexpr int64_t kInterval = 10'000;

TEST(ChangeKindTest, NamesRoundTrip) {
  for (ChangeKind kind : storage::kAllChangeKinds) {
    EXPECT_EQ(storage::ParseChangeKind(storage::ChangeKindName(kind)), kind);
  }
  EXPECT_EQ(storage::ChangeKindName(ChangeKind::kProfileTasks), "profile_tasks");
  EXPECT_EQ(storage::ParseChangeKind("nonsense"), std::nullopt);
}

TEST(LocalChangeFeedTest, DeliversToEveryListenerUnlessDroppedOrFailed) {
  storage::LocalChangeFeed feed;
  std::vector<ChangeKind> a, b;
  feed.Subscribe([&](ChangeKind k) { a.push_back(k); });
  feed.Subscribe([&](ChangeKind k) { b.push_back(k); });
  ASSERT_TRUE(feed.Publish(ChangeKind::kEbpfTasks).ok());
  feed.DropPublications(true);
  ASSERT_TRUE(feed.Publish(ChangeKind::kProfileTasks).ok());
  feed.DropPublications(false);
  feed.FailPublications(absl::UnavailableError("down"));
  EXPECT_EQ(feed.Publish(ChangeKind::kProfileTasks).code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(a, ElementsAre(ChangeKind::kEbpfTasks));
  EXPECT_THAT(b, ElementsAre(ChangeKind::kEbpfTasks));
  EXPECT_EQ(feed.published(), 3);
}

// Counts the reloads of each kind; a kind can be made to fail.
class CacheRefresherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (ChangeKind kind : storage::kAllChangeKinds) {
      refresher_.Add(kind, [this, kind]() -> absl::Status {
        absl::MutexLock lock(&mu_);
        ++reloads_[kind];
        return failing_ == kind ? absl::UnavailableError("database down") : absl::OkStatus();
      });
    }
  }
  int Reloads(ChangeKind kind) {
    absl::MutexLock lock(&mu_);
    return reloads_[kind];
  }
  void Fail(std::optional<ChangeKind> kind) {
    absl::MutexLock lock(&mu_);
    failing_ = kind;
  }

  SimulatedClock clock_{kNow};
  absl::Mutex mu_;
  std::map<ChangeKind, int> reloads_ ABSL_GUARDED_BY(mu_);
  std::optional<ChangeKind> failing_ ABSL_GUARDED_BY(mu_);
  // Last: destroyed first, so that its thread stops before what its reloads use goes.
  CacheRefresher refresher_{&clock_, kInterval};
};

TEST_F(CacheRefresherTest, ReloadsAChangedKindAtOnceAndEveryKindEachInterval) {
  EXPECT_EQ(refresher_.RunDue(), 0);  // just loaded: nothing due
  refresher_.OnChange(ChangeKind::kProfileTasks);
  refresher_.OnChange(ChangeKind::kProfileTasks);  // coalesced
  EXPECT_EQ(refresher_.RunDue(), 1);
  EXPECT_EQ(Reloads(ChangeKind::kProfileTasks), 1);
  EXPECT_EQ(refresher_.RunDue(), 0);

  clock_.AdvanceMillis(kInterval - 1);
  EXPECT_EQ(refresher_.RunDue(), 0);
  clock_.AdvanceMillis(1);
  EXPECT_EQ(refresher_.RunDue(), 4);
  for (ChangeKind kind : storage::kAllChangeKinds) {
    EXPECT_EQ(Reloads(kind), kind == ChangeKind::kProfileTasks ? 2 : 1);
  }
  // The next period counts from that refresh.
  clock_.AdvanceMillis(kInterval - 1);
  EXPECT_EQ(refresher_.RunDue(), 0);
  clock_.AdvanceMillis(1);
  EXPECT_EQ(refresher_.RunDue(), 4);
}

TEST_F(CacheRefresherTest, AFloodOfNotificationsReloadsAKindOncePerGapAndLosesNone) {
  constexpr int64_t kGap = CacheRefresher::kNotifiedGapMs;
  refresher_.OnChange(ChangeKind::kProfileTasks);
  EXPECT_EQ(refresher_.RunDue(), 1);
  for (int i = 0; i < 100; ++i) {
    refresher_.OnChange(ChangeKind::kProfileTasks);
    EXPECT_EQ(refresher_.RunDue(), 0);
  }
  // Each kind has its own gap.
  refresher_.OnChange(ChangeKind::kEbpfTasks);
  EXPECT_EQ(refresher_.RunDue(), 1);
  clock_.AdvanceMillis(kGap - 1);
  refresher_.OnChange(ChangeKind::kProfileTasks);
  EXPECT_EQ(refresher_.RunDue(), 0);
  // The pending notifications reload once when the gap ends, and are then spent.
  clock_.AdvanceMillis(1);
  EXPECT_EQ(refresher_.RunDue(), 1);
  EXPECT_EQ(refresher_.RunDue(), 0);
  EXPECT_EQ(Reloads(ChangeKind::kProfileTasks), 2);
  EXPECT_EQ(Reloads(ChangeKind::kEbpfTasks), 1);
  // A notification a gap after the last reload reloads at once.
  clock_.AdvanceMillis(kGap);
  refresher_.OnChange(ChangeKind::kProfileTasks);
  EXPECT_EQ(refresher_.RunDue(), 1);
  EXPECT_EQ(Reloads(ChangeKind::kProfileTasks), 3);
}

TEST_F(CacheRefresherTest, TheGapHoldsBackNeitherThePeriodicRefreshNorARetry) {
  clock_.AdvanceMillis(kInterval - 1);
  refresher_.OnChange(ChangeKind::kProfileTasks);
  EXPECT_EQ(refresher_.RunDue(), 1);
  clock_.AdvanceMillis(1);
  EXPECT_EQ(refresher_.RunDue(), 4);  // the period's, a millisecond after a notified one
  Fail(ChangeKind::kProfileTasks);
  clock_.AdvanceMillis(kInterval);
  EXPECT_EQ(refresher_.RunDue(), 4);
  EXPECT_EQ(refresher_.RunDue(), 1);  // within the gap: the failed kind is tried again
  EXPECT_EQ(Reloads(ChangeKind::kProfileTasks), 4);
  EXPECT_EQ(Reloads(ChangeKind::kEbpfTasks), 2);
}

TEST_F(CacheRefresherTest, AClockSetBackRestartsThePeriod) {
  clock_.AdvanceMillis(-1);
  EXPECT_EQ(refresher_.RunDue(), 4);
  clock_.AdvanceMillis(kInterval - 1);
  EXPECT_EQ(refresher_.RunDue(), 0);
}

TEST_F(CacheRefresherTest, AFailedReloadIsTriedOnEveryRunUntilItWorks) {
  Fail(ChangeKind::kEbpfTasks);
  refresher_.OnChange(ChangeKind::kEbpfTasks);
  EXPECT_EQ(refresher_.RunDue(), 1);
  EXPECT_EQ(refresher_.RunDue(), 1);
  Fail(std::nullopt);
  EXPECT_EQ(refresher_.RunDue(), 1);
  EXPECT_EQ(refresher_.RunDue(), 0);
  EXPECT_EQ(Reloads(ChangeKind::kEbpfTasks), 3);
}

TEST(CacheRefresherKindsTest, KindsWithoutAReloadAreSkipped) {
  SimulatedClock clock(kNow);
  CacheRefresher refresher(&clock, kInterval);
  int reloads = 0;
  refresher.Add(ChangeKind::kProfileTasks, [&] {
    ++reloads;
    return absl::OkStatus();
  });
  refresher.OnChange(ChangeKind::kContinuousPolicies);
  EXPECT_EQ(refresher.RunDue(), 0);
  clock.AdvanceMillis(kInterval);
  EXPECT_EQ(refresher.RunDue(), 1);
  EXPECT_EQ(reloads, 1);
}

TEST_F(CacheRefresherTest, ItsThreadReloadsWhatAFeedSaysChangedAndStops) {
  storage::LocalChangeFeed feed;
  feed.Subscribe([this](ChangeKind kind) { refresher_.OnChange(kind); });
  // A tick far longer than the test: only the change can wake the thread.
  refresher_.Start(absl::Hours(1));
  ASSERT_TRUE(feed.Publish(ChangeKind::kContinuousPolicies).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Reloads(ChangeKind::kContinuousPolicies) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(Reloads(ChangeKind::kContinuousPolicies), 1);
  refresher_.Stop();
  refresher_.Stop();
  EXPECT_EQ(Reloads(ChangeKind::kProfileTasks), 0);
}

TEST_F(CacheRefresherTest, ItsThreadReloadsANotificationHeldBackOnceTheGapEnds) {
  // A tick far longer than the test: only a notification or the end of a gap wakes the thread.
  refresher_.Start(absl::Hours(1));
  auto wait_for = [this](ChangeKind kind, int n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (Reloads(kind) < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return Reloads(kind);
  };
  refresher_.OnChange(ChangeKind::kEbpfProcesses);
  ASSERT_EQ(wait_for(ChangeKind::kEbpfProcesses, 1), 1);
  // Held back by its gap; the run that reloads the policies has seen it so.
  refresher_.OnChange(ChangeKind::kEbpfProcesses);
  refresher_.OnChange(ChangeKind::kContinuousPolicies);
  ASSERT_EQ(wait_for(ChangeKind::kContinuousPolicies, 1), 1);
  EXPECT_EQ(Reloads(ChangeKind::kEbpfProcesses), 1);
  // No notification comes: the end of the gap wakes the thread.
  clock_.AdvanceMillis(CacheRefresher::kNotifiedGapMs);
  EXPECT_EQ(wait_for(ChangeKind::kEbpfProcesses, 2), 2);
  refresher_.Stop();
}

// Two nodes in one process: a service of each kind per node over one shared store, a shared
// feed, and a refresher per node run by hand on the simulated clock.
class TwoNodesTest : public ::testing::Test {
 protected:
  struct Node {
    std::unique_ptr<ProfileTaskService> tasks;
    std::unique_ptr<EbpfService> ebpf;
    std::unique_ptr<ContinuousService> continuous;
    // Last: destroyed before the services its reloads call.
    std::unique_ptr<CacheRefresher> refresher;
  };

  void SetUp() override {
    storage::DatabaseOptions options;
    options.data_dir = dir_.path();
    auto db = storage::Database::Open(options, &clock_);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    profiles_ = std::make_unique<storage::RocksProfileStore>(db_.get(), &clock_);
    ebpf_store_ = std::make_unique<storage::RocksEbpfStore>(db_.get(), &clock_);
    metadata_ = std::make_unique<storage::RocksMetadataStore>(db_.get(), &clock_);
    policies_ = std::make_unique<storage::RocksContinuousPolicyStore>(db_.get());
    for (Node* node : {&a_, &b_}) {
      node->refresher = std::make_unique<CacheRefresher>(&clock_, kInterval);
      feed_.Subscribe([r = node->refresher.get()](ChangeKind kind) { r->OnChange(kind); });
      auto tasks = ProfileTaskService::Create(profiles_.get(), &clock_, &feed_);
      ASSERT_TRUE(tasks.ok());
      node->tasks = std::move(*tasks);
      auto ebpf = EbpfService::Create(ebpf_store_.get(), metadata_.get(), &clock_, {}, &feed_);
      ASSERT_TRUE(ebpf.ok());
      node->ebpf = std::move(*ebpf);
      auto continuous = ContinuousService::Create(policies_.get(), node->ebpf.get(),
                                                  metadata_.get(), &clock_, {}, &feed_);
      ASSERT_TRUE(continuous.ok());
      node->continuous = std::move(*continuous);
      ProfileTaskService* t = node->tasks.get();
      EbpfService* e = node->ebpf.get();
      ContinuousService* c = node->continuous.get();
      node->refresher->Add(ChangeKind::kProfileTasks, [t] { return t->Reload(); });
      node->refresher->Add(ChangeKind::kEbpfTasks, [e] { return e->ReloadTasks(); });
      node->refresher->Add(ChangeKind::kEbpfProcesses, [e] { return e->ReloadProcesses(); });
      node->refresher->Add(ChangeKind::kContinuousPolicies, [c] { return c->Reload(); });
    }
  }

  void RunBoth() {
    a_.refresher->RunDue();
    b_.refresher->RunDue();
  }

  // A task of service "svc" starting at `start_ms` (0: now).
  std::string CreateTraceTask(Node& node, int64_t start_ms = 0) {
    ProfileTaskRequest r;
    r.service_id = model::ServiceId("svc");
    if (start_ms > 0) r.start_time_ms = start_ms;
    r.endpoint_name = "GET:/orders";
    r.duration_minutes = 5;
    r.dump_period_ms = 10;
    r.max_sampling_count = 5;
    auto created = node.tasks->CreateTask(r);
    EXPECT_TRUE(created.ok()) << created.status();
    EXPECT_TRUE(created.ok() && created->id)
        << (created.ok() ? created->error_reason.value_or("") : "");
    return created.ok() ? created->id.value_or("") : "";
  }

  // A one-minute On-CPU fixed-time task of service "svc" for processes with `labels`.
  static EbpfFixedTimeRequest FixedTimeRequest(std::vector<std::string> labels) {
    EbpfFixedTimeRequest request;
    request.service_id = model::ServiceId("svc");
    request.process_labels = std::move(labels);
    request.duration_s = 60;
    request.target_type = model::EbpfTargetType::kOnCpu;
    return request;
  }

  static std::vector<std::string> Polled(Node& node, int64_t last_command_time = -1) {
    std::vector<std::string> ids;
    for (const model::ProfileTask& t : node.tasks->Poll("svc", "pod-1", last_command_time)) {
      ids.push_back(t.id);
    }
    return ids;
  }

  testing::TestDir dir_;
  SimulatedClock clock_{kNow};
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::RocksProfileStore> profiles_;
  std::unique_ptr<storage::RocksEbpfStore> ebpf_store_;
  std::unique_ptr<storage::RocksMetadataStore> metadata_;
  std::unique_ptr<storage::RocksContinuousPolicyStore> policies_;
  storage::LocalChangeFeed feed_;
  Node a_, b_;
};

TEST_F(TwoNodesTest, ATraceTaskCreatedOnOneNodeIsHandedOutByTheOtherOnceNotified) {
  const std::string id = CreateTraceTask(a_);
  clock_.AdvanceMillis(kSharedTaskDelayMs);
  EXPECT_THAT(Polled(b_), IsEmpty());  // not reloaded yet
  RunBoth();
  EXPECT_THAT(Polled(b_), ElementsAre(id));
  // De-duplication stays the agent's lastCommandTime, whichever node it polls; a restarted
  // agent (-1) gets the task again.
  const int64_t created = a_.tasks->GetTask(id)->create_time_ms;
  EXPECT_THAT(Polled(a_, created), IsEmpty());
  EXPECT_THAT(Polled(b_, created), IsEmpty());
  EXPECT_THAT(Polled(a_), ElementsAre(id));
  // The node that created it reloaded too: one copy, not two.
  EXPECT_EQ(a_.tasks->ListTasks("", "").size(), 1u);
  // An overlapping task is refused by either node.
  ProfileTaskRequest again;
  again.service_id = model::ServiceId("svc");
  again.endpoint_name = "GET:/other";
  again.duration_minutes = 5;
  again.dump_period_ms = 10;
  again.max_sampling_count = 5;
  auto refused = b_.tasks->CreateTask(again);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->error_reason, "current service already has monitor task execute at this time");
}

TEST_F(TwoNodesTest, ALostNotificationIsMadeUpForByThePeriodicRefresh) {
  feed_.DropPublications(true);
  const std::string id = CreateTraceTask(a_);
  RunBoth();
  EXPECT_THAT(Polled(b_), IsEmpty());
  clock_.AdvanceMillis(kInterval - 1);
  RunBoth();
  EXPECT_THAT(Polled(b_), IsEmpty());
  clock_.AdvanceMillis(1);
  RunBoth();
  EXPECT_THAT(Polled(b_), ElementsAre(id));
}

TEST_F(TwoNodesTest, AFailedPublicationStillCreatesTheTask) {
  feed_.FailPublications(absl::UnavailableError("NOTIFY failed"));
  const std::string id = CreateTraceTask(a_);
  clock_.AdvanceMillis(kSharedTaskDelayMs);
  EXPECT_THAT(Polled(a_), ElementsAre(id));
  clock_.AdvanceMillis(kInterval);
  RunBoth();
  EXPECT_THAT(Polled(b_), ElementsAre(id));
}

TEST_F(TwoNodesTest, AnAgentIsNotHandedANewerTaskBeforeAnOlderOneOfAnotherNode) {
  // A creates a task; a moment later B, which has not re-read it yet, creates the next one
  // (starting as the first ends: overlapping ones are refused whichever node they go through).
  const std::string first = CreateTraceTask(a_);
  clock_.AdvanceMillis(1);
  const std::string second = CreateTraceTask(b_, kNow + 5 * 60'000 + 1);
  // Handing out the second now would move the agent's cursor past the first for good.
  EXPECT_THAT(Polled(b_), IsEmpty());
  RunBoth();  // within the delay, B re-reads what A notified
  clock_.AdvanceMillis(kSharedTaskDelayMs);
  EXPECT_THAT(Polled(b_), ElementsAre(first, second));
}

TEST_F(TwoNodesTest, AnOverlappingTaskThroughTheOtherNodeIsRefusedBeforeItHasReRead) {
  CreateTraceTask(a_);
  ProfileTaskRequest r;
  r.service_id = model::ServiceId("svc");
  r.start_time_ms = kNow + 60'000;
  r.endpoint_name = "GET:/orders";
  r.duration_minutes = 5;
  r.dump_period_ms = 10;
  r.max_sampling_count = 5;
  auto refused = b_.tasks->CreateTask(r);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_FALSE(refused->id.has_value());
  EXPECT_EQ(refused->error_reason.value_or(""),
            "current service already has monitor task execute at this time");
  EXPECT_EQ(profiles_->ListTasks()->size(), 1u);
}

ReportedProcess Rover(const std::string& process, std::vector<std::string> labels) {
  ReportedProcess r;
  r.detect_type = model::DetectType::kKubernetes;
  r.layer = "K8S_SERVICE";
  r.service_name = "svc";
  r.instance_name = "pod-1";
  r.process_name = process;
  r.labels = std::move(labels);
  r.properties = {{"support_ebpf_profiling", "true"}};
  return r;
}

TEST_F(TwoNodesTest, NetworkTasksCreatedThroughBothNodesAtOnceGetTwoIds) {
  ASSERT_TRUE(b_.ebpf->ReportProcesses("rover-1", {Rover("java", {"mesh"})}).ok());
  RunBoth();
  EbpfNetworkRequest request;
  request.instance_id = model::InstanceId(model::ServiceId("svc"), "pod-1");
  auto on_a = a_.ebpf->CreateNetworkTask(request);
  // B has not re-read A's task; the same millisecond would give it the same id.
  auto on_b = b_.ebpf->CreateNetworkTask(request);
  ASSERT_TRUE(on_a.ok() && on_a->id) << on_a.status();
  ASSERT_TRUE(on_b.ok() && on_b->id) << on_b.status();
  EXPECT_NE(*on_a->id, *on_b->id);
  auto stored = ebpf_store_->ListTasks();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), 2u);
}

TEST_F(TwoNodesTest, AnEbpfTaskForProcessesOfTheOtherNodeIsCreatedAndHandedOut) {
  // Rover reports to B; the operator asks A, which must know B's processes and their labels.
  ASSERT_TRUE(b_.ebpf->ReportProcesses("rover-1", {Rover("java", {"mesh"})}).ok());
  RunBoth();
  EXPECT_THAT(a_.ebpf->ServiceLabels(model::ServiceId("svc")), ElementsAre("mesh"));
  EbpfFixedTimeRequest request = FixedTimeRequest({"mesh"});
  auto created = a_.ebpf->CreateFixedTimeTask(request);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(created->id.has_value()) << created->error_reason.value_or("");
  EXPECT_THAT(b_.ebpf->QueryTasks("rover-1", 0), IsEmpty());
  RunBoth();
  // Too new to hand out yet: a record another node stored just before it may be on its way.
  EXPECT_THAT(b_.ebpf->QueryTasks("rover-1", 0), IsEmpty());
  clock_.AdvanceMillis(kSharedTaskDelayMs);
  std::vector<EbpfTaskCommand> commands = b_.ebpf->QueryTasks("rover-1", 0);
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].task.logical_id, *created->id);
  EXPECT_EQ(a_.ebpf->ListTasks("", "", {}, model::EbpfTriggerType::kFixedTime).size(), 1u);
}

TEST_F(TwoNodesTest, AnEbpfTaskForLabelsOnlyAnotherNodeHasSeenIsCreatedWithoutWaiting) {
  // Rover reports to B; A creates the task before any notification or refresh reached it.
  ASSERT_TRUE(b_.ebpf->ReportProcesses("rover-1", {Rover("java", {"mesh"})}).ok());
  EXPECT_THAT(a_.ebpf->ServiceLabels(model::ServiceId("svc")), IsEmpty());
  EbpfFixedTimeRequest request = FixedTimeRequest({"mesh"});
  auto created = a_.ebpf->CreateFixedTimeTask(request);
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->id.has_value()) << created->error_reason.value_or("");
  // A label no node has seen is still refused, naming it.
  request.process_labels = {"mesh", "canary"};
  created = a_.ebpf->CreateFixedTimeTask(request);
  ASSERT_TRUE(created.ok());
  EXPECT_FALSE(created->id.has_value());
  EXPECT_EQ(created->error_reason.value_or(""),
            "The service doesn't have processes with label(s) canary.");
}

TEST_F(TwoNodesTest, AKeepAliveOnAnotherNodeRefreshesTheProcessEverywhere) {
  ASSERT_TRUE(a_.ebpf->ReportProcesses("rover-1", {Rover("java", {})}).ok());
  RunBoth();
  const std::string id = b_.ebpf->ListProcesses("", "").at(0).id;
  clock_.AdvanceMillis(60'000);
  ASSERT_TRUE(b_.ebpf->KeepAlive("rover-1", {Rover("java", {})}).ok());
  clock_.AdvanceMillis(kInterval);
  RunBoth();
  EXPECT_EQ(a_.ebpf->GetProcess(id)->last_ping_ms, kNow + 60'000);
}

TEST_F(TwoNodesTest, APolicySetOnOneNodeIsQueriedOnTheOther) {
  auto set = a_.continuous->SetPolicy(
      model::ServiceId("svc"),
      {{model::EbpfTargetType::kOnCpu,
        {{model::ContinuousMonitorType::kProcessCpu, "80", 10, 3, std::nullopt, std::nullopt}}}});
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(*set, std::nullopt);
  EXPECT_THAT(b_.continuous->QueryPolicies({{"svc", ""}}), IsEmpty());
  RunBoth();
  const std::string uuid = a_.continuous->GetPolicy(model::ServiceId("svc"))->uuid;
  ASSERT_TRUE(b_.continuous->GetPolicy(model::ServiceId("svc")).has_value());
  EXPECT_EQ(b_.continuous->GetPolicy(model::ServiceId("svc"))->uuid, uuid);
  EXPECT_THAT(b_.continuous->QueryPolicies({{"svc", uuid}}), IsEmpty());
  EXPECT_EQ(b_.continuous->QueryPolicies({{"svc", ""}}).size(), 1u);
}

}  // namespace
}  // namespace stackhouse::service
