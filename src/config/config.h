#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace stackhouse::config {

// Where agents and operators reach the server.
struct NetworkConfig {
  std::string grpc_host = "0.0.0.0";
  int grpc_port = 11800;  // 0 = any free port
  std::string http_host = "0.0.0.0";
  int http_port = 12800;                     // 0 = any free port
  int64_t grpc_max_message_size = 52428800;  // bytes (OAP: 50 MiB)
  int grpc_thread_pool_size = 0;             // 0 = gRPC's default (number of cores)
  // The agents' client streams (callback API, no thread per stream): worker threads that
  // handle their messages (0 = none: gRPC's callback threads do), streams open at once at most
  // (further ones get RESOURCE_EXHAUSTED; 0 = no limit), and seconds a stream may wait for its
  // next message before it is ended with DEADLINE_EXCEEDED (0 = never).
  int grpc_stream_threads = 0;
  int grpc_max_concurrent_streams = 10000;
  int grpc_stream_idle_timeout_seconds = 600;
  // Threads of the synchronous part of the gRPC server (the unary calls, pollers included) at
  // most; a unary call that finds them all busy gets RESOURCE_EXHAUSTED.
  int grpc_max_unary_threads = 16;
  int shutdown_grace_seconds = 10;  // in-flight calls get this long on SIGTERM
  // TLS of the gRPC port (OAP's gRPCSsl*): PEM files. A trusted CA makes it mutual TLS
  // (agents must present a certificate that CA signed).
  bool grpc_ssl_enabled = false;
  std::string grpc_ssl_key_path;
  std::string grpc_ssl_cert_chain_path;
  std::string grpc_ssl_trusted_ca_path;
  // TLS of the HTTP ports (12800 and booster-ui's): PEM files.
  bool rest_ssl_enabled = false;
  std::string rest_ssl_key_path;
  std::string rest_ssl_cert_chain_path;
  // Token that GraphQL mutations and exports need over HTTP (`Authorization: Bearer <token>`,
  // or Basic with the token as password); empty = no check.
  std::string rest_authentication;
  // The HTTP ports' limits (OAP's restMaxThreads and restIdleTimeOut, and two of ours).
  int rest_max_threads = 8;                 // threads running HTTP handlers
  int rest_max_connections = 10000;         // open HTTP connections; more are closed at once
  int64_t rest_idle_timeout_ms = 30000;     // idle keep-alive connections are closed after this
  int64_t rest_request_timeout_ms = 30000;  // a request's whole head and body must arrive within
};

// Agent-facing behaviour.
struct ReceiverConfig {
  std::string authentication;  // shared token; empty = no check
  int service_name_max_length = 70;
  int instance_name_max_length = 70;
  int endpoint_name_max_length = 150;
};

// The embedded RocksDB.
// The PostgreSQL database of storage.selector: postgresql (docs/scale-out.md).
struct PostgresqlConfig {
  std::string host = "localhost";  // a host name, an address or a unix socket directory
  int port = 5432;
  std::string database = "stackhouse";
  std::string user = "stackhouse";
  std::string password;  // empty: none (trust, peer, or ~/.pgpass)
  int pool_size = 16;    // connections per node at most
  // A statement running longer is cancelled (DEADLINE_EXCEEDED to its caller); 0 = no limit.
  int64_t statement_timeout_ms = 30'000;
  int connect_timeout_seconds = 10;  // to open one connection
  // At start, an unreachable database is tried again (backoff 0.5 s doubling to 10 s) for this
  // long before the server gives up; 0 = one attempt.
  int startup_retry_seconds = 60;
  // Each node re-reads the tasks, processes and policies it keeps in memory this often, in
  // case a notification of another node's change was lost.
  int cache_refresh_seconds = 10;
  // Nodes tell each other of changes with LISTEN/NOTIFY; false behind a pooler that cannot
  // LISTEN (PgBouncer's transaction mode): then only cache_refresh_seconds bounds staleness.
  bool listen_notify = true;
};

struct StorageConfig {
  // "rocksdb" (embedded, the default) or "postgresql".
  std::string selector = "rocksdb";
  PostgresqlConfig postgresql;
  std::string data_dir = "data";
  bool sync_writes = false;  // fsync the WAL on every acknowledged write (power-loss safety)
  int64_t block_cache_bytes = 128LL << 20;
  int record_ttl_days = 3;   // segments, snapshots, samples, logs
  int metrics_ttl_days = 7;  // services, instances, processes, meters
  // Agents' record times are accepted from now - max_past_skew to now + max_future_skew
  // (server clock); others are refused. 0 for the past = record_ttl_days.
  int64_t max_future_skew_seconds = 600;
  int64_t max_past_skew_seconds = 0;
  // Start-up refuses a data directory with less free space than this, in MiB (Debian's
  // RocksDB asserts when it cannot write its first files). 0 = no check.
  int64_t min_free_space_mb = 64;
};

// GraphQL endpoint limits (used from issue 3 on).
struct QueryConfig {
  int64_t max_body_bytes = 4LL << 20;
  int max_depth = 32;
  int max_fields = 3000;
  int max_tokens = 50000;
  // Trace-profiling snapshots analysed per query at most (OAP's
  // maxSizeOfAnalyzeProfileSnapshot); more are cut with a tip.
  int max_analyze_snapshots = 12000;
  // Time buckets one metrics expression (execExpression, readRecords) is evaluated over at
  // most: a week of minutes.
  int max_metric_buckets = 7 * 24 * 60;
  // Samples one eBPF analysis reads at most (a minute's roll-up counts one per stack); more are
  // cut at an upload time, with a tip.
  int64_t ebpf_analysis_max_samples = 10'000'000;
};

// booster-ui served by Stackhouse itself (off while booster_dir is empty).
struct UiConfig {
  std::string booster_dir;  // booster-ui's build output (dist/), holding index.html
  std::string host = "0.0.0.0";
  int port = 8080;  // 0 = any free port
};

struct LogConfig {
  std::string level = "info";
};

// The whole validated configuration. Built once at start-up by LoadConfig; never re-read.
struct Config {
  NetworkConfig network;
  ReceiverConfig receiver;
  StorageConfig storage;
  QueryConfig query;
  UiConfig ui;
  LogConfig log;
};

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv).
EnvLookup ProcessEnv();

// Replaces every `${NAME:default}` in `value` with NAME's value from `env`, or with `default`
// when NAME is unset. `${NAME}` without a default is an error when NAME is unset, as is an
// unterminated `${`. Text outside the placeholders is kept.
absl::StatusOr<std::string> SubstituteEnv(const std::string& value, const EnvLookup& env);

// Parses and validates YAML text. Errors are InvalidArgument, one line per problem, each
// starting with the key path (e.g. `storage.recordDataTTL: expected an integer, got "x"`).
absl::StatusOr<Config> ParseConfig(const std::string& yaml_text, const EnvLookup& env);

// Reads and parses the file at `path`; a missing or unreadable file is an error naming it.
absl::StatusOr<Config> LoadConfig(const std::string& path, const EnvLookup& env);

}  // namespace stackhouse::config
