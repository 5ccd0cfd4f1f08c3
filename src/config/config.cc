#include "config/config.h"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "yaml-cpp/yaml.h"

namespace stackhouse::config {
namespace {

// Reads typed values out of one YAML mapping, recording every problem with its key path.
// The only place that touches yaml-cpp; every yaml-cpp exception is caught here.
class SectionReader {
 public:
  SectionReader(const YAML::Node& node, std::string path, const EnvLookup& env,
                std::vector<std::string>* errors)
      : node_(node),
        is_map_(node.IsDefined() && node.IsMap()),
        path_(std::move(path)),
        env_(env),
        errors_(errors) {}

  // Reads an integer key into `out` when present, checking [min, max].
  template <typename T>
  void Int(const std::string& key, T min, T max, T* out) {
    std::string text;
    if (!Scalar(key, &text)) return;
    int64_t value;
    if (!absl::SimpleAtoi(text, &value)) {
      Error(key, absl::StrCat("expected an integer, got \"", text, "\""));
      return;
    }
    if (value < static_cast<int64_t>(min) || value > static_cast<int64_t>(max)) {
      Error(key, absl::StrCat("value ", value, " is out of range [", min, ", ", max, "]"));
      return;
    }
    *out = static_cast<T>(value);
  }

  void String(const std::string& key, std::string* out) {
    std::string text;
    if (Scalar(key, &text)) *out = text;
  }

  // A string that must be non-empty.
  void NonEmptyString(const std::string& key, std::string* out) {
    std::string text;
    if (!Scalar(key, &text)) return;
    if (absl::StripAsciiWhitespace(text).empty()) {
      Error(key, "must not be empty");
      return;
    }
    *out = text;
  }

  void Bool(const std::string& key, bool* out) {
    std::string text;
    if (!Scalar(key, &text)) return;
    std::string lower = absl::AsciiStrToLower(text);
    if (lower == "true") {
      *out = true;
    } else if (lower == "false") {
      *out = false;
    } else {
      Error(key, absl::StrCat("expected true or false, got \"", text, "\""));
    }
  }

  // A string restricted by `valid`, which describes the accepted values in `expected`.
  void Choice(const std::string& key, const std::function<bool(const std::string&)>& valid,
              const std::string& expected, std::string* out) {
    std::string text;
    if (!Scalar(key, &text)) return;
    if (!valid(text)) {
      Error(key, absl::StrCat("invalid value \"", text, "\" (expected ", expected, ")"));
      return;
    }
    *out = text;
  }

  // A nested mapping under `key` (absent: an empty one), read with its own reader.
  SectionReader Section(const std::string& key) {
    known_.insert(key);
    // Const lookup: a missing key yields an undefined node (copied, never assigned).
    const YAML::Node child = is_map_ ? node_[key] : YAML::Node(YAML::NodeType::Undefined);
    if (child.IsDefined() && !child.IsMap() && !child.IsNull()) Error(key, "expected a mapping");
    return SectionReader(child, Path(key), env_, errors_);
  }

  // Reports every key of the mapping that no reader asked for.
  void RejectUnknownKeys() {
    if (!is_map_) return;
    for (const auto& entry : node_) {
      std::string key = entry.first.Scalar();
      if (!known_.count(key)) {
        errors_->push_back(absl::StrCat(Path(key), ": unknown key"));
      }
    }
  }

 private:
  std::string Path(const std::string& key) const { return absl::StrCat(path_, ".", key); }
  void Error(const std::string& key, const std::string& reason) {
    errors_->push_back(absl::StrCat(Path(key), ": ", reason));
  }

  // Finds `key` and returns its env-substituted scalar text; false when absent or invalid.
  bool Scalar(const std::string& key, std::string* out) {
    known_.insert(key);
    if (!is_map_) return false;
    // Const lookup: a missing key yields an undefined node instead of inserting one.
    const YAML::Node value = static_cast<const YAML::Node&>(node_)[key];
    if (!value.IsDefined()) return false;
    if (value.IsNull()) {
      *out = "";
      return true;
    }
    if (!value.IsScalar()) {
      Error(key, "expected a single value, got a list or a mapping");
      return false;
    }
    auto substituted = SubstituteEnv(value.Scalar(), env_);
    if (!substituted.ok()) {
      Error(key, std::string(substituted.status().message()));
      return false;
    }
    *out = *substituted;
    return true;
  }

  const YAML::Node node_;
  const bool is_map_;  // false for an absent or non-mapping section
  const std::string path_;
  const EnvLookup& env_;
  std::vector<std::string>* errors_;
  std::set<std::string> known_;
};

absl::StatusOr<Config> ParseConfigUnchecked(const std::string& yaml_text, const EnvLookup& env);

constexpr int kMaxPort = 65535;
constexpr int kMaxTtlDays = 3650;
constexpr int64_t kSecondsPerDay = 24 * 3600;

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

absl::StatusOr<std::string> SubstituteEnv(const std::string& value, const EnvLookup& env) {
  std::string out;
  size_t pos = 0;
  while (pos < value.size()) {
    size_t start = value.find("${", pos);
    if (start == std::string::npos) {
      out.append(value, pos, std::string::npos);
      break;
    }
    out.append(value, pos, start - pos);
    size_t end = value.find('}', start + 2);
    if (end == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("unterminated \"${\" in \"", value, "\""));
    }
    std::string inner = value.substr(start + 2, end - start - 2);
    size_t colon = inner.find(':');
    std::string name = inner.substr(0, colon);
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("empty environment variable name in \"", value, "\""));
    }
    std::optional<std::string> env_value = env(name);
    if (env_value.has_value()) {
      out.append(*env_value);
    } else if (colon != std::string::npos) {
      out.append(inner, colon + 1, std::string::npos);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "environment variable ", name, " is not set and \"", value, "\" has no default"));
    }
    pos = end + 1;
  }
  return out;
}

absl::StatusOr<Config> ParseConfig(const std::string& yaml_text, const EnvLookup& env) {
  // yaml-cpp reports errors by exception; none may escape this adapter.
  try {
    return ParseConfigUnchecked(yaml_text, env);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid configuration: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid configuration: ", e.what()));
  }
}

namespace {

absl::StatusOr<Config> ParseConfigUnchecked(const std::string& yaml_text, const EnvLookup& env) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML at line ", e.mark.line + 1,
                                                   ", column ", e.mark.column + 1, ": ", e.msg));
  }
  Config config;
  if (root.IsNull()) return config;  // an empty file means every default
  if (!root.IsMap()) return absl::InvalidArgumentError("the top level must be a mapping");

  std::vector<std::string> errors;
  static const std::set<std::string> kSections = {"core",  "receiver", "storage",
                                                  "query", "ui",       "log"};
  for (const auto& entry : root) {
    std::string key = entry.first.Scalar();
    if (!kSections.count(key)) {
      errors.push_back(absl::StrCat(key, ": unknown section (expected one of ",
                                    absl::StrJoin(kSections, ", "), ")"));
    } else if (!entry.second.IsMap() && !entry.second.IsNull()) {
      errors.push_back(absl::StrCat(key, ": expected a mapping"));
    }
  }

  {
    SectionReader r(std::as_const(root)["core"], "core", env, &errors);
    NetworkConfig& n = config.network;
    r.NonEmptyString("gRPCHost", &n.grpc_host);
    r.Int("gRPCPort", 0, kMaxPort, &n.grpc_port);
    r.NonEmptyString("restHost", &n.http_host);
    r.Int("restPort", 0, kMaxPort, &n.http_port);
    r.Int<int64_t>("maxMessageSize", 1024, std::numeric_limits<int32_t>::max(),
                   &n.grpc_max_message_size);
    r.Int("gRPCThreadPoolSize", 0, 1024, &n.grpc_thread_pool_size);
    r.Int("gRPCStreamThreads", 0, 256, &n.grpc_stream_threads);
    r.Int("gRPCMaxConcurrentStreams", 0, 1000000, &n.grpc_max_concurrent_streams);
    r.Int("gRPCStreamIdleTimeout", 0, 86400, &n.grpc_stream_idle_timeout_seconds);
    r.Int("gRPCMaxUnaryThreads", 2, 1024, &n.grpc_max_unary_threads);
    r.Int("shutdownGracePeriod", 0, 600, &n.shutdown_grace_seconds);
    r.Bool("gRPCSslEnabled", &n.grpc_ssl_enabled);
    r.String("gRPCSslKeyPath", &n.grpc_ssl_key_path);
    r.String("gRPCSslCertChainPath", &n.grpc_ssl_cert_chain_path);
    r.String("gRPCSslTrustedCAPath", &n.grpc_ssl_trusted_ca_path);
    r.Bool("restSslEnabled", &n.rest_ssl_enabled);
    r.String("restSslKeyPath", &n.rest_ssl_key_path);
    r.String("restSslCertChainPath", &n.rest_ssl_cert_chain_path);
    r.String("restAuthentication", &n.rest_authentication);
    r.Int("restMaxThreads", 1, 1024, &n.rest_max_threads);
    r.Int("restMaxConnections", 1, 1000000, &n.rest_max_connections);
    r.Int<int64_t>("restIdleTimeOut", 100, 3600000, &n.rest_idle_timeout_ms);
    r.Int<int64_t>("restRequestTimeout", 100, 3600000, &n.rest_request_timeout_ms);
    auto need = [&errors](bool enabled, const char* flag, const std::string& value,
                          const char* key) {
      if (enabled && value.empty()) {
        errors.push_back(absl::StrCat("core.", key, ": required when core.", flag, " is true"));
      }
    };
    need(n.grpc_ssl_enabled, "gRPCSslEnabled", n.grpc_ssl_key_path, "gRPCSslKeyPath");
    need(n.grpc_ssl_enabled, "gRPCSslEnabled", n.grpc_ssl_cert_chain_path, "gRPCSslCertChainPath");
    need(n.rest_ssl_enabled, "restSslEnabled", n.rest_ssl_key_path, "restSslKeyPath");
    need(n.rest_ssl_enabled, "restSslEnabled", n.rest_ssl_cert_chain_path, "restSslCertChainPath");
    r.RejectUnknownKeys();
  }
  {
    SectionReader r(std::as_const(root)["receiver"], "receiver", env, &errors);
    ReceiverConfig& c = config.receiver;
    r.String("authentication", &c.authentication);
    r.Int("serviceNameMaxLength", 1, 10000, &c.service_name_max_length);
    r.Int("instanceNameMaxLength", 1, 10000, &c.instance_name_max_length);
    r.Int("endpointNameMaxLength", 1, 10000, &c.endpoint_name_max_length);
    r.RejectUnknownKeys();
  }
  {
    SectionReader r(std::as_const(root)["storage"], "storage", env, &errors);
    StorageConfig& s = config.storage;
    r.Choice(
        "selector", [](const std::string& v) { return v == "rocksdb" || v == "postgresql"; },
        "rocksdb or postgresql", &s.selector);
    {
      SectionReader pg = r.Section("postgresql");
      PostgresqlConfig& p = s.postgresql;
      pg.NonEmptyString("host", &p.host);
      pg.Int("port", 1, kMaxPort, &p.port);
      pg.NonEmptyString("database", &p.database);
      pg.NonEmptyString("user", &p.user);
      pg.String("password", &p.password);
      pg.Int("poolSize", 1, 1024, &p.pool_size);
      pg.Int<int64_t>("statementTimeout", 0, int64_t{24} * 3600 * 1000, &p.statement_timeout_ms);
      pg.Int("connectTimeout", 1, 3600, &p.connect_timeout_seconds);
      pg.Int("startupRetry", 0, static_cast<int>(kSecondsPerDay), &p.startup_retry_seconds);
      pg.Int("cacheRefreshSeconds", 1, static_cast<int>(kSecondsPerDay), &p.cache_refresh_seconds);
      pg.Bool("listenNotify", &p.listen_notify);
      pg.RejectUnknownKeys();
    }
    r.NonEmptyString("dataDir", &s.data_dir);
    r.Bool("syncWrites", &s.sync_writes);
    r.Int<int64_t>("blockCacheSize", 0, int64_t{1} << 40, &s.block_cache_bytes);
    r.Int("recordDataTTL", 1, kMaxTtlDays, &s.record_ttl_days);
    r.Int("metricsDataTTL", 1, kMaxTtlDays, &s.metrics_ttl_days);
    // Below a day, so that the dictionaries' extra day covers records stamped ahead.
    r.Int<int64_t>("maxFutureSkew", 0, kSecondsPerDay, &s.max_future_skew_seconds);
    r.Int<int64_t>("maxPastSkew", 0, int64_t{kMaxTtlDays} * kSecondsPerDay,
                   &s.max_past_skew_seconds);
    r.Int<int64_t>("minFreeSpace", 0, int64_t{1} << 30, &s.min_free_space_mb);
    if (s.max_past_skew_seconds > int64_t{s.record_ttl_days} * kSecondsPerDay) {
      errors.push_back(absl::StrCat("storage.maxPastSkew: ", s.max_past_skew_seconds,
                                    " s is beyond storage.recordDataTTL (", s.record_ttl_days,
                                    " days); such records would expire on arrival"));
    }
    r.RejectUnknownKeys();
  }
  {
    SectionReader r(std::as_const(root)["query"], "query", env, &errors);
    QueryConfig& q = config.query;
    r.Int<int64_t>("maxRequestBodySize", 1024, int64_t{1} << 30, &q.max_body_bytes);
    r.Int("maxQueryDepth", 2, 1000, &q.max_depth);
    r.Int("maxQueryFields", 1, 1000000, &q.max_fields);
    r.Int("maxQueryTokens", 16, 10000000, &q.max_tokens);
    r.Int("maxSizeOfAnalyzeProfileSnapshot", 1, 100000000, &q.max_analyze_snapshots);
    r.Int("maxMetricsQueryBuckets", 1, 1000000, &q.max_metric_buckets);
    r.Int<int64_t>("ebpfAnalysisMaxSamples", 1, int64_t{1} << 40, &q.ebpf_analysis_max_samples);
    r.RejectUnknownKeys();
  }
  {
    SectionReader r(std::as_const(root)["ui"], "ui", env, &errors);
    UiConfig& u = config.ui;
    r.String("boosterDir", &u.booster_dir);
    r.NonEmptyString("host", &u.host);
    r.Int("port", 0, kMaxPort, &u.port);
    r.RejectUnknownKeys();
  }
  {
    SectionReader r(std::as_const(root)["log"], "log", env, &errors);
    r.Choice("level", IsValidLogLevel, "trace, debug, info, warn, error, critical or off",
             &config.log.level);
    r.RejectUnknownKeys();
  }

  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  }
  return config;
}

}  // namespace

absl::StatusOr<Config> LoadConfig(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto config = ParseConfig(buffer.str(), env);
  if (!config.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, ":\n", config.status().message()));
  }
  return config;
}

}  // namespace stackhouse::config
