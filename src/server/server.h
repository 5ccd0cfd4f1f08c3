#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "config/config.h"

namespace grpc {
class Server;
class ServerCredentials;
class Service;
}  // namespace grpc

namespace stackhouse::storage {
class Database;
class MetadataStore;
class ProfileTaskStore;
class SnapshotStore;
class SegmentStore;
class SpanEventStore;
class EbpfStore;
class UiTemplateStore;
class ContinuousPolicyStore;
class MetricStore;
}  // namespace stackhouse::storage

namespace stackhouse::storage::pg {
class Pool;
class PgChangeFeed;
class PartitionKeeper;
}  // namespace stackhouse::storage::pg

namespace stackhouse::service {
class CacheRefresher;
class ProfileTaskService;
class EbpfService;
class UiTemplateService;
class ContinuousService;
class MeterService;
class Registry;
class SegmentIngest;
class SpanEventIngest;
class TraceProfileIngest;
}  // namespace stackhouse::service

namespace stackhouse::http {
class HttpServer;
class StaticSite;
struct HttpRequest;
struct HttpServerOptions;
struct HttpResponse;
class ResponseStarter;
using ProgressiveHttpHandler =
    std::function<HttpResponse(const HttpRequest&, ResponseStarter& starter)>;
}  // namespace stackhouse::http

namespace stackhouse::profile {
class EbpfAnalyzer;
}  // namespace stackhouse::profile

namespace stackhouse::graphql {
class HttpEndpoint;
}

namespace stackhouse::receiver {
class AgentTimeGuard;
class AuthGuard;
class DrainGrpcService;
class MeterHandler;
class LogHandler;
class SpanEventHandler;
class StreamRuntime;
class ManagementHandler;
class ProfileHandler;
class TraceSegmentHandler;
}  // namespace stackhouse::receiver

namespace stackhouse::server {

// The composition root: config → storage → stores → receivers → gRPC and HTTP servers.
// Start once, Shutdown once, from the same thread.
class Server {
 public:
  // Opens storage and starts both servers. Errors name the cause (data directory in use,
  // port taken, ...); on error nothing keeps running.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const config::Config& config,
                                                       const Clock* clock);
  ~Server();

  // Stops accepting, gives in-flight calls up to the configured grace period, flushes and
  // closes storage. Idempotent.
  void Shutdown();

  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }
  // The port booster-ui is served on, or 0 when ui.boosterDir is unset.
  int ui_port() const { return ui_port_; }

 private:
  Server(const config::Config& config, const Clock* clock);
  absl::Status StartInternal();
  // Opens storage.selector's backend and makes every store over it (the PostgreSQL schema is
  // migrated first). Errors name the backend and the problem.
  absl::Status OpenStorage();
  // OK while the storage takes writes: RocksDB's write health, PostgreSQL's answer to a query.
  absl::Status StorageHealth();
  // Serves booster-ui (ui.boosterDir) on its own port, if configured.
  absl::Status StartUi(const http::ProgressiveHttpHandler& graphql_handler);
  void RegisterGauges();
  // The eBPF roll-up job: every kRollupIntervalMs, EbpfStore::RollUp of the closed minutes,
  // until StopRollups.
  void RunRollups();
  void StopRollups();
  // The gRPC port's credentials (TLS with core.gRPCSsl*), or an error naming the key.
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> GrpcCredentials() const;
  // The HTTP ports' certificate files when core.restSslEnabled.
  // The HTTP ports' options from the configuration.
  http::HttpServerOptions HttpOptions() const;

  // Constant after construction.
  const config::Config config_;
  const Clock* const clock_;
  const int64_t start_ms_;

  MetricsRegistry metrics_;
  std::atomic<bool> ready_{false};
  // One of the two is open: RocksDB (storage.selector: rocksdb) or a PostgreSQL pool.
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::pg::Pool> pg_pool_;
  // PostgreSQL only: the other nodes' changes (null with listenNotify: false) and the reloads
  // of the services' caches they and cacheRefreshSeconds trigger.
  std::unique_ptr<storage::pg::PgChangeFeed> change_feed_;
  // PostgreSQL only: creates and drops the day partitions (retention).
  std::unique_ptr<storage::pg::PartitionKeeper> partition_keeper_;
  std::unique_ptr<service::CacheRefresher> cache_refresher_;
  std::unique_ptr<storage::MetadataStore> metadata_store_;
  // The trace-profiling store: one object, both interfaces; snapshot_store_ is the same object.
  std::unique_ptr<storage::ProfileTaskStore> profile_store_;
  storage::SnapshotStore* snapshot_store_ = nullptr;
  std::unique_ptr<storage::SegmentStore> segment_store_;
  std::unique_ptr<storage::SpanEventStore> span_event_store_;
  std::unique_ptr<service::Registry> registry_;
  std::unique_ptr<service::SegmentIngest> segment_ingest_;
  std::unique_ptr<service::TraceProfileIngest> trace_profile_ingest_;
  std::unique_ptr<service::SpanEventIngest> span_event_ingest_;
  std::unique_ptr<service::ProfileTaskService> profile_tasks_;
  std::unique_ptr<storage::EbpfStore> ebpf_store_;
  std::shared_ptr<const profile::EbpfAnalyzer> ebpf_analyzer_;
  // The roll-up job's thread; it waits on rollup_mu_ for rollup_stop_.
  std::thread rollup_thread_;
  absl::Mutex rollup_mu_;
  bool rollup_stop_ ABSL_GUARDED_BY(rollup_mu_) = false;
  std::atomic<int64_t> rollup_pending_{0};  // pending minutes after the last run
  std::unique_ptr<storage::UiTemplateStore> ui_template_store_;
  std::unique_ptr<service::UiTemplateService> ui_templates_;
  std::unique_ptr<service::EbpfService> ebpf_;
  std::unique_ptr<storage::ContinuousPolicyStore> continuous_policy_store_;
  std::unique_ptr<service::ContinuousService> continuous_;
  std::unique_ptr<storage::MetricStore> metric_store_;
  std::unique_ptr<service::MeterService> meters_;
  std::unique_ptr<receiver::AuthGuard> auth_;
  std::unique_ptr<receiver::AgentTimeGuard> agent_times_;
  std::unique_ptr<receiver::StreamRuntime> streams_;
  std::unique_ptr<receiver::ManagementHandler> management_;
  std::unique_ptr<receiver::ProfileHandler> profile_;
  std::unique_ptr<receiver::TraceSegmentHandler> segments_;
  std::unique_ptr<receiver::MeterHandler> meter_handler_;
  std::unique_ptr<receiver::LogHandler> log_handler_;
  std::unique_ptr<receiver::SpanEventHandler> span_event_handler_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<receiver::DrainGrpcService> drain_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<graphql::HttpEndpoint> graphql_;
  std::unique_ptr<http::HttpServer> http_server_;
  std::unique_ptr<http::StaticSite> ui_site_;
  std::unique_ptr<http::HttpServer> ui_server_;
  int grpc_port_ = 0;
  int http_port_ = 0;
  int ui_port_ = 0;
  bool shut_down_ = false;
};

}  // namespace stackhouse::server
