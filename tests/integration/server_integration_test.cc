// End-to-end tests of the stackhouse binary: health, auth, metrics, crash durability, the
// data-directory lock, start-up errors and clean shutdown.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "management/Management.grpc.pb.h"
#include "management/ManagementCompat.grpc.pb.h"
#include "model/ids.h"
#include "server_process.h"
#include "storage/database.h"
#include "storage/rocks_metadata_store.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ServerIntegrationTest : public ::testing::Test {
 protected:
  std::unique_ptr<ServerProcess> MakeServer(std::map<std::string, std::string> env = {}) {
    return std::make_unique<ServerProcess>(dir_.path() + "/data", std::move(env));
  }

  static std::shared_ptr<grpc::Channel> Channel(const ServerProcess& server) {
    return grpc::CreateChannel(server.GrpcTarget(), grpc::InsecureChannelCredentials());
  }

  static grpc::Status ReportProperties(const ServerProcess& server, const std::string& token,
                                       const std::string& service, const std::string& instance) {
    auto stub = skywalking::v3::ManagementService::NewStub(Channel(server));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context.AddMetadata("authentication", token);
    skywalking::v3::InstanceProperties request;
    request.set_service(service);
    request.set_serviceinstance(instance);
    auto* kv = request.add_properties();
    kv->set_key("language");
    kv->set_value("java");
    skywalking::v3::Commands response;
    return stub->reportInstanceProperties(&context, request, &response);
  }

  static grpc::Status KeepAlive(const ServerProcess& server, const std::string& token,
                                const std::string& service, const std::string& instance) {
    auto stub = skywalking::v3::ManagementService::NewStub(Channel(server));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context.AddMetadata("authentication", token);
    skywalking::v3::InstancePingPkg request;
    request.set_service(service);
    request.set_serviceinstance(instance);
    skywalking::v3::Commands response;
    return stub->keepAlive(&context, request, &response);
  }

  // grpc.health.v1.Health/Check through a generic stub: the request {service: ""} is empty
  // on the wire and SERVING is `08 01`.
  static std::string HealthCheck(const ServerProcess& server) {
    grpc::GenericStub stub(Channel(server));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::ByteBuffer request;
    grpc::Slice empty("");
    request = grpc::ByteBuffer(&empty, 1);
    grpc::ByteBuffer response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                   &response, [&](grpc::Status s) {
                     std::lock_guard<std::mutex> lock(mu);
                     status = s;
                     done = true;
                     cv.notify_one();
                   });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    if (!status.ok()) return "error: " + status.error_message();
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    std::string bytes;
    for (const auto& slice : slices) {
      bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
    return bytes;
  }

  // Reads what the server stored, after it stopped.
  std::optional<model::ServiceInstance> StoredInstance(const std::string& service,
                                                       const std::string& instance) {
    storage::DatabaseOptions options;
    options.data_dir = dir_.path() + "/data";
    auto db = storage::Database::Open(options, &SystemClock::Instance());
    EXPECT_TRUE(db.ok()) << db.status();
    if (!db.ok()) return std::nullopt;
    storage::RocksMetadataStore store(db->get(), &SystemClock::Instance());
    auto found = store.GetInstance(model::InstanceId(model::ServiceId(service), instance));
    EXPECT_TRUE(found.ok());
    return found.ok() ? *found : std::nullopt;
  }

  TestDir dir_;
};

TEST_F(ServerIntegrationTest, ServesHealthMetricsAndStopsCleanly) {
  auto server = MakeServer();
  ASSERT_TRUE(server->Start()) << server->Log();
  EXPECT_EQ(server->HttpGet("/healthz"), std::make_pair(200, std::string("ok\n")));
  EXPECT_EQ(HealthCheck(*server), std::string("\x08\x01", 2));
  EXPECT_EQ(server->HttpGet("/nope").first, 404);
  // The web page is served from the binary.
  auto [page_status, page] = server->HttpGet("/");
  EXPECT_EQ(page_status, 200);
  EXPECT_THAT(page, HasSubstr("<title>Stackhouse</title>"));
  EXPECT_EQ(server->HttpGet("/web/app.js").first, 200);
  // So are booster-ui's default dashboards ({getAllTemplates{id}}).
  auto [templates_status, templates] =
      server->HttpGet("/graphql?query=%7BgetAllTemplates%7Bid%7D%7D");
  EXPECT_EQ(templates_status, 200) << templates;
  EXPECT_THAT(templates, HasSubstr(R"({"id":"stackhouse-mesh-process-relation"})"));
  {
    // `stackhouse --health-check` (the container HEALTHCHECK) probes the configured port.
    ServerProcess probe(dir_.path() + "/probe", 0, server->http_port());
    EXPECT_EQ(probe.RunToExit({"--health-check"}), 0) << probe.Log();
  }

  ASSERT_TRUE(ReportProperties(*server, "", "order-svc", "pod-1").ok());
  auto [status, metrics] = server->HttpGet("/metrics");
  EXPECT_EQ(status, 200);
  EXPECT_THAT(metrics, HasSubstr("stackhouse_build_info{version=\""));
  EXPECT_THAT(metrics, HasSubstr("# TYPE stackhouse_uptime_seconds gauge"));
  EXPECT_THAT(metrics, HasSubstr("stackhouse_grpc_calls_total{method=\"/skywalking.v3."
                                 "ManagementService/reportInstanceProperties\",code=\"OK\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("stackhouse_http_requests_total{path=\"/healthz\",method=\"GET\","
                                 "code=\"200\"}"));
  EXPECT_THAT(metrics, HasSubstr("stackhouse_storage_estimated_keys{family=\"metadata\"} 2"));
  EXPECT_THAT(metrics, HasSubstr("stackhouse_storage_sst_bytes{family=\"snapshot\"}"));

  EXPECT_EQ(server->Stop(SIGTERM), std::optional<int>(0)) << server->Log();
  EXPECT_THAT(server->Log(), HasSubstr("shutting down"));
  EXPECT_THAT(server->Log(), HasSubstr("stopped"));
  {
    ServerProcess probe(dir_.path() + "/probe", 0, server->http_port());
    EXPECT_EQ(probe.RunToExit({"--health-check"}), 1);
    EXPECT_THAT(probe.Log(), HasSubstr("unhealthy: no answer from http://127.0.0.1:"));
  }
}

TEST_F(ServerIntegrationTest, WrongOrMissingTokenIsDeniedAndNothingIsStored) {
  auto server = MakeServer({{"SW_AUTHENTICATION", "s3cret"}});
  ASSERT_TRUE(server->Start()) << server->Log();
  grpc::Status wrong = ReportProperties(*server, "guess", "svc", "wrong-token");
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(wrong.error_message(), "invalid authentication token");
  grpc::Status missing = KeepAlive(*server, "", "svc", "no-token");
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // The package-less compat service is guarded too.
  {
    auto stub = ::ManagementService::NewStub(Channel(*server));
    grpc::ClientContext context;
    context.AddMetadata("authentication", "s3cret!");
    skywalking::v3::InstancePingPkg request;
    request.set_service("svc");
    request.set_serviceinstance("compat");
    skywalking::v3::Commands response;
    EXPECT_EQ(stub->keepAlive(&context, request, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  ASSERT_TRUE(ReportProperties(*server, "s3cret", "svc", "right-token").ok());
  // Health stays open for probes that carry no token.
  EXPECT_EQ(HealthCheck(*server), std::string("\x08\x01", 2));
  EXPECT_THAT(server->HttpGet("/metrics").second,
              HasSubstr("method=\"/skywalking.v3.ManagementService/reportInstanceProperties\","
                        "code=\"PERMISSION_DENIED\"} 1"));
  ASSERT_EQ(server->Stop(SIGTERM), std::optional<int>(0));

  EXPECT_TRUE(StoredInstance("svc", "right-token").has_value());
  EXPECT_FALSE(StoredInstance("svc", "wrong-token").has_value());
  EXPECT_FALSE(StoredInstance("svc", "no-token").has_value());
  EXPECT_FALSE(StoredInstance("svc", "compat").has_value());
}

TEST_F(ServerIntegrationTest, AcknowledgedWritesSurviveSigkillAndTheDirectoryIsLocked) {
  auto server = MakeServer();
  ASSERT_TRUE(server->Start()) << server->Log();
  ASSERT_TRUE(ReportProperties(*server, "", "order-svc", "pod-1").ok());
  EXPECT_EQ(server->Stop(SIGKILL), std::optional<int>(-SIGKILL));

  // A new process on the same directory finds the data (replayed from the WAL).
  auto restarted = MakeServer();
  ASSERT_TRUE(restarted->Start()) << restarted->Log();
  EXPECT_THAT(restarted->HttpGet("/metrics").second,
              HasSubstr("stackhouse_storage_estimated_keys{family=\"metadata\"} 2"));
  // A heartbeat now keeps the properties reported before the crash.
  ASSERT_TRUE(KeepAlive(*restarted, "", "order-svc", "pod-1").ok());

  // A second server on the same directory refuses to start, and says why.
  auto second = MakeServer();
  EXPECT_EQ(second->RunToExit(), 1);
  EXPECT_THAT(second->Log(), HasSubstr("is in use by another Stackhouse process"));
  EXPECT_THAT(second->Log(), Not(HasSubstr("terminate called")));
  // The first one is unaffected.
  EXPECT_EQ(restarted->HttpGet("/healthz").first, 200);
  ASSERT_EQ(restarted->Stop(SIGTERM), std::optional<int>(0)) << restarted->Log();

  auto stored = StoredInstance("order-svc", "pod-1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->service_id, "b3JkZXItc3Zj.1");
  EXPECT_THAT(stored->properties, ::testing::ElementsAre(::testing::Pair("language", "java")));
  EXPECT_GT(stored->last_heartbeat_ms, stored->first_seen_ms - 1);
}

// Sends raw bytes to a unary method through a generic stub.
grpc::Status RawUnaryCall(const ServerProcess& server, const std::string& method,
                          const std::string& bytes) {
  grpc::GenericStub stub(
      grpc::CreateChannel(server.GrpcTarget(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    status = s;
    done = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  return status;
}

TEST_F(ServerIntegrationTest, MalformedAndOversizedMessagesAreRefused) {
  auto server = MakeServer({{"SW_CORE_GRPC_MAX_MESSAGE_SIZE", "4096"}});
  ASSERT_TRUE(server->Start()) << server->Log();
  ASSERT_TRUE(ReportProperties(*server, "", "svc", "before").ok());

  // Not a protobuf message: field 1 announced with a length far beyond the buffer.
  grpc::Status malformed = RawUnaryCall(*server, "/skywalking.v3.ManagementService/keepAlive",
                                        std::string("\x0a\xff\xff\xff\x0f\x01", 6));
  EXPECT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(malformed.error_message(),
            "malformed request: not a valid protobuf message for "
            "/skywalking.v3.ManagementService/keepAlive");

  grpc::Status oversized = ReportProperties(*server, "", "svc", std::string(8192, 'x'));
  EXPECT_EQ(oversized.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  // The server keeps running and loses nothing.
  EXPECT_EQ(server->HttpGet("/healthz").first, 200);
  EXPECT_THAT(server->HttpGet("/metrics").second,
              HasSubstr("{method=\"/skywalking.v3.ManagementService/keepAlive\","
                        "code=\"INVALID_ARGUMENT\"} 1"));
  ASSERT_TRUE(ReportProperties(*server, "", "svc", "after").ok());
  ASSERT_EQ(server->Stop(SIGTERM), std::optional<int>(0)) << server->Log();
  EXPECT_TRUE(StoredInstance("svc", "before").has_value());
  EXPECT_TRUE(StoredInstance("svc", "after").has_value());
}

// The agent services Stackhouse does not implement are answered OK next to the ones it does
// (the generic drain service beside the generated ones), and counted; other methods are not.
TEST_F(ServerIntegrationTest, AgentsOtherServicesAreAnsweredAndCounted) {
  auto server = MakeServer();
  ASSERT_TRUE(server->Start()) << server->Log();
  EXPECT_TRUE(RawUnaryCall(*server, "/skywalking.v3.JVMMetricReportService/collect", "").ok());
  EXPECT_TRUE(
      RawUnaryCall(*server, "/skywalking.v3.ConfigurationDiscoveryService/fetchConfigurations", "")
          .ok());
  grpc::Status unknown = RawUnaryCall(*server, "/skywalking.v3.NoSuchService/call", "");
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // The implemented services are still the generated ones.
  ASSERT_TRUE(ReportProperties(*server, "", "svc", "inst").ok());
  const std::string metrics = server->HttpGet("/metrics").second;
  EXPECT_THAT(metrics, HasSubstr("stackhouse_agent_messages_dropped_total{method=\"/skywalking.v3."
                                 "JVMMetricReportService/collect\"} 1"));
  EXPECT_THAT(metrics, Not(HasSubstr("NoSuchService/call\"} ")));
  ASSERT_EQ(server->Stop(SIGTERM), std::optional<int>(0)) << server->Log();
}

TEST_F(ServerIntegrationTest, StartupErrorsAreOneClearMessage) {
  {
    auto server = MakeServer({{"SW_CORE_GRPC_PORT", "not-a-port"}});
    EXPECT_EQ(server->RunToExit(), 1);
    EXPECT_THAT(server->Log(), HasSubstr("core.gRPCPort: expected an integer, got \"not-a-port\""));
  }
  {
    auto server = MakeServer({{"SW_CORE_RECORD_DATA_TTL", "0"}});
    EXPECT_EQ(server->RunToExit(), 1);
    EXPECT_THAT(server->Log(), HasSubstr("storage.recordDataTTL: value 0 is out of range"));
  }
  {
    // The HTTP port is taken by someone else.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(fd, 1), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ServerProcess server(dir_.path() + "/data", 0, ntohs(addr.sin_port));
    EXPECT_EQ(server.RunToExit(), 1);
    EXPECT_THAT(server.Log(), HasSubstr("cannot listen for HTTP on 127.0.0.1:"));
    close(fd);
  }
  {
    auto server = MakeServer();
    EXPECT_EQ(server->RunToExit({"--bogus"}), 2);
    EXPECT_THAT(server->Log(), HasSubstr("unknown argument '--bogus'"));
  }
  {
    auto server = MakeServer();
    EXPECT_EQ(server->RunToExit({"--version"}), 0);
    EXPECT_THAT(server->Log(), HasSubstr("stackhouse "));
  }
  {
    std::string file = dir_.path() + "/plain-file";
    ASSERT_EQ(system(("touch " + file).c_str()), 0);
    ServerProcess server(file + "/data");
    EXPECT_EQ(server.RunToExit(), 1);
    EXPECT_THAT(server.Log(), HasSubstr("cannot create data directory " + file + "/data"));
  }
}

}  // namespace
}  // namespace stackhouse::testing
