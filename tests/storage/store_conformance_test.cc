// The store interfaces' contracts, written once and run against every implementation: the
// in-memory fakes the tests above storage use, RocksDB and PostgreSQL (a throw-away cluster per
// test process, a fresh database per test). What only some backends promise (retention) has
// its own suite, instantiated for those backends.
#include <memory>
#include <string>
#include <vector>

#include "fakes/fake_stores.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/ids.h"
#include "storage/database.h"
#include "storage/pg/pg_metadata_store.h"
#include "storage/pg/pg_profile_store.h"
#include "storage/pg/pg_schema.h"
#include "storage/pg/pg_segment_store.h"
#include "storage/pg/test_cluster.h"
#include "storage/rocks_metadata_store.h"
#include "storage/rocks_profile_store.h"
#include "storage/rocks_segment_store.h"
#include "storage/store_test_data.h"
#include "storage/test_dir.h"

namespace stackhouse::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

using testing::Dump;
using testing::Instance;
using testing::kStart;
using testing::MakeSegment;
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

}  // namespace
}  // namespace stackhouse::storage
