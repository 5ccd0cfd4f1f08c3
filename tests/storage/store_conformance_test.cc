// The store interfaces' contracts, written once and run against every implementation: the
// in-memory fakes the tests above storage use, RocksDB and PostgreSQL (a throw-away cluster per
// test process, a fresh database per test). What only some backends promise (retention) has
// its own suite, instantiated for those backends.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "fakes/fake_stores.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/metric_catalog.h"
#include "model/ids.h"
#include "storage/database.h"
#include "storage/pg/pg_continuous_policy_store.h"
#include "storage/pg/pg_ebpf_store.h"
#include "storage/pg/pg_metadata_store.h"
#include "storage/pg/pg_metric_store.h"
#include "storage/pg/pg_profile_store.h"
#include "storage/pg/pg_schema.h"
#include "storage/pg/pg_segment_store.h"
#include "storage/pg/pg_span_event_store.h"
#include "storage/pg/pg_ui_template_store.h"
#include "storage/pg/test_cluster.h"
#include "storage/rocks_continuous_policy_store.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/rocks_metadata_store.h"
#include "storage/rocks_metric_store.h"
#include "storage/rocks_profile_store.h"
#include "storage/rocks_segment_store.h"
#include "storage/rocks_span_event_store.h"
#include "storage/rocks_ui_template_store.h"
#include "storage/store_test_data.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

using testing::Dump;
using testing::Instance;
using testing::kStart;
using testing::MakeSegment;
using testing::MetricSum;
using testing::Summary;

// Makes the stores of one backend, all sharing `clock`; owns what they need (a database).
class Backend {
 public:
  virtual ~Backend() = default;
  // OK when the backend can make stores (PostgreSQL: its cluster and database are up).
  virtual absl::Status Ready() const { return absl::OkStatus(); }
  virtual std::unique_ptr<MetadataStore> NewMetadataStore(const Clock* clock) = 0;
  virtual std::unique_ptr<SegmentStore> NewSegmentStore(const Clock* clock) = 0;
  virtual std::unique_ptr<ProfileTaskStore> NewProfileTaskStore(const Clock* clock) = 0;
  virtual std::unique_ptr<SnapshotStore> NewSnapshotStore(const Clock* clock) = 0;
  virtual std::unique_ptr<EbpfStore> NewEbpfStore(const Clock* clock) = 0;
  virtual std::unique_ptr<UiTemplateStore> NewUiTemplateStore(const Clock* clock) = 0;
  // nullptr when the backend has none (the fakes: services' tests use their own).
  virtual std::unique_ptr<ContinuousPolicyStore> NewContinuousPolicyStore(const Clock* clock) = 0;
  virtual std::unique_ptr<SpanEventStore> NewSpanEventStore(const Clock* clock) = 0;
  // Hour and day buckets in UTC. nullptr when the backend has none (the fakes).
  virtual std::unique_ptr<MetricStore> NewMetricStore(const Clock* clock) = 0;
};

class FakeBackend final : public Backend {
 public:
  std::unique_ptr<MetadataStore> NewMetadataStore(const Clock* clock) override {
    return std::make_unique<fakes::FakeMetadataStore>(clock);
  }
  std::unique_ptr<SegmentStore> NewSegmentStore(const Clock* /*clock*/) override {
    return std::make_unique<fakes::FakeSegmentStore>();
  }
  std::unique_ptr<ProfileTaskStore> NewProfileTaskStore(const Clock* /*clock*/) override {
    return std::make_unique<fakes::FakeProfileTaskStore>();
  }
  std::unique_ptr<SnapshotStore> NewSnapshotStore(const Clock* /*clock*/) override {
    return std::make_unique<fakes::FakeSnapshotStore>();
  }
  std::unique_ptr<EbpfStore> NewEbpfStore(const Clock* /*clock*/) override {
    return std::make_unique<fakes::FakeEbpfStore>();
  }
  std::unique_ptr<UiTemplateStore> NewUiTemplateStore(const Clock* /*clock*/) override {
    return std::make_unique<fakes::FakeUiTemplateStore>();
  }
  std::unique_ptr<ContinuousPolicyStore> NewContinuousPolicyStore(const Clock* /*clock*/) override {
    return nullptr;
  }
  std::unique_ptr<SpanEventStore> NewSpanEventStore(const Clock* /*clock*/) override {
    return nullptr;
  }
  std::unique_ptr<MetricStore> NewMetricStore(const Clock* /*clock*/) override { return nullptr; }
};

class RocksBackend final : public Backend {
 public:
  std::unique_ptr<MetadataStore> NewMetadataStore(const Clock* clock) override {
    return std::make_unique<RocksMetadataStore>(Db(clock), clock);
  }
  std::unique_ptr<SegmentStore> NewSegmentStore(const Clock* clock) override {
    return std::make_unique<RocksSegmentStore>(Db(clock));
  }
  std::unique_ptr<ProfileTaskStore> NewProfileTaskStore(const Clock* clock) override {
    return std::make_unique<RocksProfileStore>(Db(clock), clock);
  }
  std::unique_ptr<SnapshotStore> NewSnapshotStore(const Clock* clock) override {
    return std::make_unique<RocksProfileStore>(Db(clock), clock);
  }
  std::unique_ptr<EbpfStore> NewEbpfStore(const Clock* clock) override {
    return std::make_unique<RocksEbpfStore>(Db(clock), clock);
  }
  std::unique_ptr<UiTemplateStore> NewUiTemplateStore(const Clock* clock) override {
    return std::make_unique<RocksUiTemplateStore>(Db(clock));
  }
  std::unique_ptr<ContinuousPolicyStore> NewContinuousPolicyStore(const Clock* clock) override {
    return std::make_unique<RocksContinuousPolicyStore>(Db(clock));
  }
  std::unique_ptr<SpanEventStore> NewSpanEventStore(const Clock* clock) override {
    return std::make_unique<RocksSpanEventStore>(Db(clock), clock);
  }
  std::unique_ptr<MetricStore> NewMetricStore(const Clock* clock) override {
    auto store = RocksMetricStore::Open(Db(clock), absl::UTCTimeZone());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

 private:
  Database* Db(const Clock* clock) {
    if (db_ == nullptr) {
      DatabaseOptions options;
      options.data_dir = dir_.path();
      auto db = Database::Open(options, clock);
      EXPECT_TRUE(db.ok()) << db.status();
      if (db.ok()) db_ = std::move(*db);
    }
    return db_.get();
  }

  testing::TestDir dir_;
  std::unique_ptr<Database> db_;
};

class PgBackend final : public Backend {
 public:
  PgBackend() {
    auto conninfo = pg::testing::ClusterEnvironment::NewDatabase();
    if (!conninfo.ok()) {
      ready_ = conninfo.status();
      return;
    }
    pg::PoolOptions options;
    options.conninfo = *conninfo;
    options.size = 4;
    auto pool = pg::Pool::Create(options);
    if (!pool.ok()) {
      ready_ = pool.status();
      return;
    }
    pool_ = std::move(*pool);
    ready_ = pg::MigrateSchema(*pool_).status();
  }

  absl::Status Ready() const override { return ready_; }
  std::unique_ptr<MetadataStore> NewMetadataStore(const Clock* clock) override {
    return std::make_unique<pg::PgMetadataStore>(pool_.get(), clock, options_);
  }
  std::unique_ptr<SegmentStore> NewSegmentStore(const Clock* clock) override {
    return std::make_unique<pg::PgSegmentStore>(pool_.get(), clock, options_);
  }
  std::unique_ptr<ProfileTaskStore> NewProfileTaskStore(const Clock* clock) override {
    return std::make_unique<pg::PgProfileStore>(pool_.get(), clock, options_);
  }
  std::unique_ptr<SnapshotStore> NewSnapshotStore(const Clock* clock) override {
    return std::make_unique<pg::PgProfileStore>(pool_.get(), clock, options_);
  }
  std::unique_ptr<EbpfStore> NewEbpfStore(const Clock* clock) override {
    return std::make_unique<pg::PgEbpfStore>(pool_.get(), clock, options_);
  }
  std::unique_ptr<UiTemplateStore> NewUiTemplateStore(const Clock* /*clock*/) override {
    return std::make_unique<pg::PgUiTemplateStore>(pool_.get());
  }
  std::unique_ptr<ContinuousPolicyStore> NewContinuousPolicyStore(const Clock* /*clock*/) override {
    return std::make_unique<pg::PgContinuousPolicyStore>(pool_.get());
  }
  std::unique_ptr<SpanEventStore> NewSpanEventStore(const Clock* clock) override {
    return std::make_unique<pg::PgSpanEventStore>(pool_.get(), clock, options_);
  }
  std::unique_ptr<MetricStore> NewMetricStore(const Clock* clock) override {
    return std::make_unique<pg::PgMetricStore>(pool_.get(), clock, options_, absl::UTCTimeZone());
  }

 private:
  absl::Status ready_;
  std::unique_ptr<pg::Pool> pool_;
  const pg::StoreOptions options_;
};

struct BackendParam {
  const char* name;
  std::unique_ptr<Backend> (*make)();
};

const BackendParam kFake{"Fake", [] { return std::unique_ptr<Backend>(new FakeBackend); }};
const BackendParam kRocks{"RocksDB", [] { return std::unique_ptr<Backend>(new RocksBackend); }};
const BackendParam kPg{"PostgreSQL", [] { return std::unique_ptr<Backend>(new PgBackend); }};

std::string ParamName(const ::testing::TestParamInfo<BackendParam>& info) {
  return info.param.name;
}

// One backend per test, made from the parameter; derived fixtures make their stores from it
// in their member initializers (destroyed before the backend).
class ContractTest : public ::testing::TestWithParam<BackendParam> {
 protected:
  // A backend that is not ready fails the test (a missing PostgreSQL is a failure, not a skip).
  void SetUp() override { ASSERT_TRUE(backend_->Ready().ok()) << backend_->Ready(); }

  SimulatedClock clock_{kStart};
  std::unique_ptr<Backend> backend_ = GetParam().make();
};

class MetadataStoreContract : public ContractTest {
 protected:
  std::unique_ptr<MetadataStore> store_ = backend_->NewMetadataStore(&clock_);
};

TEST_P(MetadataStoreContract, InstancesRegisterTheirServiceWithEveryLayer) {
  ASSERT_TRUE(store_
                  ->UpsertInstance("order-svc",
                                   Instance("order-svc", "pod-1", "GENERAL",
                                            {{"language", "java"}, {"ipv4", "10.0.0.1"}}),
                                   true)
                  .ok());
  clock_.AdvanceMillis(1000);
  ASSERT_TRUE(
      store_->UpsertInstance("order-svc", Instance("order-svc", "pod-2", "MESH", {}), true).ok());
  ASSERT_TRUE(store_->UpsertInstance("a-svc", Instance("a-svc", "x", "GENERAL", {}), true).ok());

  auto services = store_->ListServices();
  ASSERT_TRUE(services.ok()) << services.status();
  ASSERT_EQ(services->size(), 2u);
  // Ordered by id.
  EXPECT_LT((*services)[0].id, (*services)[1].id);
  auto order = store_->GetService(model::ServiceId("order-svc"));
  ASSERT_TRUE(order.ok() && order->has_value());
  EXPECT_EQ((*order)->name, "order-svc");
  EXPECT_THAT((*order)->layers, ElementsAre("GENERAL", "MESH"));
  EXPECT_EQ((*order)->first_seen_ms, kStart);

  auto instances = store_->ListInstances(model::ServiceId("order-svc"));
  ASSERT_TRUE(instances.ok());
  ASSERT_EQ(instances->size(), 2u);
  EXPECT_EQ((*instances)[0].name, "pod-1");
  EXPECT_EQ((*instances)[0].id, model::InstanceId(model::ServiceId("order-svc"), "pod-1"));
  EXPECT_THAT((*instances)[0].properties,
              ElementsAre(Pair("language", "java"), Pair("ipv4", "10.0.0.1")));
  EXPECT_EQ((*instances)[1].name, "pod-2");
  EXPECT_EQ((*instances)[1].layer, "MESH");
}

TEST_P(MetadataStoreContract, AHeartbeatKeepsThePropertiesAReportReplacesThem) {
  auto reported = Instance("svc", "i", "GENERAL", {{"language", "python"}});
  ASSERT_TRUE(store_->UpsertInstance("svc", reported, true).ok());
  clock_.AdvanceMillis(15000);
  ASSERT_TRUE(store_->UpsertInstance("svc", Instance("svc", "i", "GENERAL", {}), false).ok());
  auto instance = store_->GetInstance(reported.id);
  ASSERT_TRUE(instance.ok() && instance->has_value());
  EXPECT_EQ((*instance)->first_seen_ms, kStart);
  EXPECT_EQ((*instance)->last_heartbeat_ms, kStart + 15000);
  EXPECT_THAT((*instance)->properties, ElementsAre(Pair("language", "python")));

  clock_.AdvanceMillis(60000);
  ASSERT_TRUE(
      store_->UpsertInstance("svc", Instance("svc", "i", "GENERAL", {{"language", "go"}}), true)
          .ok());
  instance = store_->GetInstance(reported.id);
  ASSERT_TRUE(instance.ok() && instance->has_value());
  EXPECT_THAT((*instance)->properties, ElementsAre(Pair("language", "go")));
  EXPECT_EQ((*instance)->first_seen_ms, kStart);
}

TEST_P(MetadataStoreContract, UnknownAndMalformedIdsAreAbsentNotErrors) {
  for (const std::string& id :
       {model::InstanceId(model::ServiceId("x"), "y"), std::string("not an id"), std::string()}) {
    auto instance = store_->GetInstance(id);
    ASSERT_TRUE(instance.ok()) << id;
    EXPECT_FALSE(instance->has_value()) << id;
    auto service = store_->GetService(id);
    ASSERT_TRUE(service.ok()) << id;
    EXPECT_FALSE(service->has_value()) << id;
    auto endpoint = store_->GetEndpoint(id);
    ASSERT_TRUE(endpoint.ok()) << id;
    EXPECT_FALSE(endpoint->has_value()) << id;
    auto instances = store_->ListInstances(id);
    ASSERT_TRUE(instances.ok()) << id;
    EXPECT_TRUE(instances->empty()) << id;
  }
}

TEST_P(MetadataStoreContract, EndpointsNewestFirstThenByNameFilteredAndLimited) {
  const std::string service = model::ServiceId("svc");
  ASSERT_TRUE(store_->TouchEndpoints(service, {"GET:/users", "GET:/orders"}).ok());
  clock_.AdvanceMillis(1000);
  ASSERT_TRUE(store_->TouchEndpoints(service, {"POST:/orders"}).ok());
  ASSERT_TRUE(store_->TouchEndpoints(model::ServiceId("other"), {"GET:/orders"}).ok());

  auto all = store_->FindEndpoints(service, "", -1);
  ASSERT_TRUE(all.ok());
  std::vector<std::string> names;
  for (const model::Endpoint& e : *all) names.push_back(e.name);
  EXPECT_THAT(names, ElementsAre("POST:/orders", "GET:/orders", "GET:/users"));
  EXPECT_EQ((*all)[1].id, model::EndpointId(service, "GET:/orders"));
  EXPECT_EQ((*all)[1].service_id, service);

  auto orders = store_->FindEndpoints(service, "orders", 1);
  ASSERT_TRUE(orders.ok());
  ASSERT_EQ(orders->size(), 1u);
  EXPECT_EQ((*orders)[0].name, "POST:/orders");
  auto none = store_->FindEndpoints(service, "nothing", 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto one = store_->GetEndpoint(model::EndpointId(service, "GET:/users"));
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->name, "GET:/users");
}

INSTANTIATE_TEST_SUITE_P(Backends, MetadataStoreContract, ::testing::Values(kFake, kRocks, kPg),
                         ParamName);

// Retention (RocksDB, PostgreSQL): instances and services that stop reporting expire with
// metricsDataTTL.
class MetadataStoreRetention : public MetadataStoreContract {};

TEST_P(MetadataStoreRetention, SilentInstancesExpire) {
  ASSERT_TRUE(store_->UpsertInstance("svc", Instance("svc", "i", "GENERAL", {}), true).ok());
  clock_.AdvanceMillis(7LL * 24 * 3600 * 1000);
  auto services = store_->ListServices();
  ASSERT_TRUE(services.ok());
  EXPECT_TRUE(services->empty());
  auto instances = store_->ListInstances(model::ServiceId("svc"));
  ASSERT_TRUE(instances.ok());
  EXPECT_TRUE(instances->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, MetadataStoreRetention, ::testing::Values(kRocks, kPg),
                         ParamName);

class SegmentStoreContract : public ContractTest {
 protected:
  std::unique_ptr<SegmentStore> store_ = backend_->NewSegmentStore(&clock_);
};

TEST_P(SegmentStoreContract, SegmentsReadBackWholeByIdTraceAndInstance) {
  auto a = MakeSegment("seg-a", "trace-1");
  auto b = MakeSegment("seg-b", "trace-1");
  auto c = MakeSegment("seg-c", "trace-2");
  ASSERT_TRUE(
      store_->AddSegments({a, b, c}, {Summary(a, "i1"), Summary(b, "i2"), Summary(c, "i1")}).ok());

  auto got = store_->GetSegment("seg-a");
  ASSERT_TRUE(got.ok() && got->has_value());
  const StoredSegment& stored = **got;
  EXPECT_EQ(stored.summary.segment_id, "seg-a");
  EXPECT_EQ(stored.summary.trace_id, "trace-1");
  EXPECT_EQ(stored.summary.instance_id, "i1");
  EXPECT_EQ(stored.summary.endpoint_name, "GET:/a");
  EXPECT_EQ(stored.summary.latency_ms, 50);
  EXPECT_TRUE(stored.summary.is_error);
  ASSERT_EQ(stored.segment.spans.size(), 1u);
  const model::Span& span = stored.segment.spans[0];
  EXPECT_EQ(span.peer, "db:5432");
  EXPECT_EQ(span.type, model::SpanType::kExit);
  EXPECT_EQ(span.layer, model::SpanLayer::kDatabase);
  EXPECT_EQ(span.component_id, 22);
  EXPECT_TRUE(span.skip_analysis);
  ASSERT_EQ(span.refs.size(), 1u);
  EXPECT_EQ(span.refs[0].network_address, "addr");
  ASSERT_EQ(span.logs.size(), 1u);
  EXPECT_EQ(span.logs[0].time_ms, kStart + 1);

  auto of_instance = store_->ListByTraceAndInstance("trace-1", "i1");
  ASSERT_TRUE(of_instance.ok());
  ASSERT_EQ(of_instance->size(), 1u);
  EXPECT_EQ((*of_instance)[0].summary.segment_id, "seg-a");
  auto of_trace = store_->ListByTrace("trace-1", 10);
  ASSERT_TRUE(of_trace.ok());
  EXPECT_EQ(of_trace->size(), 2u);
  auto limited = store_->ListByTrace("trace-1", 1);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 1u);
  auto zero = store_->ListByTrace("trace-1", 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->empty());
  EXPECT_TRUE(store_->ListByTrace("trace-3", 10)->empty());
  EXPECT_TRUE(store_->ListByTraceAndInstance("trace-1", "i3")->empty());
  EXPECT_FALSE(store_->GetSegment("nope")->has_value());
}

TEST_P(SegmentStoreContract, MismatchedSummariesAreRefusedAndStoreNothing) {
  auto a = MakeSegment("seg-a", "trace-1");
  EXPECT_EQ(store_->AddSegments({a}, {}).code(), absl::StatusCode::kInvalidArgument);
  auto got = store_->GetSegment("seg-a");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, SegmentStoreContract, ::testing::Values(kFake, kRocks, kPg),
                         ParamName);

class ProfileStoreContract : public ContractTest {
 protected:
  std::vector<StoredDump> Dumps(const std::string& segment) {
    std::vector<StoredDump> dumps;
    EXPECT_TRUE(
        snapshots_->ScanDumps(segment, [&](const StoredDump& d) { dumps.push_back(d); }).ok());
    return dumps;
  }

  std::unique_ptr<ProfileTaskStore> tasks_ = backend_->NewProfileTaskStore(&clock_);
  std::unique_ptr<SnapshotStore> snapshots_ = backend_->NewSnapshotStore(&clock_);
};

model::ProfileTask Task(const std::string& id) {
  model::ProfileTask task;
  task.id = id;
  task.service_id = model::ServiceId("svc");
  task.endpoint_name = "GET:/a";
  task.start_time_ms = kStart;
  task.duration_minutes = 5;
  task.min_duration_threshold_ms = 1;
  task.dump_period_ms = 10;
  task.max_sampling_count = 5;
  task.create_time_ms = kStart - 1;
  return task;
}

TEST_P(ProfileStoreContract, TasksAreReplacedByIdAndLogsListNewestFirst) {
  model::ProfileTask task = Task("task-1");
  ASSERT_TRUE(tasks_->PutTask(task).ok());
  ASSERT_TRUE(tasks_->PutTask(Task("task-2")).ok());
  task.max_sampling_count = 9;
  ASSERT_TRUE(tasks_->PutTask(task).ok());
  auto tasks = tasks_->ListTasks();
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 2u);
  for (const model::ProfileTask& t : *tasks) {
    EXPECT_EQ(t.endpoint_name, "GET:/a");
    EXPECT_EQ(t.dump_period_ms, 10);
    EXPECT_EQ(t.EndTimeMs(), kStart + 5 * 60000);
    EXPECT_EQ(t.max_sampling_count, t.id == "task-1" ? 9 : 5);
  }

  for (int i = 0; i < 3; ++i) {
    model::ProfileTaskLog log;
    log.task_id = "task-1";
    log.instance_id = "inst" + std::to_string(i);
    log.operation = i == 2 ? model::ProfileTaskOperation::kExecutionFinished
                           : model::ProfileTaskOperation::kNotified;
    log.operation_time_ms = kStart + (i == 1 ? 2000 : i * 500);
    ASSERT_TRUE(tasks_->AddLog(log, task.EndTimeMs()).ok());
  }
  auto logs = tasks_->ListLogs("task-1");
  ASSERT_TRUE(logs.ok());
  std::vector<std::string> order;
  for (const model::ProfileTaskLog& l : *logs) order.push_back(l.instance_id);
  EXPECT_THAT(order, ElementsAre("inst1", "inst2", "inst0"));
  EXPECT_EQ((*logs)[1].operation, model::ProfileTaskOperation::kExecutionFinished);
  EXPECT_TRUE(tasks_->ListLogs("task-2")->empty());
}

TEST_P(ProfileStoreContract, ANewTaskIsStoredUnlessItConflictsWithItsServicesTasks) {
  ASSERT_TRUE(tasks_->PutTask(Task("task-1")).ok());
  model::ProfileTask other = Task("task-other");
  other.service_id = model::ServiceId("other");
  ASSERT_TRUE(tasks_->PutTask(other).ok());
  // The check sees the stored tasks of the new task's service only.
  std::vector<std::string> seen;
  auto any = [&](const std::vector<model::ProfileTask>& of_service) {
    for (const model::ProfileTask& t : of_service) seen.push_back(t.id);
    return !of_service.empty();
  };
  absl::Status refused = tasks_->PutNewTask(Task("task-2"), any);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(seen, ElementsAre("task-1"));
  model::ProfileTask third = Task("task-3");
  third.service_id = model::ServiceId("third");
  EXPECT_TRUE(tasks_->PutNewTask(third, any).ok());
  auto tasks = tasks_->ListTasks();
  ASSERT_TRUE(tasks.ok());
  std::vector<std::string> ids;
  for (const model::ProfileTask& t : *tasks) ids.push_back(t.id);
  EXPECT_THAT(ids, UnorderedElementsAre("task-1", "task-other", "task-3"));
}

TEST_P(ProfileStoreContract, DumpsReferenceOneStackPerDistinctFrames) {
  std::vector<std::string> deep;
  for (int i = 0; i < 60; ++i) deep.push_back("com.example.Frame.m" + std::to_string(i) + ":1");
  std::vector<model::ThreadSnapshot> batch;
  for (int seq = 9; seq >= 0; --seq) {  // any order in; sequence order out
    batch.push_back(Dump("t", "seg-1", seq, kStart + seq * 10,
                         seq % 2 ? deep : std::vector<std::string>{"A", "B"}));
  }
  ASSERT_TRUE(snapshots_->AddSnapshots(batch).ok());
  ASSERT_TRUE(snapshots_->AddSnapshots({Dump("t", "seg-2", 0, kStart, deep)}).ok());
  auto dumps = Dumps("seg-1");
  ASSERT_EQ(dumps.size(), 10u);
  for (int seq = 0; seq < 10; ++seq) {
    EXPECT_EQ(dumps[seq].sequence, seq);
    EXPECT_EQ(dumps[seq].dump_time_ms, kStart + seq * 10);
    EXPECT_EQ(dumps[seq].stack_id, dumps[seq % 2].stack_id);
  }
  EXPECT_NE(dumps[0].stack_id, dumps[1].stack_id);
  EXPECT_EQ(Dumps("seg-2")[0].stack_id, dumps[1].stack_id);
  EXPECT_THAT(*snapshots_->GetStack(dumps[0].stack_id), ElementsAre("A", "B"));
  EXPECT_EQ(*snapshots_->GetStack(dumps[1].stack_id), deep);
  EXPECT_EQ(snapshots_->GetStack(dumps[0].stack_id ^ dumps[1].stack_id ^ 12345).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Dumps("seg-none").empty());
}

// What a stream's SnapshotWriter does: ids resolved once, reused by later batches.
TEST_P(ProfileStoreContract, DumpsStoredByIdsResolvedEarlierMatchAddSnapshots) {
  const std::vector<std::string> ab = {"A", "B"};
  std::vector<std::string> deep;
  for (int i = 0; i < 60; ++i) deep.push_back("com.example.Frame.m" + std::to_string(i) + ":1");
  const std::vector<PendingStack> stacks = {
      {StackHasher::Of(ab), &ab}, {StackHasher::Of(deep), &deep}, {StackHasher::Of(ab), &ab}};
  auto ids = snapshots_->ResolveStacks(stacks);
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 3u);
  EXPECT_EQ((*ids)[0], (*ids)[2]);
  EXPECT_NE((*ids)[0], (*ids)[1]);
  ASSERT_TRUE(snapshots_->AddSnapshots({Dump("t", "seg-x", 5, kStart, deep)}).ok());
  EXPECT_EQ(Dumps("seg-x")[0].stack_id, (*ids)[1]);  // one stack per distinct frames

  clock_.AdvanceMillis(2 * 3600 * 1000);  // the ids are kept while time passes
  std::vector<ResolvedDump> dumps = {{"t", "seg-w", kStart + 20, 1, (*ids)[1]},
                                     {"t", "seg-w", kStart + 10, 0, (*ids)[0]},
                                     {"t", "seg-w", kStart + 30, 2, (*ids)[0]},
                                     {"t", "seg-w", kStart + 31, 2, (*ids)[1]}};  // the last wins
  ASSERT_TRUE(snapshots_->AddDumps(dumps).ok());
  auto stored = Dumps("seg-w");
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[0].stack_id, (*ids)[0]);
  EXPECT_EQ(stored[0].dump_time_ms, kStart + 10);
  EXPECT_EQ(stored[1].stack_id, (*ids)[1]);
  EXPECT_EQ(stored[2].stack_id, (*ids)[1]);
  EXPECT_EQ(stored[2].dump_time_ms, kStart + 31);
  EXPECT_THAT(*snapshots_->GetStack(stored[0].stack_id), ElementsAre("A", "B"));
  EXPECT_EQ(*snapshots_->GetStack(stored[1].stack_id), deep);
  EXPECT_THAT(*snapshots_->ListProfiledSegments("t"), ElementsAre("seg-w"));
}

TEST_P(ProfileStoreContract, ProfiledSegmentsHaveADumpOfSequenceZeroInItsTimeOrder) {
  ASSERT_TRUE(snapshots_
                  ->AddSnapshots({Dump("t1", "seg-b", 1, kStart + 20, {"A"}),
                                  Dump("t1", "seg-b", 0, kStart + 10, {"A"}),
                                  Dump("t1", "seg-a", 0, kStart + 30, {"A"}),
                                  Dump("t1", "seg-c", 3, kStart + 5, {"A"}),
                                  Dump("t2", "seg-d", 0, kStart, {"A"})})
                  .ok());
  EXPECT_THAT(*snapshots_->ListProfiledSegments("t1"), ElementsAre("seg-b", "seg-a"));
  EXPECT_THAT(*snapshots_->ListProfiledSegments("t2"), ElementsAre("seg-d"));
  EXPECT_TRUE(snapshots_->ListProfiledSegments("t3")->empty());
}

TEST_P(ProfileStoreContract, GoProfilesAreStoredOnceAndFoundFromEachSegment) {
  model::GoProfile first{"t1", kStart + 20, {"seg-go", "seg-other"}, std::string("pprof\0one", 9)};
  model::GoProfile second{"t1", kStart + 10, {"seg-go"}, "pprof-two"};
  ASSERT_TRUE(snapshots_->AddGoProfile(first).ok());
  ASSERT_TRUE(snapshots_->AddGoProfile(second).ok());
  auto bytes = [&](const model::GoSegmentProfile& p) {
    auto got = snapshots_->GetGoProfile(p.profile_key);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() && got->has_value() ? **got : std::string("<none>");
  };
  auto go = snapshots_->ListGoProfiles("seg-go");
  ASSERT_TRUE(go.ok()) << go.status();
  ASSERT_EQ(go->size(), 2u);  // in dump-time order
  EXPECT_EQ(bytes((*go)[0]), "pprof-two");
  EXPECT_EQ((*go)[0].dump_time_ms, kStart + 10);
  EXPECT_EQ(bytes((*go)[1]), std::string("pprof\0one", 9));
  EXPECT_EQ((*go)[1].task_id, "t1");
  EXPECT_EQ((*go)[1].segment_id, "seg-go");
  auto other = snapshots_->ListGoProfiles("seg-other");
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ((*other)[0].profile_key, (*go)[1].profile_key);  // one stored copy
  EXPECT_TRUE(snapshots_->ListGoProfiles("seg-none")->empty());
  EXPECT_TRUE(Dumps("seg-go").empty());  // not thread dumps
  EXPECT_THAT(*snapshots_->ListProfiledSegments("t1"), ElementsAre("seg-go", "seg-other"));
}

INSTANTIATE_TEST_SUITE_P(Backends, ProfileStoreContract, ::testing::Values(kFake, kRocks, kPg),
                         ParamName);

model::EbpfSample OnCpu(std::vector<std::string> user, int64_t count) {
  model::EbpfSample s;
  s.target_type = model::EbpfTargetType::kOnCpu;
  for (auto& name : user) s.stack.push_back({name, model::StackType::kUser});
  s.dump_count = count;
  return s;
}

class EbpfStoreContract : public ContractTest {
 protected:
  std::vector<StoredEbpfSample> Samples(const std::string& schedule, int64_t from, int64_t to) {
    std::vector<StoredEbpfSample> out;
    absl::Status s = store_->ScanSamples(schedule, from, to,
                                         [&](const StoredEbpfSample& x) { out.push_back(x); });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  std::unique_ptr<EbpfStore> store_ = backend_->NewEbpfStore(&clock_);
};

TEST_P(EbpfStoreContract, ANewTaskIdIsStoredOnceAndNotReplacedByAnother) {
  model::EbpfTask task;
  task.logical_id = "net-task-1";
  task.service_id = "svc";
  task.create_time_ms = kStart;
  task.last_update_time_ms = kStart;
  auto first = store_->PutNewTask(task);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  task.create_time_ms = kStart + 1;  // another node's task that happened on the same id
  auto second = store_->PutNewTask(task);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(*second);
  task.logical_id = "net-task-2";
  EXPECT_TRUE(*store_->PutNewTask(task));
  auto tasks = store_->ListTasks();
  ASSERT_TRUE(tasks.ok());
  std::vector<std::pair<std::string, int64_t>> stored;
  for (const model::EbpfTask& t : *tasks) stored.emplace_back(t.logical_id, t.create_time_ms);
  EXPECT_THAT(stored,
              UnorderedElementsAre(Pair("net-task-1", kStart), Pair("net-task-2", kStart + 1)));
}

TEST_P(EbpfStoreContract, SampleBlocksRoundTripWithSharedStacks) {
  ASSERT_TRUE(
      store_->AddSamples("sched", kStart, {OnCpu({"main", "work"}, 3), OnCpu({"main"}, 5)}).ok());
  model::EbpfSample off;
  off.target_type = model::EbpfTargetType::kOffCpu;
  off.stack = {{"main", model::StackType::kUser}, {"schedule", model::StackType::kKernel}};
  off.switch_count = 7;
  off.duration_ns = 123456789;
  ASSERT_TRUE(store_->AddSamples("sched", kStart + 5000, {OnCpu({"main", "work"}, 2), off}).ok());
  ASSERT_TRUE(store_->AddSamples("other", kStart, {OnCpu({"x"}, 1)}).ok());

  auto all = Samples("sched", kStart, kStart + 10000);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].upload_time_ms, kStart);
  EXPECT_EQ(all[0].dump_count, 3);
  EXPECT_EQ(all[1].dump_count, 5);
  // The same stack in a later upload refers to the same dictionary entry (blocks of one upload
  // come in no particular order).
  auto later = std::find_if(all.begin() + 2, all.end(), [](const StoredEbpfSample& s) {
    return s.target_type == model::EbpfTargetType::kOnCpu;
  });
  ASSERT_NE(later, all.end());
  EXPECT_EQ(later->stack_id, all[0].stack_id);
  EXPECT_EQ(later->dump_count, 2);
  EXPECT_EQ(later->upload_time_ms, kStart + 5000);
  auto off_sample = std::find_if(all.begin(), all.end(), [](const StoredEbpfSample& s) {
    return s.target_type == model::EbpfTargetType::kOffCpu;
  });
  ASSERT_NE(off_sample, all.end());
  EXPECT_EQ(off_sample->switch_count, 7);
  EXPECT_EQ(off_sample->duration_ns, 123456789);
  EXPECT_THAT(*store_->GetStack(off_sample->stack_id),
              ElementsAre(model::EbpfSymbol{"main", model::StackType::kUser},
                          model::EbpfSymbol{"schedule", model::StackType::kKernel}));
  // Time bounds are [from, to).
  EXPECT_EQ(Samples("sched", kStart, kStart + 5000).size(), 2u);
  EXPECT_EQ(Samples("sched", kStart + 1, kStart + 5001).size(), 2u);
  EXPECT_TRUE(Samples("sched", kStart + 5001, kStart + 4000).empty());
  EXPECT_EQ(Samples("other", 0, kStart + 1).size(), 1u);
  EXPECT_TRUE(Samples("none", 0, kStart + 10000).empty());
}

// The receiver's path: stacks resolved by fingerprint first, then blocks of (stack id, values).
TEST_P(EbpfStoreContract, ResolvedStacksAndSampleBlocks) {
  const std::vector<std::string> a = {"umain", "uwork", "kdo_syscall_64"};
  const std::vector<std::string> b = {"umain"};
  auto ids = store_->ResolveStacks(
      {PendingStack{StackHasher::Of(a), &a}, PendingStack{StackHasher::Of(b), &b}});
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_NE((*ids)[0], (*ids)[1]);
  // Resolving again (say, from another stream) gives the same ids.
  auto again = store_->ResolveStacks({PendingStack{StackHasher::Of(b), &b}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0], (*ids)[1]);

  std::vector<StoredEbpfSample> block(3);
  block[0] = {0, (*ids)[0], model::EbpfTargetType::kOnCpu, 4, 0, 0};
  block[1] = {0, (*ids)[1], model::EbpfTargetType::kOffCpu, 0, 2, 5000};
  block[2] = {0, (*ids)[0], model::EbpfTargetType::kOnCpu, 1, 0, 0};
  ASSERT_TRUE(store_->AddSampleBlock("sched", kStart, block).ok());

  auto all = Samples("sched", kStart, kStart + 1);
  ASSERT_EQ(all.size(), 3u);
  int64_t on_cpu = 0;
  for (const StoredEbpfSample& s : all) {
    EXPECT_EQ(s.upload_time_ms, kStart);
    if (s.target_type == model::EbpfTargetType::kOnCpu) {
      EXPECT_EQ(s.stack_id, (*ids)[0]);
      on_cpu += s.dump_count;
    } else {
      EXPECT_EQ(s.stack_id, (*ids)[1]);
      EXPECT_EQ(s.switch_count, 2);
      EXPECT_EQ(s.duration_ns, 5000);
    }
  }
  EXPECT_EQ(on_cpu, 5);
  EXPECT_THAT(*store_->GetStack((*ids)[0]),
              ElementsAre(model::EbpfSymbol{"main", model::StackType::kUser},
                          model::EbpfSymbol{"work", model::StackType::kUser},
                          model::EbpfSymbol{"do_syscall_64", model::StackType::kKernel}));
  EXPECT_EQ(store_->GetStack((*ids)[0] ^ (*ids)[1] ^ 0x5a5a).status().code(),
            absl::StatusCode::kNotFound);
}

// Blocks come out in upload-time order whatever order they were written in; ScanSampleBlocks
// hands out one block per upload and target type.
TEST_P(EbpfStoreContract, BlocksAreScannedInUploadTimeOrder) {
  const std::vector<std::string> a = {"umain"};
  auto ids = store_->ResolveStacks({PendingStack{StackHasher::Of(a), &a}});
  ASSERT_TRUE(ids.ok());
  for (int64_t t : {kStart + 30, kStart + 10, kStart + 20}) {
    std::vector<StoredEbpfSample> block = {{0, (*ids)[0], model::EbpfTargetType::kOnCpu, t, 0, 0},
                                           {0, (*ids)[0], model::EbpfTargetType::kOffCpu, 0, 1, 2}};
    ASSERT_TRUE(store_->AddSampleBlock("sched", t, block).ok());
  }
  std::vector<std::pair<int64_t, model::EbpfTargetType>> blocks;
  ASSERT_TRUE(store_
                  ->ScanSampleBlocks("sched", kStart, kStart + 25,
                                     [&](EbpfSampleBlock& b) {
                                       StoredEbpfSample s;
                                       while (b.Next(&s)) {
                                         EXPECT_EQ(s.upload_time_ms, b.upload_time_ms());
                                         if (s.target_type == model::EbpfTargetType::kOnCpu) {
                                           EXPECT_EQ(s.dump_count, b.upload_time_ms());
                                         }
                                       }
                                       blocks.emplace_back(b.upload_time_ms(), b.target_type());
                                     })
                  .ok());
  ASSERT_EQ(blocks.size(), 4u);
  EXPECT_EQ(blocks[0].first, kStart + 10);
  EXPECT_EQ(blocks[1].first, kStart + 10);
  EXPECT_NE(blocks[0].second, blocks[1].second);
  EXPECT_EQ(blocks[2].first, kStart + 20);
  EXPECT_EQ(blocks[3].first, kStart + 20);
}

TEST_P(EbpfStoreContract, ABlockReferringToAnUnknownStackIsRefusedWhole) {
  const std::vector<std::string> a = {"umain"};
  auto ids = store_->ResolveStacks({PendingStack{StackHasher::Of(a), &a}});
  ASSERT_TRUE(ids.ok());
  std::vector<StoredEbpfSample> block(2);
  block[0] = {0, (*ids)[0], model::EbpfTargetType::kOnCpu, 1, 0, 0};
  block[1] = {0, (*ids)[0] ^ 0x5a5a, model::EbpfTargetType::kOnCpu, 1, 0, 0};
  absl::Status s = store_->AddSampleBlock("sched", kStart, block);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_TRUE(Samples("sched", kStart, kStart + 1).empty());
}

TEST_P(EbpfStoreContract, ProcessesTasksAndSchedules) {
  model::Process p;
  p.id = "pid1";
  p.name = "java";
  p.service_id = "c3Zj.1";
  p.instance_id = "c3Zj.1_aQ==";
  p.detect_type = model::DetectType::kKubernetes;
  p.profiling_supported = true;
  p.properties = {{"pid", "42"}};
  p.labels = {"mesh-application"};
  p.first_seen_ms = kStart;
  p.last_ping_ms = kStart + 1000;
  model::Process q = p;
  q.id = "pid0";
  q.name = "python";
  ASSERT_TRUE(store_->PutProcesses({p, q}).ok());
  p.agent_id = "rover-2";
  ASSERT_TRUE(store_->PutProcesses({p}).ok());  // replaces
  auto processes = store_->ListProcesses();
  ASSERT_TRUE(processes.ok()) << processes.status();
  ASSERT_EQ(processes->size(), 2u);  // ordered by id
  EXPECT_EQ((*processes)[0].name, "python");
  const model::Process& got = (*processes)[1];
  EXPECT_EQ(got.id, "pid1");
  EXPECT_EQ(got.detect_type, model::DetectType::kKubernetes);
  EXPECT_EQ(got.last_ping_ms, kStart + 1000);
  EXPECT_EQ(got.first_seen_ms, kStart);
  EXPECT_EQ(got.agent_id, "rover-2");
  EXPECT_TRUE(got.profiling_supported);
  EXPECT_THAT(got.properties, ElementsAre(Pair("pid", "42")));
  EXPECT_THAT(got.labels, ElementsAre("mesh-application"));

  model::EbpfTask task;
  task.logical_id = "t1";
  task.service_id = "c3Zj.1";
  task.target_type = model::EbpfTargetType::kOffCpu;
  task.fixed_trigger_duration_s = 60;
  task.create_time_ms = kStart;
  ASSERT_TRUE(store_->PutTask(task).ok());
  task.create_time_ms = kStart + 1;
  task.fixed_trigger_duration_s = 600;
  task.trigger_type = model::EbpfTriggerType::kContinuousProfiling;
  task.continuous.emplace();
  task.continuous->process_id = "pid1";
  task.continuous->causes.push_back({model::ContinuousMonitorType::kHttpErrorRate, true, false,
                                     "/orders", 500, 700, "too many errors"});
  ASSERT_TRUE(store_->PutTask(task).ok());
  auto tasks = store_->ListTasks();
  ASSERT_TRUE(tasks.ok()) << tasks.status();
  ASSERT_EQ(tasks->size(), 2u);  // two records of one logical task
  EXPECT_EQ((*tasks)[0].fixed_trigger_duration_s, 60);
  EXPECT_FALSE((*tasks)[0].continuous.has_value());
  EXPECT_EQ((*tasks)[1].logical_id, "t1");
  EXPECT_EQ((*tasks)[1].create_time_ms, kStart + 1);
  EXPECT_EQ((*tasks)[1].fixed_trigger_duration_s, 600);
  EXPECT_EQ((*tasks)[1].target_type, model::EbpfTargetType::kOffCpu);
  ASSERT_TRUE((*tasks)[1].continuous.has_value());
  ASSERT_EQ((*tasks)[1].continuous->causes.size(), 1u);
  EXPECT_EQ((*tasks)[1].continuous->causes[0].uri_text, "/orders");
  EXPECT_EQ((*tasks)[1].continuous->causes[0].current, 700);

  model::EbpfSchedule schedule{"s1", "t1", "pid1", kStart, kStart + 5000};
  ASSERT_TRUE(store_->PutSchedule(schedule).ok());
  schedule.end_time_ms = kStart + 10000;
  ASSERT_TRUE(store_->PutSchedule(schedule).ok());
  // A write of an earlier end (another node's, arriving late) does not shorten it.
  schedule.end_time_ms = kStart + 7000;
  ASSERT_TRUE(store_->PutSchedule(schedule).ok());
  ASSERT_EQ(store_->GetSchedule("s1")->value().end_time_ms, kStart + 10000);
  ASSERT_TRUE(store_->PutSchedule({"s2", "t2", "pid0", kStart, kStart + 1}).ok());
  auto schedules = store_->ListSchedules("t1");
  ASSERT_TRUE(schedules.ok()) << schedules.status();
  ASSERT_EQ(schedules->size(), 1u);
  EXPECT_EQ((*schedules)[0].schedule_id, "s1");
  EXPECT_EQ((*schedules)[0].process_id, "pid1");
  EXPECT_EQ((*schedules)[0].end_time_ms, kStart + 10000);
  EXPECT_TRUE(store_->ListSchedules("t3")->empty());
  auto one = store_->GetSchedule("s2");
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->task_id, "t2");
  EXPECT_EQ((*one)->start_time_ms, kStart);
  EXPECT_FALSE(store_->GetSchedule("s3")->has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, EbpfStoreContract, ::testing::Values(kFake, kRocks, kPg),
                         ParamName);

// Retention (RocksDB, PostgreSQL): samples expire recordDataTTL after their upload, processes
// metricsDataTTL after their last ping, schedules metricsDataTTL after their end.
class EbpfStoreRetention : public EbpfStoreContract {};

TEST_P(EbpfStoreRetention, SamplesProcessesAndSchedulesExpire) {
  constexpr int64_t kDay = 24LL * 3600 * 1000;
  ASSERT_TRUE(store_->AddSamples("sched", kStart, {OnCpu({"main"}, 1)}).ok());
  ASSERT_TRUE(store_->AddSamples("sched", kStart + kDay, {OnCpu({"main"}, 2)}).ok());
  model::Process p;
  p.id = "pid1";
  p.last_ping_ms = kStart;
  ASSERT_TRUE(store_->PutProcesses({p}).ok());
  ASSERT_TRUE(store_->PutSchedule({"s1", "t1", "pid1", kStart, kStart + kDay}).ok());

  clock_.SetMillis(kStart + 3 * kDay + 1);
  auto samples = Samples("sched", kStart, kStart + 2 * kDay);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].dump_count, 2);
  EXPECT_EQ(store_->ListProcesses()->size(), 1u);
  clock_.SetMillis(kStart + 7 * kDay + 1);
  EXPECT_TRUE(store_->ListProcesses()->empty());
  EXPECT_EQ(store_->ListSchedules("t1")->size(), 1u);
  clock_.SetMillis(kStart + 8 * kDay + 1);
  EXPECT_TRUE(store_->ListSchedules("t1")->empty());
  EXPECT_FALSE(store_->GetSchedule("s1")->has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, EbpfStoreRetention, ::testing::Values(kRocks, kPg), ParamName);

class UiTemplateStoreContract : public ContractTest {
 protected:
  std::unique_ptr<UiTemplateStore> store_ = backend_->NewUiTemplateStore(&clock_);
};

TEST_P(UiTemplateStoreContract, TemplatesAreReplacedByIdAndListedById) {
  ASSERT_TRUE(store_->PutTemplate({"b", R"({"name":"B"})", false, kStart}).ok());
  ASSERT_TRUE(store_->PutTemplate({"a", R"({"name":"A","é":"ü"})", false, kStart + 1}).ok());
  ASSERT_TRUE(store_->PutTemplate({"b", R"({"name":"B2"})", true, kStart + 2}).ok());
  auto all = store_->ListTemplates();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "a");
  EXPECT_EQ((*all)[0].configuration, R"({"name":"A","é":"ü"})");
  EXPECT_FALSE((*all)[0].disabled);
  EXPECT_EQ((*all)[0].update_time_ms, kStart + 1);
  EXPECT_EQ((*all)[1].id, "b");
  auto b = store_->GetTemplate("b");
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->configuration, R"({"name":"B2"})");
  EXPECT_TRUE((*b)->disabled);  // disabled ones are kept
  EXPECT_EQ((*b)->update_time_ms, kStart + 2);
  EXPECT_FALSE(store_->GetTemplate("c")->has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, UiTemplateStoreContract, ::testing::Values(kFake, kRocks, kPg),
                         ParamName);

class ContinuousPolicyStoreContract : public ContractTest {
 protected:
  std::unique_ptr<ContinuousPolicyStore> store_ = backend_->NewContinuousPolicyStore(&clock_);
};

model::ContinuousPolicy Policy(const std::string& service, const std::string& uuid) {
  model::ContinuousPolicy policy;
  policy.service_id = service;
  policy.uuid = uuid;
  policy.update_time_ms = kStart;
  model::ContinuousTarget& target = policy.targets.emplace_back();
  target.type = model::EbpfTargetType::kNetwork;
  model::ContinuousCheckItem& item = target.items.emplace_back();
  item.type = model::ContinuousMonitorType::kHttpErrorRate;
  item.threshold = "10";
  item.period = 10;
  item.count = 3;
  item.uri_list = std::vector<std::string>{"/a", "/b"};
  model::ContinuousCheckItem& regex = target.items.emplace_back();
  regex.type = model::ContinuousMonitorType::kHttpAvgResponseTime;
  regex.uri_regex = "/orders/.*";
  return policy;
}

TEST_P(ContinuousPolicyStoreContract, PoliciesAreReplacedByServiceAndListedByService) {
  ASSERT_TRUE(store_->PutPolicy(Policy("svc-b", "uuid-1")).ok());
  ASSERT_TRUE(store_->PutPolicy(Policy("svc-a", "uuid-2")).ok());
  model::ContinuousPolicy disabled;
  disabled.service_id = "svc-b";
  disabled.uuid = "uuid-3";
  disabled.update_time_ms = kStart + 5;
  ASSERT_TRUE(store_->PutPolicy(disabled).ok());

  auto all = store_->ListPolicies();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  const model::ContinuousPolicy& a = (*all)[0];
  EXPECT_EQ(a.service_id, "svc-a");
  EXPECT_EQ(a.uuid, "uuid-2");
  EXPECT_EQ(a.update_time_ms, kStart);
  ASSERT_EQ(a.targets.size(), 1u);
  EXPECT_EQ(a.targets[0].type, model::EbpfTargetType::kNetwork);
  ASSERT_EQ(a.targets[0].items.size(), 2u);
  const model::ContinuousCheckItem& item = a.targets[0].items[0];
  EXPECT_EQ(item.type, model::ContinuousMonitorType::kHttpErrorRate);
  EXPECT_EQ(item.threshold, "10");
  EXPECT_EQ(item.period, 10);
  EXPECT_EQ(item.count, 3);
  ASSERT_TRUE(item.uri_list.has_value());
  EXPECT_THAT(*item.uri_list, ElementsAre("/a", "/b"));
  EXPECT_FALSE(item.uri_regex.has_value());
  EXPECT_FALSE(a.targets[0].items[1].uri_list.has_value());
  EXPECT_EQ(a.targets[0].items[1].uri_regex, "/orders/.*");

  auto b = store_->GetPolicy("svc-b");
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->uuid, "uuid-3");
  EXPECT_TRUE((*b)->targets.empty());
  EXPECT_EQ((*b)->update_time_ms, kStart + 5);
  EXPECT_FALSE(store_->GetPolicy("svc-c")->has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, ContinuousPolicyStoreContract, ::testing::Values(kRocks, kPg),
                         ParamName);

class SpanEventStoreContract : public ContractTest {
 protected:
  std::unique_ptr<SpanEventStore> store_ = backend_->NewSpanEventStore(&clock_);
};

model::SpanAttachedEvent Event(const std::string& trace, int64_t seconds, int32_t nanos,
                               const std::string& name) {
  model::SpanAttachedEvent e;
  e.trace_id = trace;
  e.start_seconds = seconds;
  e.start_nanos = nanos;
  e.end_seconds = seconds + 1;
  e.end_nanos = 7;
  e.event = name;
  e.tags = {{"k", "v"}, {"k2", "v2"}};
  e.summary = {{"bytes", 1024}};
  e.zipkin = true;
  e.segment_id = "seg";
  e.span_id = "3";
  return e;
}

TEST_P(SpanEventStoreContract, EventsOfATraceByStartTimeLimitedAndKeptTwiceWhenSentTwice) {
  ASSERT_TRUE(store_
                  ->AddEvents({Event("t1", 100, 500, "late"), Event("t1", 100, 20, "early"),
                               Event("t2", 1, 0, "other"), Event("t1", 99, 999, "earliest")})
                  .ok());
  ASSERT_TRUE(store_->AddEvents({Event("t1", 100, 20, "early")}).ok());
  auto all = store_->ListByTrace("t1", 10);
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> names;
  for (const model::SpanAttachedEvent& e : *all) names.push_back(e.event);
  EXPECT_THAT(names, ElementsAre("earliest", "early", "early", "late"));
  const model::SpanAttachedEvent& e = (*all)[0];
  EXPECT_EQ(e.trace_id, "t1");
  EXPECT_EQ(e.start_seconds, 99);
  EXPECT_EQ(e.start_nanos, 999);
  EXPECT_EQ(e.end_seconds, 100);
  EXPECT_EQ(e.end_nanos, 7);
  EXPECT_THAT(e.tags, ElementsAre(Pair("k", "v"), Pair("k2", "v2")));
  EXPECT_THAT(e.summary, ElementsAre(Pair("bytes", 1024)));
  EXPECT_TRUE(e.zipkin);
  EXPECT_EQ(e.segment_id, "seg");
  EXPECT_EQ(e.span_id, "3");
  auto two = store_->ListByTrace("t1", 2);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].event, "early");
  EXPECT_TRUE(store_->ListByTrace("t1", 0)->empty());
  EXPECT_TRUE(store_->ListByTrace("t3", 10)->empty());
  EXPECT_TRUE(store_->AddEvents({}).ok());

  // Retention counts from receipt, whatever the agent's clock says.
  clock_.AdvanceMillis(3LL * 24 * 3600 * 1000 + 1);
  ASSERT_TRUE(store_->AddEvents({Event("t1", 1, 0, "received later")}).ok());
  auto live = store_->ListByTrace("t1", 10);
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].event, "received later");
}

INSTANTIATE_TEST_SUITE_P(Backends, SpanEventStoreContract, ::testing::Values(kRocks, kPg),
                         ParamName);

using metrics::MetricUpdate;

// 2023-11-14 22:00:00 UTC: an hour start.
constexpr int64_t kT0 = 1699999200000;
constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;

class MetricStoreContract : public ContractTest {
 protected:
  void SetUp() override {
    ContractTest::SetUp();
    clock_.SetMillis(kT0 + kHour);
  }

  std::vector<metrics::LabeledRows> Read(const char* metric, metrics::Step step,
                                         std::vector<int64_t> starts, const char* entity = "c-s") {
    return stackhouse::testing::ReadMetricRows(*store_, metric, step, std::move(starts), entity);
  }

  static metrics::SampledTrace Sampled(const std::string& trace, int64_t time, int64_t latency,
                                       const std::string& uri) {
    metrics::SampledTrace t;
    t.record = "sampled_slow_trace_record";
    t.entity_id = "c-s";
    t.value.trace_id = trace;
    t.value.timestamp_ms = time;
    t.value.latency_ms = latency;
    t.value.uri = uri;
    return t;
  }

  std::unique_ptr<MetricStore> store_ = backend_->NewMetricStore(&clock_);
};

TEST_P(MetricStoreContract, UpdatesAddUpPerMinuteAndRollUpToHourAndDay) {
  ASSERT_TRUE(
      store_
          ->AddMetrics({MetricSum("process_relation_client_write_cpm", kT0, 5),
                        MetricSum("process_relation_client_write_cpm", kT0, 7),
                        MetricSum("process_relation_client_write_cpm", kT0 + 2 * kMinute, 3)})
          .ok());
  ASSERT_TRUE(
      store_->AddMetrics({MetricSum("process_relation_client_write_cpm", kT0 + 2 * kMinute, 1)})
          .ok());

  auto minutes = Read("process_relation_client_write_cpm", metrics::Step::kMinute,
                      {kT0, kT0 + kMinute, kT0 + 2 * kMinute});
  ASSERT_EQ(minutes.size(), 1u);
  EXPECT_EQ(minutes[0].label_value, "");
  ASSERT_EQ(minutes[0].rows.size(), 3u);
  ASSERT_TRUE(minutes[0].rows[0].has_value());
  EXPECT_EQ(minutes[0].rows[0]->sum, 12);
  EXPECT_FALSE(minutes[0].rows[1].has_value());
  ASSERT_TRUE(minutes[0].rows[2].has_value());
  EXPECT_EQ(minutes[0].rows[2]->sum, 4);

  auto hours = Read("process_relation_client_write_cpm", metrics::Step::kHour, {kT0, kT0 + kHour});
  ASSERT_EQ(hours.size(), 1u);
  ASSERT_TRUE(hours[0].rows[0].has_value());
  EXPECT_EQ(hours[0].rows[0]->sum, 16);
  EXPECT_FALSE(hours[0].rows[1].has_value());

  const int64_t day = kT0 - 22 * kHour;  // 2023-11-14 00:00 UTC
  auto days = Read("process_relation_client_write_cpm", metrics::Step::kDay, {day});
  ASSERT_EQ(days.size(), 1u);
  ASSERT_TRUE(days[0].rows[0].has_value());
  EXPECT_EQ(days[0].rows[0]->sum, 16);

  // Another entity and another metric are separate series.
  EXPECT_TRUE(
      Read("process_relation_client_write_cpm", metrics::Step::kMinute, {kT0}, "x-y").empty());
  EXPECT_TRUE(Read("process_relation_client_read_cpm", metrics::Step::kMinute, {kT0}).empty());
}

TEST_P(MetricStoreContract, LabeledRowsComeBackOnePerLabelSortedWithHistogramBuckets) {
  MetricUpdate ok = MetricSum("process_relation_http1_response_status_cpm", kT0, 3, "c-s", "200");
  MetricUpdate err =
      MetricSum("process_relation_http1_response_status_cpm", kT0 + kMinute, 1, "c-s", "500");
  // Label values are any bytes, including the key codec's separators.
  MetricUpdate odd = MetricSum("process_relation_http1_response_status_cpm", kT0, 2);
  odd.label_value = std::string("a\0b,{=}", 7);
  MetricUpdate histogram;
  histogram.metric = metrics::FindMetric("process_relation_client_write_rtt_time_percentile");
  histogram.entity_id = "c-s";
  histogram.minute_ms = kT0;
  histogram.delta.buckets = {{0, 1}, {5, 2}, {INT64_MIN, 4}};
  ASSERT_TRUE(store_->AddMetrics({ok, err, odd, histogram, histogram}).ok());

  auto rows = Read("process_relation_http1_response_status_cpm", metrics::Step::kMinute,
                   {kT0, kT0 + kMinute});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].label_value, "200");
  EXPECT_EQ(rows[1].label_value, "500");
  EXPECT_EQ(rows[2].label_value, std::string("a\0b,{=}", 7));
  EXPECT_EQ(rows[2].rows[0]->sum, 2);
  EXPECT_EQ(rows[0].rows[0]->sum, 3);
  EXPECT_FALSE(rows[0].rows[1].has_value());
  EXPECT_FALSE(rows[1].rows[0].has_value());
  EXPECT_EQ(rows[1].rows[1]->sum, 1);

  auto hist =
      Read("process_relation_client_write_rtt_time_percentile", metrics::Step::kMinute, {kT0});
  ASSERT_EQ(hist.size(), 1u);
  ASSERT_TRUE(hist[0].rows[0].has_value());
  EXPECT_EQ(hist[0].rows[0]->buckets, (metrics::BucketCounts{{INT64_MIN, 8}, {0, 2}, {5, 4}}));
}

TEST_P(MetricStoreContract, RelationRowsKeepTheComponentOfHigherPriority) {
  using metrics::RelationRow;
  ASSERT_TRUE(store_
                  ->AddRelations({RelationRow{"inst", "a", "b", false, 110, kT0},
                                  RelationRow{"inst", "a", "b", false, 49, kT0},
                                  RelationRow{"inst", "a", "b", false, 110, kT0},
                                  RelationRow{"inst", "b", "a", true, 130, kT0 + kMinute},
                                  RelationRow{"inst", "b", "a", true, 110, kT0 + kMinute},
                                  RelationRow{"other", "x", "y", false, 49, kT0},
                                  RelationRow{"inst", "a", "b", false, 49, kT0 + 5 * kMinute}})
                  .ok());
  auto rows = store_->ReadRelations("inst", kT0, kT0 + kMinute);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].client_process_id, "a");
  EXPECT_EQ((*rows)[0].server_process_id, "b");
  EXPECT_FALSE((*rows)[0].server_side);
  EXPECT_EQ((*rows)[0].component_id, 49);  // http beats tcp, later tcp does not win back
  EXPECT_EQ((*rows)[0].minute_ms, kT0);
  EXPECT_TRUE((*rows)[1].server_side);
  EXPECT_EQ((*rows)[1].component_id, 130);  // tls beats tcp
  EXPECT_EQ((*rows)[1].instance_id, "inst");

  auto all = store_->ReadRelations("inst", INT64_MIN, INT64_MAX);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto none = store_->ReadRelations("inst", kT0 + 2 * kMinute, kT0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(MetricStoreContract, AveragesKeepSumAndCount) {
  const char* metric = "process_relation_client_write_avg_exe_time";
  ASSERT_TRUE(store_->AddMetrics({MetricSum(metric, kT0, 40), MetricSum(metric, kT0, 20)}).ok());
  ASSERT_TRUE(store_->AddMetrics({MetricSum(metric, kT0, 30)}).ok());
  auto rows = Read(metric, metrics::Step::kMinute, {kT0});
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_TRUE(rows[0].rows[0].has_value());
  EXPECT_EQ(rows[0].rows[0]->sum, 90);
  EXPECT_EQ(rows[0].rows[0]->count, 3);
  EXPECT_TRUE(store_->AddMetrics({}).ok());
  EXPECT_TRUE(Read(metric, metrics::Step::kMinute, {}).empty());
}

TEST_P(MetricStoreContract, SampledRecordsByLatencyNewerFirstAmongEqualsKeptOnce) {
  ASSERT_TRUE(store_
                  ->AddSampledRecords(
                      {Sampled("t1", kT0, 50, "/a"), Sampled("t2", kT0 + 1, 90, "/b"),
                       Sampled("t3", kT0 + 2, 50, "/c"), Sampled("t4", kT0 + kMinute, 10, "/d")})
                  .ok());
  ASSERT_TRUE(store_->AddSampledRecords({Sampled("t2", kT0 + 1, 90, "/b")}).ok());  // again
  auto top = store_->TopRecords("sampled_slow_trace_record", "c-s", kT0, kT0 + kMinute, 10, false);
  ASSERT_TRUE(top.ok()) << top.status();
  std::vector<std::string> traces;
  for (const metrics::SampledRecord& r : *top) traces.push_back(r.trace_id);
  EXPECT_THAT(traces, ElementsAre("t2", "t3", "t1"));  // [start, end): t4 is out
  EXPECT_EQ((*top)[0].uri, "/b");
  EXPECT_EQ((*top)[0].latency_ms, 90);
  EXPECT_EQ((*top)[0].timestamp_ms, kT0 + 1);
  auto low =
      store_->TopRecords("sampled_slow_trace_record", "c-s", kT0, kT0 + 2 * kMinute, 2, true);
  ASSERT_TRUE(low.ok());
  traces.clear();
  for (const metrics::SampledRecord& r : *low) traces.push_back(r.trace_id);
  EXPECT_THAT(traces, ElementsAre("t4", "t3"));
  EXPECT_TRUE(store_->TopRecords("sampled_slow_trace_record", "x-y", kT0, kT0 + kMinute, 10, false)
                  ->empty());
  EXPECT_TRUE(store_->TopRecords("sampled_slow_trace_record", "c-s", kT0, kT0 + kMinute, 0, false)
                  ->empty());
}

// Retention: rows and relations expire metricsDataTTL after their minute, sampled records
// recordDataTTL after their time.
TEST_P(MetricStoreContract, RowsRelationsAndRecordsExpire) {
  constexpr int64_t kDay = 24 * kHour;
  const char* metric = "process_relation_client_write_cpm";
  ASSERT_TRUE(store_->AddMetrics({MetricSum(metric, kT0, 5)}).ok());
  ASSERT_TRUE(store_->AddRelations({metrics::RelationRow{"inst", "a", "b", false, 49, kT0}}).ok());
  ASSERT_TRUE(store_->AddSampledRecords({Sampled("t1", kT0, 50, "/a")}).ok());
  clock_.SetMillis(kT0 + 3 * kDay + kMinute);
  EXPECT_TRUE(
      store_->TopRecords("sampled_slow_trace_record", "c-s", kT0, kT0 + 1, 10, false)->empty());
  EXPECT_EQ(Read(metric, metrics::Step::kMinute, {kT0}).size(), 1u);
  clock_.SetMillis(kT0 + 7 * kDay + kMinute);
  EXPECT_TRUE(Read(metric, metrics::Step::kMinute, {kT0}).empty());
  EXPECT_TRUE(Read(metric, metrics::Step::kHour, {kT0}).empty());
  EXPECT_TRUE(store_->ReadRelations("inst", kT0, kT0)->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, MetricStoreContract, ::testing::Values(kRocks, kPg), ParamName);

}  // namespace
}  // namespace stackhouse::storage
