// The stackhouse binary on storage.selector: postgresql: two nodes over one database (a
// throw-away cluster, tests/storage/pg/test_cluster.h) answer as one, hand out each other's
// tasks (by LISTEN/NOTIFY, or by the periodic cache refresh alone), survive a SIGKILL of
// either, and bad settings stop the start with one clear message.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ebpf/profiling/Process.grpc.pb.h"
#include "ebpf/profiling/Profile.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "management/Management.grpc.pb.h"
#include "model/ids.h"
#include "nlohmann/json.hpp"
#include "profile/Profile.grpc.pb.h"
#include "server_process.h"
#include "storage/pg/test_cluster.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace v3 = skywalking::v3;

// A channel of its own per call (no subchannel shared with a channel to a killed node).
std::shared_ptr<grpc::Channel> FreshChannel(const ServerProcess& node) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(node.GrpcTarget(), grpc::InsecureChannelCredentials(), args);
}

// Polls `done` every 50 ms for up to a minute (a generous deadline, not a timing claim).
bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

class PostgresqlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conninfo = storage::pg::testing::ClusterEnvironment::NewDatabase();
    ASSERT_TRUE(conninfo.ok()) << conninfo.status();
    // "host=… port=… user=… dbname=… connect_timeout=…" → the server's settings.
    std::map<std::string, std::string> parts;
    for (absl::string_view part : absl::StrSplit(*conninfo, ' ')) {
      std::pair<std::string, std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
      parts[kv.first] = kv.second;
    }
    env_ = {{"SW_STORAGE", "postgresql"},
            {"SW_STORAGE_POSTGRESQL_HOST", parts["host"]},
            {"SW_STORAGE_POSTGRESQL_PORT", parts["port"]},
            {"SW_STORAGE_POSTGRESQL_USER", parts["user"]},
            {"SW_STORAGE_POSTGRESQL_DATABASE", parts["dbname"]},
            {"SW_STORAGE_POSTGRESQL_POOL_SIZE", "4"},
            {"SW_STORAGE_POSTGRESQL_STARTUP_RETRY", "0"}};
    socket_dir_ = parts["host"];
    port_ = parts["port"];
    conninfo_ = *conninfo;
  }

  std::unique_ptr<ServerProcess> MakeNode(const std::string& name,
                                          std::map<std::string, std::string> overrides = {}) {
    std::map<std::string, std::string> env = env_;
    for (auto& [k, v] : overrides) env[k] = v;
    return std::make_unique<ServerProcess>(dir_.path() + "/" + name, std::move(env));
  }

  static grpc::Status ReportProperties(const ServerProcess& node, const std::string& service,
                                       const std::string& instance) {
    auto stub = skywalking::v3::ManagementService::NewStub(
        grpc::CreateChannel(node.GrpcTarget(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    skywalking::v3::InstanceProperties request;
    request.set_service(service);
    request.set_serviceinstance(instance);
    auto* kv = request.add_properties();
    kv->set_key("language");
    kv->set_value("java");
    skywalking::v3::Commands response;
    return stub->reportInstanceProperties(&context, request, &response);
  }

  // The names of the services `node` lists.
  static std::vector<std::string> Services(const ServerProcess& node) {
    auto [status, body] = node.GraphQL("{ listServices(layer: \"\") { name } }");
    EXPECT_EQ(status, 200) << body;
    std::vector<std::string> names;
    json parsed = json::parse(body, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded() || parsed.contains("errors")) << body;
    if (parsed.is_discarded() || !parsed["data"]["listServices"].is_array()) return names;
    for (const json& service : parsed["data"]["listServices"]) names.push_back(service["name"]);
    return names;
  }

  // The commands a Java agent of order-svc/`instance` polling `node` gets: (TaskId, CreateTime).
  static std::vector<std::pair<std::string, int64_t>> PollTraceTasks(const ServerProcess& node,
                                                                     const std::string& instance,
                                                                     int64_t last_command_time) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v3::ProfileTaskCommandQuery query;
    query.set_service("order-svc");
    query.set_serviceinstance(instance);
    query.set_lastcommandtime(last_command_time);
    v3::Commands commands;
    grpc::Status status = v3::ProfileTask::NewStub(FreshChannel(node))
                              ->getProfileTaskCommands(&context, query, &commands);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::pair<std::string, int64_t>> tasks;
    for (const auto& command : commands.commands()) {
      std::map<std::string, std::string> args;
      for (const auto& kv : command.args()) args[kv.key()] = kv.value();
      tasks.emplace_back(args["TaskId"], std::stoll(args["CreateTime"]));
    }
    return tasks;
  }

  // Creates a trace-profiling task of order-svc through `node`'s /graphql; returns its id.
  static std::string CreateTraceTask(const ServerProcess& node) {
    auto [status, body] = node.GraphQL(
        "mutation($r: ProfileTaskCreationRequest) { task: createProfileTask(creationRequest: $r) "
        "{ id errorReason } }",
        json{{"r",
              {{"serviceId", model::ServiceId("order-svc")},
               {"endpointName", "GET:/orders"},
               {"startTime", 0},
               {"duration", 5},
               {"minDurationThreshold", 0},
               {"dumpPeriod", 10},
               {"maxSamplingCount", 5}}}}
            .dump());
    EXPECT_EQ(status, 200) << body;
    json parsed = json::parse(body, nullptr, false);
    EXPECT_TRUE(!parsed.is_discarded() && parsed["data"]["task"]["id"].is_string()) << body;
    if (parsed.is_discarded() || !parsed["data"]["task"]["id"].is_string()) return "";
    return parsed["data"]["task"]["id"];
  }

  // Rover `kRover` registers order-svc's java process (label "mesh") with `node`.
  static void ReportRoverProcess(const ServerProcess& node) {
    v3::EBPFProcessReportList report;
    report.set_ebpfagentid(kRover);
    auto* k8s = report.add_processes()->mutable_k8sprocess();
    k8s->mutable_entity()->set_layer("K8S_SERVICE");
    k8s->mutable_entity()->set_servicename("order-svc");
    k8s->mutable_entity()->set_instancename("pod-1");
    k8s->mutable_entity()->set_processname("java");
    k8s->mutable_entity()->add_labels("mesh");
    k8s->set_pid(42);
    auto* support = k8s->add_properties();
    support->set_key("support_ebpf_profiling");
    support->set_value("true");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v3::EBPFReportProcessDownstream downstream;
    grpc::Status status = v3::EBPFProcessService::NewStub(FreshChannel(node))
                              ->reportProcesses(&context, report, &downstream);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Creates an On-CPU task for order-svc's "mesh" processes through `node`; its id, or empty
  // when refused (e.g. the node does not know the processes yet).
  static std::string CreateEbpfTask(const ServerProcess& node) {
    auto [status, body] = node.GraphQL(
        "mutation($r: EBPFProfilingTaskFixedTimeCreationRequest!) { "
        "t: createEBPFProfilingFixedTimeTask(request: $r) { status errorReason id } }",
        json{{"r",
              {{"serviceId", model::ServiceId("order-svc")},
               {"processLabels", {"mesh"}},
               {"startTime", 0},
               {"duration", 60},
               {"targetType", "ON_CPU"}}}}
            .dump());
    EXPECT_EQ(status, 200) << body;
    json parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded() || !parsed["data"]["t"]["status"].is_boolean() ||
        !parsed["data"]["t"]["status"].get<bool>()) {
      return "";
    }
    return parsed["data"]["t"]["id"];
  }

  // The TaskIds of the commands Rover `kRover` gets from `node`.
  static std::vector<std::string> PollEbpfTasks(const ServerProcess& node) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v3::EBPFProfilingTaskQuery query;
    query.set_roverinstanceid(kRover);
    v3::Commands commands;
    grpc::Status status = v3::EBPFProfilingService::NewStub(FreshChannel(node))
                              ->queryTasks(&context, query, &commands);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> ids;
    for (const auto& command : commands.commands()) {
      for (const auto& kv : command.args()) {
        if (kv.key() == "TaskId") ids.push_back(kv.value());
      }
    }
    return ids;
  }

  static bool Has(const std::vector<std::pair<std::string, int64_t>>& tasks,
                  const std::string& id) {
    return std::any_of(tasks.begin(), tasks.end(), [&](const auto& t) { return t.first == id; });
  }

  static constexpr char kRover[] = "rover-1";

  TestDir dir_;
  std::map<std::string, std::string> env_;
  std::string conninfo_;    // the test database's libpq conninfo
  std::string socket_dir_;  // the test cluster's unix socket directory
  std::string port_;
};

TEST_F(PostgresqlServerTest, TwoNodesOverOneDatabaseAnswerAsOneAndSurviveASigkill) {
  auto a = MakeNode("a");
  auto b = MakeNode("b");
  ASSERT_TRUE(a->Start()) << a->Log();
  ASSERT_TRUE(b->Start()) << b->Log();  // the schema is there already: nothing to migrate
  EXPECT_THAT(a->Log(), HasSubstr("storage: PostgreSQL database"));
  EXPECT_EQ(a->HttpGet("/healthz").first, 200);

  // What an agent reports to one node, the other answers.
  ASSERT_TRUE(ReportProperties(*a, "order-svc", "pod-1").ok());
  ASSERT_TRUE(ReportProperties(*b, "billing-svc", "pod-1").ok());
  EXPECT_THAT(Services(*b), ::testing::ElementsAre("billing-svc", "order-svc"));
  EXPECT_EQ(Services(*a), Services(*b));

  // A node killed mid-flight loses nothing it acknowledged; the other keeps answering, and a
  // restarted node finds everything.
  EXPECT_EQ(a->Stop(SIGKILL), std::optional<int>(-SIGKILL));
  EXPECT_THAT(Services(*b), ::testing::ElementsAre("billing-svc", "order-svc"));
  auto restarted = MakeNode("a");
  ASSERT_TRUE(restarted->Start()) << restarted->Log();
  EXPECT_THAT(Services(*restarted), ::testing::ElementsAre("billing-svc", "order-svc"));
  EXPECT_EQ(b->Stop(SIGTERM), std::optional<int>(0)) << b->Log();
  EXPECT_EQ(restarted->Stop(SIGTERM), std::optional<int>(0)) << restarted->Log();
}

TEST_F(PostgresqlServerTest, TasksCreatedOnOneNodeReachAgentsPollingTheOtherByNotify) {
  // A refresh period far beyond the test: only a notification can bring the tasks in time.
  const std::map<std::string, std::string> no_refresh = {
      {"SW_STORAGE_POSTGRESQL_CACHE_REFRESH_SECONDS", "86400"}};
  auto a = MakeNode("a", no_refresh);
  auto b = MakeNode("b", no_refresh);
  ASSERT_TRUE(a->Start()) << a->Log();
  ASSERT_TRUE(b->Start()) << b->Log();
  EXPECT_THAT(b->Log(), HasSubstr("on other nodes' changes (LISTEN sh_changes)"));
  EXPECT_TRUE(PollTraceTasks(*b, "pod-1", -1).empty());

  // A trace task created through A is handed out by B, to each agent once by its
  // lastCommandTime; a restarted agent (-1) gets it again, from either node.
  const std::string id = CreateTraceTask(*a);
  ASSERT_FALSE(id.empty());
  std::vector<std::pair<std::string, int64_t>> polled;
  ASSERT_TRUE(Eventually([&] {
    polled = PollTraceTasks(*b, "pod-1", -1);
    return Has(polled, id);
  })) << b->Log();
  ASSERT_EQ(polled.size(), 1u);
  EXPECT_TRUE(PollTraceTasks(*b, "pod-1", polled[0].second).empty());
  EXPECT_TRUE(PollTraceTasks(*a, "pod-1", polled[0].second).empty());
  EXPECT_TRUE(Has(PollTraceTasks(*a, "pod-2", -1), id));

  // eBPF: Rover registers with B; A learns of its process (and labels), the task created
  // through A reaches Rover through B.
  ReportRoverProcess(*b);
  std::string ebpf_id;
  ASSERT_TRUE(Eventually([&] {
    ebpf_id = CreateEbpfTask(*a);
    return !ebpf_id.empty();
  })) << a->Log();
  ASSERT_TRUE(Eventually([&] {
    std::vector<std::string> ids = PollEbpfTasks(*b);
    return std::find(ids.begin(), ids.end(), ebpf_id) != ids.end();
  })) << b->Log();

  // B's listening connection is killed: it connects again, and what is created meanwhile or
  // afterwards still reaches it.
  auto pool = storage::pg::Pool::Create({conninfo_, 1, 0});
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto killed = (*pool)->Exec(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE application_name = 'stackhouse-listen'");
  ASSERT_TRUE(killed.ok()) << killed.status();
  EXPECT_EQ(killed->Int64(0, 0), 2);  // one per node
  ASSERT_TRUE(Eventually([&] {
    return b->Log().find("listening for other nodes' changes again") != std::string::npos &&
           a->Log().find("listening for other nodes' changes again") != std::string::npos;
  })) << b->Log();
  auto network_task = a->GraphQL(
      "mutation($r: EBPFProfilingNetworkTaskRequest!) { "
      "t: createEBPFNetworkProfiling(request: $r) { status errorReason id } }",
      json{{"r",
            {{"instanceId", model::InstanceId(model::ServiceId("order-svc"), "pod-1")},
             {"samplings", json::array()}}}}
          .dump());
  json network = json::parse(network_task.second, nullptr, false);
  ASSERT_TRUE(!network.is_discarded() && network["data"]["t"]["status"] == true)
      << network_task.second;
  const std::string network_id = network["data"]["t"]["id"];
  ASSERT_TRUE(Eventually([&] {
    std::vector<std::string> ids = PollEbpfTasks(*b);
    return std::find(ids.begin(), ids.end(), network_id) != ids.end();
  })) << b->Log();

  EXPECT_EQ(a->Stop(SIGTERM), std::optional<int>(0)) << a->Log();
  EXPECT_EQ(b->Stop(SIGTERM), std::optional<int>(0)) << b->Log();
}

TEST_F(PostgresqlServerTest, WithoutNotificationsThePeriodicRefreshAloneBringsTheTasks) {
  const std::map<std::string, std::string> refresh_only = {
      {"SW_STORAGE_POSTGRESQL_LISTEN_NOTIFY", "false"},
      {"SW_STORAGE_POSTGRESQL_CACHE_REFRESH_SECONDS", "1"}};
  auto a = MakeNode("a", refresh_only);
  auto b = MakeNode("b", refresh_only);
  ASSERT_TRUE(a->Start()) << a->Log();
  ASSERT_TRUE(b->Start()) << b->Log();
  EXPECT_THAT(b->Log(), HasSubstr("caches re-read every 1 s (listenNotify is off)"));

  const std::string id = CreateTraceTask(*a);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(Eventually([&] { return Has(PollTraceTasks(*b, "pod-1", -1), id); })) << b->Log();

  ReportRoverProcess(*b);
  std::string ebpf_id;
  ASSERT_TRUE(Eventually([&] {
    ebpf_id = CreateEbpfTask(*a);
    return !ebpf_id.empty();
  })) << a->Log();
  ASSERT_TRUE(Eventually([&] {
    std::vector<std::string> ids = PollEbpfTasks(*b);
    return std::find(ids.begin(), ids.end(), ebpf_id) != ids.end();
  })) << b->Log();
  EXPECT_EQ(a->Stop(SIGTERM), std::optional<int>(0)) << a->Log();
  EXPECT_EQ(b->Stop(SIGTERM), std::optional<int>(0)) << b->Log();
}

TEST_F(PostgresqlServerTest, BadStorageSettingsStopTheStartWithOneClearMessage) {
  {
    auto node = MakeNode("x", {{"SW_STORAGE", "cassandra"}});
    EXPECT_EQ(node->RunToExit(), 1);
    EXPECT_THAT(node->Log(), HasSubstr("storage.selector: invalid value \"cassandra\" "
                                       "(expected rocksdb or postgresql)"));
  }
  {
    auto node = MakeNode("x", {{"SW_STORAGE_POSTGRESQL_POOL_SIZE", "0"}});
    EXPECT_EQ(node->RunToExit(), 1);
    EXPECT_THAT(node->Log(), HasSubstr("storage.postgresql.poolSize: value 0 is out of range"));
  }
  {
    auto node = MakeNode("x", {{"SW_STORAGE_POSTGRESQL_CACHE_REFRESH_SECONDS", "0"}});
    EXPECT_EQ(node->RunToExit(), 1);
    EXPECT_THAT(node->Log(),
                HasSubstr("storage.postgresql.cacheRefreshSeconds: value 0 is out of range"));
  }
  {
    // Nobody listens there: tried again for a second (0.5 s, then the rest), then given up.
    auto node = MakeNode("x", {{"SW_STORAGE_POSTGRESQL_HOST", dir_.path()},
                               {"SW_STORAGE_POSTGRESQL_CONNECT_TIMEOUT", "2"},
                               {"SW_STORAGE_POSTGRESQL_STARTUP_RETRY", "1"}});
    EXPECT_EQ(node->RunToExit(), 1);
    EXPECT_THAT(node->Log(), HasSubstr("storage.postgresql: cannot connect to database"));
    EXPECT_THAT(node->Log(), HasSubstr("(attempt 1; trying again in 0.5 s)"));
    EXPECT_THAT(node->Log(), Not(HasSubstr("terminate called")));
  }
  {
    // A database that does not exist.
    auto node = MakeNode("x", {{"SW_STORAGE_POSTGRESQL_DATABASE", "no_such_db"}});
    EXPECT_EQ(node->RunToExit(), 1);
    EXPECT_THAT(node->Log(), HasSubstr("no_such_db"));
  }
}

TEST_F(PostgresqlServerTest, ANodeStartedBeforeItsDatabaseComesUpOnceTheDatabaseIs) {
  // The node connects through a socket directory where no server listens yet; once it has
  // failed an attempt, the cluster's socket appears there (a symbolic link), as when the
  // database starts after the node.
  const std::string late_dir = dir_.path() + "/late-db";
  ASSERT_EQ(mkdir(late_dir.c_str(), 0700), 0);
  auto node = MakeNode("a", {{"SW_STORAGE_POSTGRESQL_HOST", late_dir},
                             {"SW_STORAGE_POSTGRESQL_STARTUP_RETRY", "60"}});
  std::thread database_comes_up([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (node->Log().find("trying again in") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::string socket = "/.s.PGSQL." + port_;
    EXPECT_EQ(symlink((socket_dir_ + socket).c_str(), (late_dir + socket).c_str()), 0);
  });
  const bool started = node->Start(60000);
  database_comes_up.join();
  ASSERT_TRUE(started) << node->Log();
  EXPECT_THAT(node->Log(), HasSubstr("(attempt 1; trying again in 0.5 s)"));
  EXPECT_THAT(node->Log(), HasSubstr("storage: PostgreSQL database"));
  EXPECT_EQ(node->HttpGet("/healthz").first, 200);
  EXPECT_EQ(node->Stop(SIGTERM), std::optional<int>(0)) << node->Log();
}

}  // namespace
}  // namespace stackhouse::testing
