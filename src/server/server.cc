#include "server/server.h"

#include <openssl/crypto.h>
#include <sys/resource.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/embedded_files.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "export/export_handler.h"
#include "graphql/http_endpoint.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "http/http_server.h"
#include "http/static_site.h"
#include "query/query_service.h"
#include "receiver/agent_time_guard.h"
#include "receiver/auth.h"
#include "receiver/continuous_profiling_service.h"
#include "receiver/drain_service.h"
#include "receiver/ebpf_services.h"
#include "receiver/log_service.h"
#include "receiver/management_service.h"
#include "receiver/meter_service.h"
#include "receiver/profile_service.h"
#include "receiver/span_event_service.h"
#include "receiver/stream_runtime.h"
#include "receiver/trace_segment_service.h"
#include "server/grpc_metrics_interceptor.h"
#include "server/startup_pages.h"
#include "service/cache_refresher.h"
#include "service/continuous_service.h"
#include "service/default_ui_templates.h"
#include "service/ebpf_service.h"
#include "service/meter_service.h"
#include "service/profile_task_service.h"
#include "service/registry.h"
#include "service/segment_ingest.h"
#include "service/span_event_ingest.h"
#include "service/trace_profile_ingest.h"
#include "storage/database.h"
#include "storage/pg/pg_change_feed.h"
#include "storage/pg/pg_continuous_policy_store.h"
#include "storage/pg/pg_ebpf_store.h"
#include "storage/pg/pg_metadata_store.h"
#include "storage/pg/pg_metric_store.h"
#include "storage/pg/pg_partitions.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/pg_profile_store.h"
#include "storage/pg/pg_retry.h"
#include "storage/pg/pg_schema.h"
#include "storage/pg/pg_segment_store.h"
#include "storage/pg/pg_span_event_store.h"
#include "storage/pg/pg_ui_template_store.h"
#include "storage/rocks_continuous_policy_store.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/rocks_metadata_store.h"
#include "storage/rocks_metric_store.h"
#include "storage/rocks_profile_store.h"
#include "storage/rocks_segment_store.h"
#include "storage/rocks_span_event_store.h"
#include "storage/rocks_ui_template_store.h"

#ifndef STACKHOUSE_VERSION
#define STACKHOUSE_VERSION "dev"
#endif

namespace stackhouse::server {
namespace {

constexpr int64_t kMillisPerDay = 24LL * 3600 * 1000;
// Event-loop threads of each HTTP port (they only read and write sockets).
constexpr int kHttpIoThreads = 2;
constexpr int64_t kBodyLimitSlack = 1024;
// How often the eBPF roll-up job runs, and how many minutes one run rolls up at most.
constexpr int64_t kRollupIntervalMs = 10'000;
constexpr int64_t kRollupMaxMinutes = 10'000;

// The contents of the PEM file that configuration key `key` names, or an error naming both.
absl::StatusOr<std::string> ReadPemFile(const std::string& path, absl::string_view key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(key, ": cannot read ", path));
  std::ostringstream contents;
  contents << in.rdbuf();
  std::string pem = contents.str();
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": ", path, " is not a PEM file"));
  }
  return pem;
}

// Raises the soft limit of open files towards the hard one when the HTTP ports' connection
// caps (two ports) and a reserve for RocksDB and gRPC do not fit under it: a connection over
// the file limit fails at accept, not at the cap.
void RaiseFileLimit(int64_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur != RLIM_INFINITY && static_cast<int64_t>(limit.rlim_cur) >= wanted) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY
                       ? static_cast<rlim_t>(wanted)
                       : std::min(limit.rlim_max, static_cast<rlim_t>(wanted));
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0 || static_cast<int64_t>(limit.rlim_cur) < wanted) {
    GetLogger("server")->warn(
        "open files limited to {} (hard limit {}); core.restMaxConnections needs about {}",
        limit.rlim_cur, limit.rlim_max, wanted);
  } else if (limit.rlim_cur != before) {
    GetLogger("server")->info("open files limit raised from {} to {}", before, limit.rlim_cur);
  }
}

bool SameSecret(absl::string_view given, absl::string_view token) {
  return given.size() == token.size() &&
         CRYPTO_memcmp(given.data(), token.data(), given.size()) == 0;
}

// True if `request` carries `token` (never empty) as `Authorization: Bearer <token>` or as the
// password of HTTP Basic authentication (any user name).
bool CarriesToken(const http::HttpRequest& request, const std::string& token) {
  const std::string authorization = request.header("Authorization");
  absl::string_view value = authorization;
  if (absl::StartsWithIgnoreCase(value, "Bearer ")) {
    return SameSecret(absl::StripAsciiWhitespace(value.substr(7)), token);
  }
  if (absl::StartsWithIgnoreCase(value, "Basic ")) {
    std::string decoded;
    if (!absl::Base64Unescape(absl::StripAsciiWhitespace(value.substr(6)), &decoded)) return false;
    const size_t colon = decoded.find(':');
    return colon != std::string::npos &&
           SameSecret(absl::string_view(decoded).substr(colon + 1), token);
  }
  return false;
}

// The answer to a request that needs core.restAuthentication's token and lacks it. Basic in
// WWW-Authenticate lets a browser ask its user for the token.
// A GraphQL response streamed as the body of a chunked HTTP response.
class ChunkedGraphqlStream final : public graphql::ResponseStream {
 public:
  explicit ChunkedGraphqlStream(http::ResponseStarter* starter) : starter_(starter) {}
  void Begin(int status, absl::string_view content_type) override {
    write_ = starter_->Start(http::HttpResponse{status, std::string(content_type), "", {}});
  }
  bool Write(absl::string_view chunk) override { return write_(chunk); }

 private:
  http::ResponseStarter* const starter_;
  http::BodyWriter write_;
};

http::HttpResponse Unauthorized(absl::string_view content_type, absl::string_view what) {
  const std::string message =
      absl::StrCat(what,
                   " need the token of core.restAuthentication: send it as "
                   "'Authorization: Bearer <token>' or as the password of HTTP Basic");
  http::HttpResponse response;
  response.status = 401;
  if (absl::StartsWith(content_type, "application/json")) {
    response.content_type = "application/json; charset=utf-8";
    response.body = absl::StrCat("{\"errors\":[{\"message\":\"", message, "\"}]}");
  } else {
    response.content_type = "text/plain; charset=utf-8";
    response.body = absl::StrCat(message, "\n");
  }
  response.headers.emplace_back("WWW-Authenticate",
                                "Basic realm=\"Stackhouse\", charset=\"UTF-8\"");
  return response;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const config::Config& config,
                                                      const Clock* clock) {
  std::unique_ptr<Server> server(new Server(config, clock));
  absl::Status status = server->StartInternal();
  if (!status.ok()) {
    server->Shutdown();
    return status;
  }
  return server;
}

Server::Server(const config::Config& config, const Clock* clock)
    : config_(config), clock_(clock), start_ms_(clock->NowMillis()) {}

Server::~Server() { Shutdown(); }

http::HttpServerOptions Server::HttpOptions() const {
  const config::NetworkConfig& n = config_.network;
  http::HttpServerOptions options;
  // The HTTP library's own body limit sits above the GraphQL one, so that the endpoint
  // answers an oversized request itself (413 naming the limit).
  options.max_body_bytes = config_.query.max_body_bytes + kBodyLimitSlack;
  options.worker_threads = n.rest_max_threads;
  options.io_threads = kHttpIoThreads;
  options.max_connections = n.rest_max_connections;
  options.idle_timeout_ms = n.rest_idle_timeout_ms;
  options.request_timeout_ms = n.rest_request_timeout_ms;
  if (n.rest_ssl_enabled) {
    options.tls = http::TlsFiles{n.rest_ssl_cert_chain_path, n.rest_ssl_key_path};
  }
  return options;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Server::GrpcCredentials() const {
  const config::NetworkConfig& n = config_.network;
  if (!n.grpc_ssl_enabled) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  SH_ASSIGN_OR_RETURN(pair.private_key, ReadPemFile(n.grpc_ssl_key_path, "core.gRPCSslKeyPath"));
  SH_ASSIGN_OR_RETURN(pair.cert_chain,
                      ReadPemFile(n.grpc_ssl_cert_chain_path, "core.gRPCSslCertChainPath"));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!n.grpc_ssl_trusted_ca_path.empty()) {
    SH_ASSIGN_OR_RETURN(options.pem_root_certs,
                        ReadPemFile(n.grpc_ssl_trusted_ca_path, "core.gRPCSslTrustedCAPath"));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

absl::Status Server::StartUi(const http::ProgressiveHttpHandler& graphql_handler) {
  if (config_.ui.booster_dir.empty()) return absl::OkStatus();
  SH_ASSIGN_OR_RETURN(ui_site_, http::StaticSite::Open(config_.ui.booster_dir));
  ui_server_ = std::make_unique<http::HttpServer>(&metrics_, HttpOptions());
  // What booster-ui's own web server forwards to the OAP: /graphql, and /api/* without its
  // prefix (a development build's paths).
  ui_server_->RouteProgressive("/graphql", graphql_handler);
  ui_server_->RouteProgressive("/api/graphql", graphql_handler);
  const http::StaticSite* site = ui_site_.get();
  ui_server_->SetFallback(
      [site](const http::HttpRequest& request) { return site->Serve(request); });
  SH_ASSIGN_OR_RETURN(ui_port_, ui_server_->Start(config_.ui.host, config_.ui.port));
  GetLogger("server")->info("booster-ui from {} on {}:{}", ui_site_->root(), config_.ui.host,
                            ui_port_);
  return absl::OkStatus();
}

absl::Status Server::StorageHealth() {
  if (db_) return db_->Health();
  if (!pg_pool_) return absl::UnavailableError("storage is not open");
  absl::Status reached = pg_pool_->Exec("SELECT 1").status();
  if (!reached.ok()) {
    return absl::Status(reached.code(),
                        absl::StrCat("PostgreSQL unreachable: ", reached.message()));
  }
  return absl::OkStatus();
}

absl::Status Server::OpenStorage() {
  auto log = GetLogger("server");
  if (config_.storage.selector == "postgresql") {
    const config::PostgresqlConfig& c = config_.storage.postgresql;
    storage::pg::PoolOptions options;
    std::vector<std::pair<std::string, std::string>> keywords = {
        {"host", c.host},         {"port", absl::StrCat(c.port)},
        {"dbname", c.database},   {"user", c.user},
        {"password", c.password}, {"connect_timeout", absl::StrCat(c.connect_timeout_seconds)}};
    options.conninfo = storage::pg::MakeConnInfo(keywords);
    options.conninfo.append(" application_name=stackhouse");
    options.size = c.pool_size;
    options.statement_timeout_ms = c.statement_timeout_ms;
    const std::string target =
        absl::StrCat("storage.postgresql: cannot connect to database ", c.database, " on ", c.host,
                     ":", c.port, " as ", c.user, ": ");
    storage::pg::RetryOptions retry;
    retry.total_ms = int64_t{c.startup_retry_seconds} * 1000;
    absl::Status connected = storage::pg::RetryWhileUnavailable(
        retry, SystemClock::Instance(), [](int64_t ms) { absl::SleepFor(absl::Milliseconds(ms)); },
        [&]() {
          auto pool = storage::pg::Pool::Create(options);
          if (!pool.ok()) return pool.status();
          pg_pool_ = std::move(*pool);
          return absl::OkStatus();
        },
        [&](int attempt, const absl::Status& failure, int64_t delay_ms) {
          log->warn("{}{} (attempt {}; trying again in {:.1f} s)", target, failure.message(),
                    attempt, delay_ms / 1000.0);
        });
    if (!connected.ok()) {
      return absl::Status(connected.code(), absl::StrCat(target, connected.message()));
    }
    auto found = storage::pg::MigrateSchema(*pg_pool_);
    if (!found.ok()) {
      return absl::Status(found.status().code(),
                          absl::StrCat("storage.postgresql: ", found.status().message()));
    }
    if (*found < storage::pg::LatestSchemaVersion()) {
      log->info("PostgreSQL schema migrated from version {} to {}", *found,
                storage::pg::LatestSchemaVersion());
    }
    storage::pg::StoreOptions store_options;
    store_options.record_ttl_ms = config_.storage.record_ttl_days * kMillisPerDay;
    store_options.metrics_ttl_ms = config_.storage.metrics_ttl_days * kMillisPerDay;
    store_options.max_future_skew_ms = config_.storage.max_future_skew_seconds * 1000;
    storage::pg::Pool* p = pg_pool_.get();
    metadata_store_ = std::make_unique<storage::pg::PgMetadataStore>(p, clock_, store_options);
    auto profiles = std::make_unique<storage::pg::PgProfileStore>(p, clock_, store_options);
    snapshot_store_ = profiles.get();
    profile_store_ = std::move(profiles);
    segment_store_ = std::make_unique<storage::pg::PgSegmentStore>(p, clock_, store_options);
    span_event_store_ = std::make_unique<storage::pg::PgSpanEventStore>(p, clock_, store_options);
    ebpf_store_ = std::make_unique<storage::pg::PgEbpfStore>(p, clock_, store_options);
    ui_template_store_ = std::make_unique<storage::pg::PgUiTemplateStore>(p);
    continuous_policy_store_ = std::make_unique<storage::pg::PgContinuousPolicyStore>(p);
    metric_store_ = std::make_unique<storage::pg::PgMetricStore>(p, clock_, store_options,
                                                                 absl::LocalTimeZone());
    // Partitions for today's rows exist before the first agent reports; later passes run on
    // the keeper's thread.
    storage::pg::PartitionKeeperOptions keeper_options;
    keeper_options.ttl = store_options;
    partition_keeper_ = std::make_unique<storage::pg::PartitionKeeper>(p, clock_, keeper_options);
    storage::pg::PartitionReport kept = partition_keeper_->RunOnce();
    if (!kept.failures.empty()) {
      log->warn(
          "PostgreSQL partitions: {} (rows go to the default partitions meanwhile; "
          "tried again in {} s)",
          absl::StrJoin(kept.failures, "; "), keeper_options.interval_ms / 1000);
    }
    log->info(
        "PostgreSQL partitions: {} created, {} expired dropped, {} rows moved, {} expired "
        "rows deleted",
        kept.created, kept.dropped, kept.moved, kept.deleted);
    partition_keeper_->Start();
    log->info("storage: PostgreSQL database {} on {}:{} ({} connections at most)", c.database,
              c.host, c.port, c.pool_size);
    // Listening starts before the services load their caches, so that no change committed
    // after the load goes unnoticed.
    cache_refresher_ =
        std::make_unique<service::CacheRefresher>(clock_, int64_t{c.cache_refresh_seconds} * 1000);
    if (c.listen_notify) {
      storage::pg::ChangeFeedOptions feed_options;
      // Its own name in pg_stat_activity; TCP keep-alives notice a silently dead server.
      feed_options.conninfo = storage::pg::MakeConnInfo(keywords);
      feed_options.conninfo.append(
          " application_name=stackhouse-listen keepalives=1 keepalives_idle=30"
          " keepalives_interval=10 keepalives_count=3");
      feed_options.connect_timeout_ms = int64_t{c.connect_timeout_seconds} * 1000;
      change_feed_ = std::make_unique<storage::pg::PgChangeFeed>(p, feed_options);
      change_feed_->Subscribe([refresher = cache_refresher_.get()](storage::ChangeKind kind) {
        refresher->OnChange(kind);
      });
      absl::Status listening = change_feed_->Start();
      if (!listening.ok()) {
        return absl::Status(listening.code(),
                            absl::StrCat("storage.postgresql: cannot LISTEN for other nodes' "
                                         "changes (storage.postgresql.listenNotify): ",
                                         listening.message()));
      }
    }
    log->info("storage: caches re-read every {} s{}", c.cache_refresh_seconds,
              c.listen_notify ? " and on other nodes' changes (LISTEN sh_changes)"
                              : " (listenNotify is off)");
    return absl::OkStatus();
  }
  storage::DatabaseOptions db_options;
  db_options.data_dir = config_.storage.data_dir;
  db_options.sync_writes = config_.storage.sync_writes;
  db_options.block_cache_bytes = config_.storage.block_cache_bytes;
  db_options.record_ttl_ms = config_.storage.record_ttl_days * kMillisPerDay;
  db_options.metrics_ttl_ms = config_.storage.metrics_ttl_days * kMillisPerDay;
  db_options.max_future_skew_ms = config_.storage.max_future_skew_seconds * 1000;
  db_options.min_free_bytes = config_.storage.min_free_space_mb << 20;
  db_options.write_errors =
      metrics_.GetCounter("stackhouse_storage_write_errors_total",
                          "Writes to the storage that failed (disk full, I/O)");
  auto db = storage::Database::Open(db_options, clock_);
  if (!db.ok()) return db.status();
  db_ = std::move(*db);
  metadata_store_ = std::make_unique<storage::RocksMetadataStore>(db_.get(), clock_);
  auto profiles = std::make_unique<storage::RocksProfileStore>(db_.get(), clock_);
  snapshot_store_ = profiles.get();
  profile_store_ = std::move(profiles);
  segment_store_ = std::make_unique<storage::RocksSegmentStore>(db_.get());
  span_event_store_ = std::make_unique<storage::RocksSpanEventStore>(db_.get(), clock_);
  ebpf_store_ = std::make_unique<storage::RocksEbpfStore>(db_.get(), clock_);
  ui_template_store_ = std::make_unique<storage::RocksUiTemplateStore>(db_.get());
  continuous_policy_store_ = std::make_unique<storage::RocksContinuousPolicyStore>(db_.get());
  auto metric_store = storage::RocksMetricStore::Open(db_.get(), absl::LocalTimeZone());
  if (!metric_store.ok()) return metric_store.status();
  metric_store_ = std::move(*metric_store);
  return absl::OkStatus();
}

absl::Status Server::StartInternal() {
  auto log = GetLogger("server");
  RaiseFileLimit(2 * static_cast<int64_t>(config_.network.rest_max_connections) + 1024);
  SH_RETURN_IF_ERROR(OpenStorage());
  const model::NameLimits name_limits{config_.receiver.service_name_max_length,
                                      config_.receiver.instance_name_max_length,
                                      config_.receiver.endpoint_name_max_length};
  registry_ = std::make_unique<service::Registry>(metadata_store_.get(), name_limits);
  segment_ingest_ = std::make_unique<service::SegmentIngest>(segment_store_.get(), registry_.get());
  trace_profile_ingest_ = std::make_unique<service::TraceProfileIngest>(snapshot_store_);
  span_event_ingest_ =
      std::make_unique<service::SpanEventIngest>(span_event_store_.get(), &metrics_);
  storage::ChangeFeed* feed = change_feed_.get();  // null: one node, or listenNotify off
  auto profile_tasks = service::ProfileTaskService::Create(profile_store_.get(), clock_, feed);
  if (!profile_tasks.ok()) return profile_tasks.status();
  profile_tasks_ = std::move(*profile_tasks);
  ebpf_analyzer_ = std::make_shared<const profile::EbpfAnalyzer>(
      ebpf_store_.get(), config_.query.ebpf_analysis_max_samples);
  rollup_thread_ = std::thread([this] { RunRollups(); });
  auto default_templates = service::DefaultUiTemplates();
  if (!default_templates.ok()) return default_templates.status();
  ui_templates_ = std::make_unique<service::UiTemplateService>(ui_template_store_.get(), clock_,
                                                               std::move(*default_templates));
  auto ebpf = service::EbpfService::Create(ebpf_store_.get(), metadata_store_.get(), clock_,
                                           name_limits, feed);
  if (!ebpf.ok()) return ebpf.status();
  ebpf_ = std::move(*ebpf);
  auto continuous =
      service::ContinuousService::Create(continuous_policy_store_.get(), ebpf_.get(),
                                         metadata_store_.get(), clock_, name_limits, feed);
  if (!continuous.ok()) return continuous.status();
  continuous_ = std::move(*continuous);
  if (cache_refresher_) {
    service::ProfileTaskService* tasks = profile_tasks_.get();
    service::EbpfService* ebpf_service = ebpf_.get();
    service::ContinuousService* policies = continuous_.get();
    cache_refresher_->Add(storage::ChangeKind::kProfileTasks, [tasks] { return tasks->Reload(); });
    cache_refresher_->Add(storage::ChangeKind::kEbpfTasks,
                          [ebpf_service] { return ebpf_service->ReloadTasks(); });
    cache_refresher_->Add(storage::ChangeKind::kEbpfProcesses,
                          [ebpf_service] { return ebpf_service->ReloadProcesses(); });
    cache_refresher_->Add(storage::ChangeKind::kContinuousPolicies,
                          [policies] { return policies->Reload(); });
    cache_refresher_->Start(absl::Seconds(1));
  }
  meters_ = std::make_unique<service::MeterService>(metric_store_.get(), ebpf_.get(),
                                                    metadata_store_.get(), clock_);

  auth_ = std::make_unique<receiver::AuthGuard>(config_.receiver.authentication);
  receiver::AgentTimeGuard::Window window;
  window.max_future_ms = config_.storage.max_future_skew_seconds * 1000;
  window.max_past_ms = config_.storage.max_past_skew_seconds > 0
                           ? config_.storage.max_past_skew_seconds * 1000
                           : config_.storage.record_ttl_days * kMillisPerDay;
  agent_times_ = std::make_unique<receiver::AgentTimeGuard>(clock_, window, &metrics_);
  receiver::StreamRuntime::Options stream_options;
  stream_options.workers = config_.network.grpc_stream_threads;
  stream_options.max_streams = config_.network.grpc_max_concurrent_streams;
  stream_options.idle_timeout_ms = int64_t{config_.network.grpc_stream_idle_timeout_seconds} * 1000;
  streams_ = std::make_unique<receiver::StreamRuntime>(stream_options, clock_, &metrics_);
  management_ = std::make_unique<receiver::ManagementHandler>(auth_.get(), registry_.get());
  services_.push_back(std::make_unique<receiver::ManagementGrpcService>(management_.get()));
  services_.push_back(std::make_unique<receiver::ManagementCompatGrpcService>(management_.get()));
  profile_ = std::make_unique<receiver::ProfileHandler>(
      auth_.get(), agent_times_.get(), profile_tasks_.get(), trace_profile_ingest_.get(), clock_);
  services_.push_back(
      std::make_unique<receiver::ProfileGrpcService>(profile_.get(), streams_.get()));
  services_.push_back(
      std::make_unique<receiver::ProfileCompatGrpcService>(profile_.get(), streams_.get()));
  segments_ = std::make_unique<receiver::TraceSegmentHandler>(auth_.get(), agent_times_.get(),
                                                              segment_ingest_.get());
  services_.push_back(
      std::make_unique<receiver::TraceSegmentGrpcService>(segments_.get(), streams_.get()));
  services_.push_back(
      std::make_unique<receiver::TraceSegmentCompatGrpcService>(segments_.get(), streams_.get()));
  services_.push_back(std::make_unique<receiver::EbpfProcessGrpcService>(auth_.get(), ebpf_.get()));
  services_.push_back(std::make_unique<receiver::EbpfProfilingGrpcService>(
      auth_.get(), agent_times_.get(), ebpf_.get(), streams_.get()));
  services_.push_back(
      std::make_unique<receiver::ContinuousProfilingGrpcService>(auth_.get(), continuous_.get()));
  meter_handler_ = std::make_unique<receiver::MeterHandler>(auth_.get(), agent_times_.get(),
                                                            meters_.get(), &metrics_);
  services_.push_back(
      std::make_unique<receiver::MeterGrpcService>(meter_handler_.get(), streams_.get()));
  services_.push_back(
      std::make_unique<receiver::MeterCompatGrpcService>(meter_handler_.get(), streams_.get()));
  log_handler_ = std::make_unique<receiver::LogHandler>(auth_.get(), agent_times_.get(),
                                                        meters_.get(), clock_, &metrics_);
  services_.push_back(
      std::make_unique<receiver::LogGrpcService>(log_handler_.get(), streams_.get()));
  span_event_handler_ =
      std::make_unique<receiver::SpanEventHandler>(auth_.get(), span_event_ingest_.get());
  services_.push_back(
      std::make_unique<receiver::SpanEventGrpcService>(span_event_handler_.get(), streams_.get()));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  std::string grpc_address =
      absl::StrCat(config_.network.grpc_host, ":", config_.network.grpc_port);
  SH_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, GrpcCredentials());
  builder.AddListeningPort(grpc_address, credentials, &grpc_port_);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config_.network.grpc_max_message_size));
  if (config_.network.grpc_thread_pool_size > 0) {
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                                config_.network.grpc_thread_pool_size);
  }
  // The unary calls stay synchronous, on at most gRPCMaxUnaryThreads threads; the streams
  // hold none (StreamRuntime).
  grpc::ResourceQuota unary_quota("stackhouse-unary");
  unary_quota.SetMaxThreads(config_.network.grpc_max_unary_threads);
  builder.SetResourceQuota(unary_quota);
  for (auto& service : services_) builder.RegisterService(service.get());
  drain_ = std::make_unique<receiver::DrainGrpcService>(auth_.get(), &metrics_, streams_.get());
  builder.RegisterCallbackGenericService(drain_.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<GrpcMetricsInterceptorFactory>(&metrics_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", grpc_address,
                                               " (address in use or not available)"));
  }

  query::QueryDeps deps;
  deps.metadata = metadata_store_.get();
  deps.profile_tasks = profile_tasks_.get();
  deps.snapshots = snapshot_store_;
  deps.segments = segment_store_.get();
  deps.span_events = span_event_store_.get();
  deps.ebpf = ebpf_.get();
  deps.ebpf_store = ebpf_store_.get();
  deps.ebpf_analyzer = ebpf_analyzer_;
  deps.continuous = continuous_.get();
  deps.ui_templates = ui_templates_.get();
  deps.metric_source = metric_store_.get();
  deps.metric_store = metric_store_.get();
  deps.clock = clock_;
  deps.config = &config_;
  auto graphql = query::BuildQueryEndpoint(deps);
  if (!graphql.ok()) return graphql.status();
  graphql_ = std::move(*graphql);

  if (config_.network.rest_ssl_enabled) {
    // Readable PEM files, or an error naming the key; the HTTP server then checks that they
    // match.
    SH_RETURN_IF_ERROR(
        ReadPemFile(config_.network.rest_ssl_key_path, "core.restSslKeyPath").status());
    SH_RETURN_IF_ERROR(
        ReadPemFile(config_.network.rest_ssl_cert_chain_path, "core.restSslCertChainPath")
            .status());
  }
  http_server_ = std::make_unique<http::HttpServer>(&metrics_, HttpOptions());
  const std::string rest_token = config_.network.rest_authentication;
  // A large response is streamed (chunked) while it is serialized; every error found before
  // it begins is answered as usual.
  const http::ProgressiveHttpHandler graphql_handler = [this, rest_token](
                                                           const http::HttpRequest& request,
                                                           http::ResponseStarter& starter) {
    graphql::HttpRequest g;
    g.method = request.method;
    std::string content_type = request.header("Content-Type");
    std::string accept = request.header("Accept");
    g.content_type = content_type;
    g.accept = accept;
    g.body = request.body;
    for (const auto& [key, value] : request.params) g.query_params.emplace(key, value);
    graphql::Engine::Options options;
    const bool authorized = rest_token.empty() || CarriesToken(request, rest_token);
    options.allow_mutations = authorized;
    ChunkedGraphqlStream stream(&starter);
    graphql::HttpResponse r = graphql_->Handle(g, options, &stream);
    if (r.streamed == graphql::Engine::Streamed::kCut) {
      GetLogger("server")->warn("a streamed GraphQL response was cut: {}", r.cut_reason);
      starter.Abort();
    }
    if (r.streamed != graphql::Engine::Streamed::kNo) return http::HttpResponse();
    if (!authorized && r.status == 405 && request.method == "POST") {
      return Unauthorized(r.content_type, "mutations");
    }
    return http::HttpResponse{r.status, r.content_type, std::move(r.body), std::move(r.headers)};
  };
  http_server_->RouteProgressive("/graphql", graphql_handler);
  // The web page (web/, compiled in): "/" and "/web/<file>".
  for (const EmbeddedFile& file : EmbeddedFiles()) {
    absl::string_view name = file.name;
    std::string content_type;
    if (absl::EndsWith(name, ".html")) content_type = "text/html; charset=utf-8";
    if (absl::EndsWith(name, ".js")) content_type = "text/javascript; charset=utf-8";
    if (absl::EndsWith(name, ".css")) content_type = "text/css; charset=utf-8";
    if (content_type.empty()) continue;
    http::HttpHandler serve = [file, content_type](const http::HttpRequest& request) {
      if (request.method != "GET" && request.method != "HEAD") return http::MethodNotAllowed();
      return http::HttpResponse{200, content_type, file.content, {}};
    };
    http_server_->Route(absl::StrCat("/web/", name), serve);
    if (name == "index.html") http_server_->Route("/", serve);
  }
  // Profile exports (export/export_handler.h): /export/trace and /export/ebpf.
  auto exports = std::make_shared<const exporter::ExportHandler>(profile::ProfileSources{
      snapshot_store_, ebpf_store_.get(), config_.query.max_analyze_snapshots, ebpf_analyzer_});
  http_server_->RouteStreaming(
      "/export/trace", [exports, rest_token](const http::HttpRequest& request) {
        if (!rest_token.empty() && !CarriesToken(request, rest_token)) {
          return http::StreamingHttpResponse{Unauthorized("text/plain", "exports"), nullptr};
        }
        return exports->Trace(request);
      });
  http_server_->RouteStreaming(
      "/export/ebpf", [exports, rest_token](const http::HttpRequest& request) {
        if (!rest_token.empty() && !CarriesToken(request, rest_token)) {
          return http::StreamingHttpResponse{Unauthorized("text/plain", "exports"), nullptr};
        }
        return exports->Ebpf(request);
      });
  // The probes have a thread of their own: they answer while every worker runs a long query.
  http_server_->RouteProbe("/healthz", [this](const http::HttpRequest& request) {
    if (request.method != "GET" && request.method != "HEAD") return http::MethodNotAllowed();
    if (!ready_.load())
      return http::HttpResponse{503, "text/plain; charset=utf-8", "starting\n", {}};
    // Unhealthy while writes fail (a full disk): acknowledged data is safe, new data is
    // refused. /livez stays 200, so that an orchestrator does not restart a server that only
    // needs space.
    if (absl::Status storage = StorageHealth(); !storage.ok()) {
      return http::HttpResponse{
          503, "text/plain; charset=utf-8", absl::StrCat(storage.message(), "\n"), {}};
    }
    return http::HttpResponse{200, "text/plain; charset=utf-8", "ok\n", {}};
  });
  http_server_->RouteProbe("/livez", [](const http::HttpRequest& request) {
    if (request.method != "GET" && request.method != "HEAD") return http::MethodNotAllowed();
    return http::HttpResponse{200, "text/plain; charset=utf-8", "ok\n", {}};
  });
  http_server_->Route("/metrics", [this](const http::HttpRequest& request) {
    if (request.method != "GET" && request.method != "HEAD") return http::MethodNotAllowed();
    return http::HttpResponse{
        200, "text/plain; version=0.0.4; charset=utf-8", metrics_.RenderPrometheus(), {}};
  });
  RegisterGauges();
  auto http_port = http_server_->Start(config_.network.http_host, config_.network.http_port);
  if (!http_port.ok()) return http_port.status();
  http_port_ = *http_port;
  SH_RETURN_IF_ERROR(StartUi(graphql_handler));

  grpc_server_->GetHealthCheckService()->SetServingStatus(true);
  ready_.store(true);
  log->info("Stackhouse {} ready: gRPC on {}:{}, HTTP on {}:{}, data in {}", STACKHOUSE_VERSION,
            config_.network.grpc_host, grpc_port_, config_.network.http_host, http_port_,
            config_.storage.data_dir);
  if (auth_->enabled()) log->info("agent authentication is on");
  const ReleasedPages released = ReleaseStartupPages();
  log->info("released {} KiB of start-up pages from {} library mappings", released.bytes >> 10,
            released.mappings);
  return absl::OkStatus();
}

void Server::RunRollups() {
  auto log = GetLogger("storage");
  absl::MutexLock lock(&rollup_mu_);
  while (!rollup_stop_) {
    rollup_mu_.Unlock();
    absl::StatusOr<storage::EbpfRollupStats> stats = ebpf_store_->RollUp(kRollupMaxMinutes);
    if (stats.ok()) {
      rollup_pending_.store(stats->pending);
      if (stats->rolled_up + stats->left_raw > 0) {
        log->debug("eBPF roll-ups: {} minutes rolled up, {} left raw, {} pending", stats->rolled_up,
                   stats->left_raw, stats->pending);
      }
    } else {
      log->error("eBPF roll-ups failed (retried in {} s): {}", kRollupIntervalMs / 1000,
                 stats.status().message());
    }
    rollup_mu_.Lock();
    // A full run may have left more: go on at once (after a look at the stop flag).
    if (stats.ok() && stats->rolled_up + stats->left_raw + stats->retried >= kRollupMaxMinutes) {
      continue;
    }
    rollup_mu_.AwaitWithTimeout(absl::Condition(&rollup_stop_),
                                absl::Milliseconds(kRollupIntervalMs));
  }
}

void Server::StopRollups() {
  if (!rollup_thread_.joinable()) return;
  {
    absl::MutexLock lock(&rollup_mu_);
    rollup_stop_ = true;
  }
  rollup_thread_.join();
}

void Server::RegisterGauges() {
  metrics_.AddGauge("stackhouse_build_info", "Build information", [] {
    return std::vector<MetricsRegistry::GaugeSample>{{{{"version", STACKHOUSE_VERSION}}, 1}};
  });
  metrics_.AddGauge("stackhouse_uptime_seconds", "Seconds since the server started", [this] {
    double uptime = static_cast<double>(clock_->NowMillis() - start_ms_) / 1000.0;
    return std::vector<MetricsRegistry::GaugeSample>{{{}, uptime}};
  });
  metrics_.AddGauge("stackhouse_ready", "1 once storage is open and both servers listen", [this] {
    return std::vector<MetricsRegistry::GaugeSample>{{{}, ready_.load() ? 1.0 : 0.0}};
  });
  metrics_.AddGauge("stackhouse_ebpf_rollup_pending_minutes",
                    "eBPF (schedule, minute)s with samples not rolled up yet, after the last run "
                    "of the roll-up job",
                    [this] {
                      return std::vector<MetricsRegistry::GaugeSample>{
                          {{}, static_cast<double>(rollup_pending_.load())}};
                    });
  storage::Database* db = db_.get();
  if (db == nullptr) return;  // PostgreSQL: its own server's statistics
  metrics_.AddGauge("stackhouse_storage_free_bytes",
                    "Bytes free on the data directory's file system", [db] {
                      return std::vector<MetricsRegistry::GaugeSample>{
                          {{}, static_cast<double>(db->FreeBytes())}};
                    });
  auto family_gauge = [db](uint64_t storage::FamilyStats::*field) {
    return [db, field] {
      std::vector<MetricsRegistry::GaugeSample> samples;
      for (const storage::FamilyStats& stats : db->Stats()) {
        samples.push_back({{{"family", storage::GetFamilyInfo(stats.family).name}},
                           static_cast<double>(stats.*field)});
      }
      return samples;
    };
  };
  metrics_.AddGauge("stackhouse_storage_estimated_keys",
                    "RocksDB's estimate of the number of keys per column family",
                    family_gauge(&storage::FamilyStats::estimated_keys));
  metrics_.AddGauge("stackhouse_storage_live_data_bytes",
                    "RocksDB's estimate of live data size per column family",
                    family_gauge(&storage::FamilyStats::live_data_bytes));
  metrics_.AddGauge("stackhouse_storage_sst_bytes", "Size of SST files per column family",
                    family_gauge(&storage::FamilyStats::sst_file_bytes));
  metrics_.AddGauge("stackhouse_storage_memtable_bytes", "Size of memtables per column family",
                    family_gauge(&storage::FamilyStats::memtable_bytes));
}

void Server::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  auto log = GetLogger("server");
  ready_.store(false);
  if (grpc_server_) {
    grpc_server_->GetHealthCheckService()->SetServingStatus(false);
    auto deadline = std::chrono::system_clock::now() +
                    std::chrono::seconds(config_.network.shutdown_grace_seconds);
    grpc_server_->Shutdown(deadline);
    grpc_server_->Wait();
  }
  // Every stream is done once the gRPC server is: its workers have nothing left to run.
  if (streams_) streams_->Stop();
  if (ui_server_) ui_server_->Stop();
  if (http_server_) http_server_->Stop();
  StopRollups();
  // Before the services whose caches they reload, and the pool they use.
  if (change_feed_) change_feed_->Stop();
  if (partition_keeper_) partition_keeper_->Stop();
  cache_refresher_.reset();
  change_feed_.reset();
  if (db_) {
    absl::Status flushed = db_->Flush();
    if (!flushed.ok()) log->error("flushing storage at shutdown: {}", flushed.message());
  }
  grpc_server_.reset();
  ui_server_.reset();
  ui_site_.reset();
  http_server_.reset();
  graphql_.reset();
  services_.clear();
  drain_.reset();
  streams_.reset();
  segments_.reset();
  meter_handler_.reset();
  log_handler_.reset();
  span_event_handler_.reset();
  profile_.reset();
  management_.reset();
  profile_tasks_.reset();
  meters_.reset();
  metric_store_.reset();
  continuous_.reset();
  continuous_policy_store_.reset();
  ebpf_.reset();
  ebpf_analyzer_.reset();
  ebpf_store_.reset();
  span_event_store_.reset();
  segment_store_.reset();
  profile_store_.reset();
  metadata_store_.reset();
  snapshot_store_ = nullptr;
  const bool was_open = db_ != nullptr || pg_pool_ != nullptr;
  db_.reset();
  partition_keeper_.reset();
  pg_pool_.reset();
  if (was_open) log->info("stopped");
}

}  // namespace stackhouse::server
