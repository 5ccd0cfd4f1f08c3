#include "config/config.h"

#include <fstream>
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::config {
namespace {

using ::testing::HasSubstr;

EnvLookup FakeEnv(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

std::string ErrorOf(const std::string& yaml, std::map<std::string, std::string> env = {}) {
  auto config = ParseConfig(yaml, FakeEnv(std::move(env)));
  EXPECT_FALSE(config.ok()) << yaml;
  return config.ok() ? "" : std::string(config.status().message());
}

TEST(SubstituteEnvTest, UsesEnvironmentThenDefault) {
  auto env = FakeEnv({{"PORT", "9000"}, {"EMPTY", ""}});
  EXPECT_EQ(*SubstituteEnv("${PORT:11800}", env), "9000");
  EXPECT_EQ(*SubstituteEnv("${MISSING:11800}", env), "11800");
  EXPECT_EQ(*SubstituteEnv("${MISSING:}", env), "");
  EXPECT_EQ(*SubstituteEnv("${EMPTY:x}", env), "");  // set-but-empty wins, as in OAP
  EXPECT_EQ(*SubstituteEnv("${MISSING:a:b}", env), "a:b");
  EXPECT_EQ(*SubstituteEnv("host-${PORT:1}-${MISSING:2}", env), "host-9000-2");
  EXPECT_EQ(*SubstituteEnv("plain", env), "plain");
}

TEST(SubstituteEnvTest, RejectsMalformedPlaceholders) {
  auto env = FakeEnv({});
  EXPECT_THAT(SubstituteEnv("${MISSING}", env).status().message(), HasSubstr("MISSING is not set"));
  EXPECT_THAT(SubstituteEnv("${PORT:1", env).status().message(), HasSubstr("unterminated"));
  EXPECT_THAT(SubstituteEnv("${:1}", env).status().message(), HasSubstr("empty"));
}

TEST(ParseConfigTest, EmptyDocumentMeansDefaults) {
  auto config = ParseConfig("", FakeEnv({}));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->network.grpc_port, 11800);
  EXPECT_EQ(config->network.http_port, 12800);
  EXPECT_EQ(config->network.grpc_max_message_size, 52428800);
  EXPECT_EQ(config->network.grpc_stream_threads, 0);  // gRPC's callback threads
  EXPECT_EQ(config->network.grpc_max_concurrent_streams, 10000);
  EXPECT_EQ(config->network.grpc_stream_idle_timeout_seconds, 600);
  EXPECT_EQ(config->network.grpc_max_unary_threads, 16);
  EXPECT_EQ(config->storage.record_ttl_days, 3);
  EXPECT_EQ(config->storage.metrics_ttl_days, 7);
  EXPECT_EQ(config->receiver.authentication, "");
  EXPECT_EQ(config->ui.booster_dir, "");  // booster-ui not served by default
  EXPECT_EQ(config->ui.port, 8080);
  EXPECT_EQ(config->query.max_metric_buckets, 10080);
  EXPECT_EQ(config->log.level, "info");
}

TEST(ParseConfigTest, ReadsEveryKeyWithEnvironmentOverrides) {
  const std::string yaml = R"(
core:
  gRPCHost: ${SW_CORE_GRPC_HOST:0.0.0.0}
  gRPCPort: ${SW_CORE_GRPC_PORT:11800}
  restHost: 127.0.0.1
  restPort: 0
  maxMessageSize: 1048576
  gRPCThreadPoolSize: 4
  gRPCStreamThreads: 3
  gRPCMaxConcurrentStreams: ${SW_CORE_GRPC_MAX_CONCURRENT_STREAMS:10000}
  gRPCStreamIdleTimeout: 30
  gRPCMaxUnaryThreads: 8
  shutdownGracePeriod: 3
  restMaxThreads: 3
  restMaxConnections: ${SW_CORE_REST_MAX_CONNECTIONS:10000}
  restIdleTimeOut: 5000
  restRequestTimeout: 7000
receiver:
  authentication: ${SW_AUTHENTICATION:}
  serviceNameMaxLength: 10
  instanceNameMaxLength: 11
  endpointNameMaxLength: 12
storage:
  dataDir: /tmp/x
  syncWrites: true
  blockCacheSize: 0
  recordDataTTL: 1
  metricsDataTTL: 2
  maxFutureSkew: ${SW_STORAGE_MAX_FUTURE_SKEW:600}
  maxPastSkew: 3600
query:
  maxRequestBodySize: 2048
  maxQueryDepth: 5
  maxQueryFields: 6
  maxQueryTokens: 700
  maxMetricsQueryBuckets: 60
  ebpfAnalysisMaxSamples: 1000
ui:
  boosterDir: ${SW_UI_BOOSTER_DIR:}
  host: 127.0.0.2
  port: 0
log:
  level: ${SW_LOG_LEVEL:info}
)";
  auto config = ParseConfig(yaml, FakeEnv({{"SW_CORE_GRPC_PORT", "1234"},
                                           {"SW_AUTHENTICATION", "secret"},
                                           {"SW_CORE_GRPC_MAX_CONCURRENT_STREAMS", "5000"},
                                           {"SW_LOG_LEVEL", "debug"},
                                           {"SW_STORAGE_MAX_FUTURE_SKEW", "60"},
                                           {"SW_UI_BOOSTER_DIR", "/srv/booster-ui/dist"},
                                           {"SW_CORE_REST_MAX_CONNECTIONS", "500"}}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->network.rest_max_threads, 3);
  EXPECT_EQ(config->network.rest_max_connections, 500);
  EXPECT_EQ(config->network.rest_idle_timeout_ms, 5000);
  EXPECT_EQ(config->network.rest_request_timeout_ms, 7000);
  EXPECT_EQ(config->network.grpc_host, "0.0.0.0");
  EXPECT_EQ(config->network.grpc_port, 1234);
  EXPECT_EQ(config->network.http_host, "127.0.0.1");
  EXPECT_EQ(config->network.http_port, 0);
  EXPECT_EQ(config->network.grpc_max_message_size, 1048576);
  EXPECT_EQ(config->network.grpc_thread_pool_size, 4);
  EXPECT_EQ(config->network.grpc_stream_threads, 3);
  EXPECT_EQ(config->network.grpc_max_concurrent_streams, 5000);
  EXPECT_EQ(config->network.grpc_stream_idle_timeout_seconds, 30);
  EXPECT_EQ(config->network.grpc_max_unary_threads, 8);
  EXPECT_EQ(config->network.shutdown_grace_seconds, 3);
  EXPECT_EQ(config->receiver.authentication, "secret");
  EXPECT_EQ(config->receiver.service_name_max_length, 10);
  EXPECT_EQ(config->receiver.instance_name_max_length, 11);
  EXPECT_EQ(config->receiver.endpoint_name_max_length, 12);
  EXPECT_EQ(config->storage.data_dir, "/tmp/x");
  EXPECT_TRUE(config->storage.sync_writes);
  EXPECT_EQ(config->storage.block_cache_bytes, 0);
  EXPECT_EQ(config->storage.record_ttl_days, 1);
  EXPECT_EQ(config->storage.metrics_ttl_days, 2);
  EXPECT_EQ(config->storage.max_future_skew_seconds, 60);
  EXPECT_EQ(config->storage.max_past_skew_seconds, 3600);
  EXPECT_EQ(config->query.max_body_bytes, 2048);
  EXPECT_EQ(config->query.max_depth, 5);
  EXPECT_EQ(config->query.max_fields, 6);
  EXPECT_EQ(config->query.max_tokens, 700);
  EXPECT_EQ(config->ui.booster_dir, "/srv/booster-ui/dist");
  EXPECT_EQ(config->ui.host, "127.0.0.2");
  EXPECT_EQ(config->ui.port, 0);
  EXPECT_EQ(config->query.max_metric_buckets, 60);
  EXPECT_EQ(config->query.ebpf_analysis_max_samples, 1000);
  EXPECT_EQ(config->log.level, "debug");
}

TEST(ParseConfigTest, ShippedApplicationYmlLoadsWithDefaults) {
  auto config = LoadConfig(STACKHOUSE_APPLICATION_YML, FakeEnv({}));
  ASSERT_TRUE(config.ok()) << config.status();
  Config defaults;
  EXPECT_EQ(config->network.grpc_port, defaults.network.grpc_port);
  EXPECT_EQ(config->network.http_port, defaults.network.http_port);
  EXPECT_EQ(config->network.grpc_max_message_size, defaults.network.grpc_max_message_size);
  EXPECT_EQ(config->storage.data_dir, defaults.storage.data_dir);
  EXPECT_EQ(config->storage.record_ttl_days, defaults.storage.record_ttl_days);
  EXPECT_EQ(config->storage.metrics_ttl_days, defaults.storage.metrics_ttl_days);
  EXPECT_EQ(config->storage.max_future_skew_seconds, 600);
  EXPECT_EQ(config->storage.max_past_skew_seconds, 0);  // = recordDataTTL
  EXPECT_EQ(config->receiver.authentication, "");
  EXPECT_EQ(config->query.max_metric_buckets, defaults.query.max_metric_buckets);
  EXPECT_EQ(config->network.rest_max_threads, defaults.network.rest_max_threads);
  EXPECT_EQ(config->network.rest_max_connections, defaults.network.rest_max_connections);
  EXPECT_EQ(config->network.rest_idle_timeout_ms, defaults.network.rest_idle_timeout_ms);
  EXPECT_EQ(config->network.rest_request_timeout_ms, defaults.network.rest_request_timeout_ms);
  EXPECT_EQ(config->query.ebpf_analysis_max_samples, defaults.query.ebpf_analysis_max_samples);
  EXPECT_EQ(config->log.level, "info");
}

TEST(ParseConfigTest, PostgresqlStorageWithEnvironmentOverridesAndItsErrors) {
  auto shipped = LoadConfig(STACKHOUSE_APPLICATION_YML,
                            FakeEnv({{"SW_STORAGE", "postgresql"},
                                     {"SW_STORAGE_POSTGRESQL_HOST", "/run/postgresql"},
                                     {"SW_STORAGE_POSTGRESQL_PORT", "5433"},
                                     {"SW_STORAGE_POSTGRESQL_DATABASE", "sh"},
                                     {"SW_STORAGE_POSTGRESQL_USER", "alice"},
                                     {"SW_STORAGE_POSTGRESQL_PASSWORD", "s3cr'et"},
                                     {"SW_STORAGE_POSTGRESQL_POOL_SIZE", "4"},
                                     {"SW_STORAGE_POSTGRESQL_STATEMENT_TIMEOUT", "0"},
                                     {"SW_STORAGE_POSTGRESQL_CONNECT_TIMEOUT", "3"},
                                     {"SW_STORAGE_POSTGRESQL_STARTUP_RETRY", "0"},
                                     {"SW_STORAGE_POSTGRESQL_CACHE_REFRESH_SECONDS", "30"},
                                     {"SW_STORAGE_POSTGRESQL_LISTEN_NOTIFY", "false"}}));
  ASSERT_TRUE(shipped.ok()) << shipped.status();
  const PostgresqlConfig& pg = shipped->storage.postgresql;
  EXPECT_EQ(shipped->storage.selector, "postgresql");
  EXPECT_EQ(pg.host, "/run/postgresql");
  EXPECT_EQ(pg.port, 5433);
  EXPECT_EQ(pg.database, "sh");
  EXPECT_EQ(pg.user, "alice");
  EXPECT_EQ(pg.password, "s3cr'et");
  EXPECT_EQ(pg.pool_size, 4);
  EXPECT_EQ(pg.statement_timeout_ms, 0);
  EXPECT_EQ(pg.connect_timeout_seconds, 3);
  EXPECT_EQ(pg.startup_retry_seconds, 0);
  EXPECT_EQ(pg.cache_refresh_seconds, 30);
  EXPECT_FALSE(pg.listen_notify);

  auto defaults = LoadConfig(STACKHOUSE_APPLICATION_YML, FakeEnv({}));
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->storage.selector, "rocksdb");
  EXPECT_EQ(defaults->storage.postgresql.host, "localhost");
  EXPECT_EQ(defaults->storage.postgresql.port, 5432);
  EXPECT_EQ(defaults->storage.postgresql.password, "");
  EXPECT_EQ(defaults->storage.postgresql.pool_size, PostgresqlConfig().pool_size);
  EXPECT_EQ(defaults->storage.postgresql.statement_timeout_ms,
            PostgresqlConfig().statement_timeout_ms);
  EXPECT_EQ(defaults->storage.postgresql.startup_retry_seconds, 60);
  EXPECT_EQ(defaults->storage.postgresql.cache_refresh_seconds, 10);
  EXPECT_TRUE(defaults->storage.postgresql.listen_notify);

  EXPECT_EQ(ErrorOf("storage:\n  selector: mysql\n"),
            "storage.selector: invalid value \"mysql\" (expected rocksdb or postgresql)");
  EXPECT_EQ(ErrorOf("storage:\n  postgresql:\n    port: 0\n"),
            "storage.postgresql.port: value 0 is out of range [1, 65535]");
  EXPECT_EQ(ErrorOf("storage:\n  postgresql:\n    poolSize: 2000\n"),
            "storage.postgresql.poolSize: value 2000 is out of range [1, 1024]");
  EXPECT_EQ(ErrorOf("storage:\n  postgresql:\n    startupRetry: -1\n"),
            "storage.postgresql.startupRetry: value -1 is out of range [0, 86400]");
  EXPECT_EQ(ErrorOf("storage:\n  postgresql:\n    cacheRefreshSeconds: 0\n"),
            "storage.postgresql.cacheRefreshSeconds: value 0 is out of range [1, 86400]");
  EXPECT_EQ(ErrorOf("storage:\n  postgresql:\n    cacheRefreshSeconds: 10s\n"),
            "storage.postgresql.cacheRefreshSeconds: expected an integer, got \"10s\"");
  EXPECT_EQ(ErrorOf("storage:\n  postgresql:\n    listenNotify: yes\n"),
            "storage.postgresql.listenNotify: expected true or false, got \"yes\"");
  EXPECT_EQ(ErrorOf("storage:\n  postgresql:\n    host: \"\"\n"),
            "storage.postgresql.host: must not be empty");
  EXPECT_EQ(ErrorOf("storage:\n  postgresql:\n    dbname: x\n"),
            "storage.postgresql.dbname: unknown key");
  EXPECT_EQ(ErrorOf("storage:\n  postgresql: 5\n"), "storage.postgresql: expected a mapping");
}

TEST(ParseConfigTest, UnknownKeysNameTheirPath) {
  EXPECT_EQ(ErrorOf("core:\n  grpcPort: 1\n"), "core.grpcPort: unknown key");
  EXPECT_THAT(ErrorOf("cor:\n  gRPCPort: 1\n"), HasSubstr("cor: unknown section"));
  EXPECT_EQ(ErrorOf("storage:\n  ttl: 1\n"), "storage.ttl: unknown key");
}

TEST(ParseConfigTest, WrongTypesNameTheirPath) {
  EXPECT_EQ(ErrorOf("core:\n  gRPCPort: abc\n"), "core.gRPCPort: expected an integer, got \"abc\"");
  EXPECT_EQ(ErrorOf("core:\n  gRPCPort: 1.5\n"), "core.gRPCPort: expected an integer, got \"1.5\"");
  EXPECT_EQ(ErrorOf("storage:\n  syncWrites: maybe\n"),
            "storage.syncWrites: expected true or false, got \"maybe\"");
  EXPECT_EQ(ErrorOf("core:\n  gRPCPort: [1, 2]\n"),
            "core.gRPCPort: expected a single value, got a list or a mapping");
  EXPECT_EQ(ErrorOf("core: 5\n"), "core: expected a mapping");
  EXPECT_EQ(ErrorOf("- a\n- b\n"), "the top level must be a mapping");
  EXPECT_EQ(ErrorOf("core:\n  gRPCPort: ${SW_PORT:x}\n"),
            "core.gRPCPort: expected an integer, got \"x\"");
}

TEST(ParseConfigTest, OutOfRangeValuesNameTheirPath) {
  EXPECT_EQ(ErrorOf("core:\n  gRPCPort: 70000\n"),
            "core.gRPCPort: value 70000 is out of range [0, 65535]");
  EXPECT_EQ(ErrorOf("core:\n  restPort: -1\n"),
            "core.restPort: value -1 is out of range [0, 65535]");
  EXPECT_EQ(ErrorOf("storage:\n  recordDataTTL: 0\n"),
            "storage.recordDataTTL: value 0 is out of range [1, 3650]");
  EXPECT_EQ(ErrorOf("storage:\n  maxFutureSkew: 86401\n"),
            "storage.maxFutureSkew: value 86401 is out of range [0, 86400]");
  EXPECT_EQ(ErrorOf("storage:\n  recordDataTTL: 1\n  maxPastSkew: 86401\n"),
            "storage.maxPastSkew: 86401 s is beyond storage.recordDataTTL (1 days); such "
            "records would expire on arrival");
  EXPECT_EQ(ErrorOf("core:\n  restMaxConnections: 0\n"),
            "core.restMaxConnections: value 0 is out of range [1, 1000000]");
  EXPECT_EQ(ErrorOf("core:\n  restRequestTimeout: 10\n"),
            "core.restRequestTimeout: value 10 is out of range [100, 3600000]");
  EXPECT_EQ(ErrorOf("core:\n  maxMessageSize: 10\n"),
            "core.maxMessageSize: value 10 is out of range [1024, 2147483647]");
  EXPECT_EQ(ErrorOf("log:\n  level: loud\n"),
            "log.level: invalid value \"loud\" (expected trace, debug, info, warn, error, "
            "critical or off)");
  EXPECT_EQ(ErrorOf("storage:\n  dataDir: \"\"\n"), "storage.dataDir: must not be empty");
  EXPECT_EQ(
      ErrorOf("core:\n  gRPCPort: ${SW_CORE_GRPC_PORT:1}\n", {{"SW_CORE_GRPC_PORT", "99999"}}),
      "core.gRPCPort: value 99999 is out of range [0, 65535]");
}

TEST(ParseConfigTest, ReportsEveryProblemAtOnce) {
  std::string error = ErrorOf("core:\n  gRPCPort: x\n  bogus: 1\nlog:\n  level: loud\n");
  EXPECT_THAT(error, HasSubstr("core.gRPCPort: expected an integer"));
  EXPECT_THAT(error, HasSubstr("core.bogus: unknown key"));
  EXPECT_THAT(error, HasSubstr("log.level: invalid value"));
}

TEST(ParseConfigTest, MissingEnvironmentWithoutDefault) {
  EXPECT_EQ(ErrorOf("receiver:\n  authentication: ${SW_TOKEN}\n"),
            "receiver.authentication: environment variable SW_TOKEN is not set and "
            "\"${SW_TOKEN}\" has no default");
}

TEST(ParseConfigTest, InvalidYamlGivesPosition) {
  EXPECT_THAT(ErrorOf("core:\n  gRPCPort: [1\n"), HasSubstr("invalid YAML at line"));
}

TEST(LoadConfigTest, MissingFileIsNamed) {
  auto config = LoadConfig("/nonexistent/application.yml", FakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), "cannot read config file /nonexistent/application.yml");
}

TEST(LoadConfigTest, ErrorsNameTheFile) {
  std::string path = testing::TempDir() + "/bad.yml";
  std::ofstream(path) << "core:\n  gRPCPort: nope\n";
  auto config = LoadConfig(path, FakeEnv({}));
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr(path));
  EXPECT_THAT(config.status().message(), HasSubstr("core.gRPCPort: expected an integer"));
}

}  // namespace
}  // namespace stackhouse::config
