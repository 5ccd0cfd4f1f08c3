// The real binary with its ports secured: TLS on gRPC (server-only and mutual) and on HTTP,
// and core.restAuthentication's token for GraphQL mutations and exports.
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "management/Management.grpc.pb.h"
#include "server_process.h"
#include "storage/test_dir.h"
#include "test_certs.h"

namespace stackhouse::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kAddTemplate[] =
    R"({"query":"mutation { addTemplate(setting: {configuration: \"{\\\"id\\\":\\\"t1\\\",\\\"configuration\\\":{}}\"}) { status message } }"})";
constexpr char kListTemplates[] = R"({"query":"{ getAllTemplates { id } }"})";

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = MakeTestPki();
    ASSERT_FALSE(pki_.server_cert.empty());
    ASSERT_TRUE(WriteFile(Path("ca.pem"), pki_.ca_cert));
    ASSERT_TRUE(WriteFile(Path("server.key"), pki_.server_key));
    ASSERT_TRUE(WriteFile(Path("server.pem"), pki_.server_cert));
  }

  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  std::unique_ptr<ServerProcess> MakeServer(std::map<std::string, std::string> env) {
    return std::make_unique<ServerProcess>(Path("data"), std::move(env));
  }

  // reportInstanceProperties over `credentials`; the status says whether TLS let it through.
  static grpc::Status Report(const ServerProcess& server,
                             std::shared_ptr<grpc::ChannelCredentials> credentials) {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    auto channel = grpc::CreateCustomChannel(server.GrpcTarget(), credentials, args);
    auto stub = skywalking::v3::ManagementService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    skywalking::v3::InstanceProperties request;
    request.set_service("tls-service");
    request.set_serviceinstance("tls-instance");
    skywalking::v3::Commands response;
    return stub->reportInstanceProperties(&context, request, &response);
  }

  static httplib::Result Post(const ServerProcess& server, const std::string& body,
                              const httplib::Headers& headers = {}) {
    httplib::Client client(server.HttpBase());
    client.enable_server_certificate_verification(false);
    client.set_read_timeout(10, 0);
    return client.Post("/graphql", headers, body, "application/json");
  }

  TestDir dir_;
  TestPki pki_;
};

TEST_F(SecurityTest, GrpcOverTlsServesTlsClientsOnly) {
  auto server = MakeServer({{"SW_CORE_GRPC_SSL_ENABLED", "true"},
                            {"SW_CORE_GRPC_SSL_KEY_PATH", Path("server.key")},
                            {"SW_CORE_GRPC_SSL_CERT_CHAIN_PATH", Path("server.pem")}});
  ASSERT_TRUE(server->Start()) << server->Log();
  grpc::SslCredentialsOptions trusting;
  trusting.pem_root_certs = pki_.ca_cert;
  grpc::Status tls = Report(*server, grpc::SslCredentials(trusting));
  EXPECT_TRUE(tls.ok()) << tls.error_message();
  EXPECT_EQ(Report(*server, grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // A client that does not trust the CA refuses the server.
  grpc::SslCredentialsOptions other;
  other.pem_root_certs = MakeTestPki().ca_cert;
  EXPECT_FALSE(Report(*server, grpc::SslCredentials(other)).ok());
}

TEST_F(SecurityTest, MutualTlsNeedsAClientCertificateTheTrustedCaSigned) {
  auto server = MakeServer({{"SW_CORE_GRPC_SSL_ENABLED", "true"},
                            {"SW_CORE_GRPC_SSL_KEY_PATH", Path("server.key")},
                            {"SW_CORE_GRPC_SSL_CERT_CHAIN_PATH", Path("server.pem")},
                            {"SW_CORE_GRPC_SSL_TRUSTED_CA_PATH", Path("ca.pem")}});
  ASSERT_TRUE(server->Start()) << server->Log();
  grpc::SslCredentialsOptions with_cert;
  with_cert.pem_root_certs = pki_.ca_cert;
  with_cert.pem_private_key = pki_.client_key;
  with_cert.pem_cert_chain = pki_.client_cert;
  grpc::Status mutual = Report(*server, grpc::SslCredentials(with_cert));
  EXPECT_TRUE(mutual.ok()) << mutual.error_message();

  grpc::SslCredentialsOptions without_cert;
  without_cert.pem_root_certs = pki_.ca_cert;
  EXPECT_FALSE(Report(*server, grpc::SslCredentials(without_cert)).ok());

  TestPki stranger = MakeTestPki();  // a certificate some other CA signed
  grpc::SslCredentialsOptions foreign;
  foreign.pem_root_certs = pki_.ca_cert;
  foreign.pem_private_key = stranger.client_key;
  foreign.pem_cert_chain = stranger.client_cert;
  EXPECT_FALSE(Report(*server, grpc::SslCredentials(foreign)).ok());
}

TEST_F(SecurityTest, HttpsServesGraphqlAndHealthAndRefusesPlainHttp) {
  auto server = MakeServer({{"SW_CORE_REST_SSL_ENABLED", "true"},
                            {"SW_CORE_REST_SSL_KEY_PATH", Path("server.key")},
                            {"SW_CORE_REST_SSL_CERT_CHAIN_PATH", Path("server.pem")}});
  ASSERT_TRUE(server->Start()) << server->Log();  // Start waits for /healthz over HTTPS

  httplib::Client verified(server->HttpBase());
  verified.set_ca_cert_path(Path("ca.pem").c_str());
  verified.enable_server_certificate_verification(true);
  auto listed = verified.Post("/graphql", kListTemplates, "application/json");
  ASSERT_TRUE(listed) << httplib::to_string(listed.error());
  EXPECT_EQ(listed->status, 200);
  EXPECT_THAT(listed->body, HasSubstr("getAllTemplates"));

  httplib::Client plain("127.0.0.1", server->http_port());
  plain.set_read_timeout(5, 0);
  auto refused = plain.Get("/healthz");
  EXPECT_TRUE(!refused || refused->status != 200);

  // The container's health check (a second binary with the same configuration) speaks HTTPS.
  std::map<std::string, std::string> env = {
      {"SW_CORE_REST_SSL_ENABLED", "true"},
      {"SW_CORE_REST_SSL_KEY_PATH", Path("server.key")},
      {"SW_CORE_REST_SSL_CERT_CHAIN_PATH", Path("server.pem")}};
  ServerProcess check(Path("unused"), 0, server->http_port(), env);
  EXPECT_EQ(check.RunToExit({"--health-check"}), 0) << check.Log();
  EXPECT_EQ(check.RunToExit({"--liveness-check"}), 0) << check.Log();
  env["SW_CORE_REST_SSL_ENABLED"] = "false";
  ServerProcess plain_check(Path("unused"), 0, server->http_port(), env);
  EXPECT_EQ(plain_check.RunToExit({"--health-check"}), 1);
}

TEST_F(SecurityTest, UnusableCertificatesStopTheStartWithTheirKeyNamed) {
  ASSERT_TRUE(WriteFile(Path("garbage.pem"), "not a certificate"));
  auto missing = MakeServer({{"SW_CORE_GRPC_SSL_ENABLED", "true"},
                             {"SW_CORE_GRPC_SSL_KEY_PATH", Path("absent.key")},
                             {"SW_CORE_GRPC_SSL_CERT_CHAIN_PATH", Path("server.pem")}});
  EXPECT_EQ(missing->RunToExit(), 1);
  EXPECT_THAT(missing->Log(), HasSubstr("core.gRPCSslKeyPath: cannot read " + Path("absent.key")));

  auto not_pem = MakeServer({{"SW_CORE_REST_SSL_ENABLED", "true"},
                             {"SW_CORE_REST_SSL_KEY_PATH", Path("server.key")},
                             {"SW_CORE_REST_SSL_CERT_CHAIN_PATH", Path("garbage.pem")}});
  EXPECT_EQ(not_pem->RunToExit(), 1);
  EXPECT_THAT(not_pem->Log(), HasSubstr("core.restSslCertChainPath: " + Path("garbage.pem") +
                                        " is not a PEM file"));

  // A key that does not belong to the certificate.
  ASSERT_TRUE(WriteFile(Path("other.key"), MakeTestPki().server_key));
  auto mismatch = MakeServer({{"SW_CORE_REST_SSL_ENABLED", "true"},
                              {"SW_CORE_REST_SSL_KEY_PATH", Path("other.key")},
                              {"SW_CORE_REST_SSL_CERT_CHAIN_PATH", Path("server.pem")}});
  EXPECT_EQ(mismatch->RunToExit(), 1);
  EXPECT_THAT(mismatch->Log(), HasSubstr("HTTPS: cannot use the certificate chain"));

  auto no_key = MakeServer({{"SW_CORE_REST_SSL_ENABLED", "true"}});
  EXPECT_EQ(no_key->RunToExit(), 1);
  EXPECT_THAT(no_key->Log(), HasSubstr("core.restSslKeyPath: required when core.restSslEnabled"));
}

TEST_F(SecurityTest, TheRestTokenGuardsMutationsAndExportsButNotQueries) {
  auto server = MakeServer({{"SW_CORE_REST_AUTHENTICATION", "s3cret"}});
  ASSERT_TRUE(server->Start()) << server->Log();

  auto query = Post(*server, kListTemplates);
  ASSERT_TRUE(query);
  EXPECT_EQ(query->status, 200) << query->body;

  const std::string templates_before = query->body;
  auto anonymous = Post(*server, kAddTemplate);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_THAT(anonymous->body, HasSubstr("mutations need the token of core.restAuthentication"));
  EXPECT_THAT(anonymous->get_header_value("WWW-Authenticate"), HasSubstr("Basic"));
  auto wrong = Post(*server, kAddTemplate, {{"Authorization", "Bearer s3cre"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto wrong_basic = Post(*server, kAddTemplate, {{"Authorization", "Basic !!!"}});
  ASSERT_TRUE(wrong_basic);
  EXPECT_EQ(wrong_basic->status, 401);
  // Nothing was stored by the refused ones.
  EXPECT_EQ(Post(*server, kListTemplates)->body, templates_before);

  auto bearer = Post(*server, kAddTemplate, {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(bearer);
  EXPECT_EQ(bearer->status, 200);
  EXPECT_THAT(bearer->body, HasSubstr("\"status\":true"));
  // Basic: any user, the token as password ("admin:s3cret").
  auto basic = Post(*server, kAddTemplate, {{"Authorization", "Basic YWRtaW46czNjcmV0"}});
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->status, 200) << basic->body;
  EXPECT_NE(Post(*server, kListTemplates)->body, templates_before);

  EXPECT_EQ(server->HttpGet("/export/ebpf?taskId=x&format=folded").first, 401);
  httplib::Client client(server->HttpBase());
  auto exported =
      client.Get("/export/ebpf?taskId=x&format=folded", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(exported);
  EXPECT_NE(exported->status, 401);  // past the check (the task does not exist)
  EXPECT_EQ(server->HttpGet("/healthz").first, 200);
  EXPECT_EQ(server->HttpGet("/metrics").first, 200);
  EXPECT_EQ(server->HttpGet("/").first, 200);
}

}  // namespace
}  // namespace stackhouse::testing
