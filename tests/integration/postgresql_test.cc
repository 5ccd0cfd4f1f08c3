// The stackhouse binary on storage.selector: postgresql: two nodes over one database (a
// throw-away cluster, tests/storage/pg/test_cluster.h) answer as one, survive a SIGKILL of
// either, and bad settings stop the start with one clear message.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>
#include <thread>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "management/Management.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "server_process.h"
#include "storage/pg/test_cluster.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

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

  TestDir dir_;
  std::map<std::string, std::string> env_;
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
