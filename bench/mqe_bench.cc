// booster-ui's process-relation dashboard through /graphql (addendum §1.3-1.4): the 41 widget
// expressions of its three tabs, six per request as booster-ui sends them, over 60 minutes of
// one relation's rows in a store that also holds 99 other relations' hour.
//
//   build/bench/mqe_bench --benchmark_min_time=2
#include <cstdio>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "config/config.h"
#include "graphql/http_endpoint.h"
#include "metrics/metric_catalog.h"
#include "model/ids.h"
#include "query/query_service.h"
#include "storage/database.h"
#include "storage/rocks_metric_store.h"

namespace stackhouse {
namespace {

constexpr int64_t kHourStart = 1699999200000;  // 2023-11-14 22:00 UTC
constexpr int64_t kMinute = 60'000;

std::vector<std::string> DashboardExpressions() {
  std::vector<std::string> out;
  for (const char* side : {"client", "server"}) {
    for (const char* e :
         {"process_relation_X_write_cpm", "process_relation_X_read_cpm",
          "process_relation_X_write_total_bytes/1024", "process_relation_X_read_total_bytes/1024",
          "process_relation_X_write_avg_exe_time/1000000",
          "process_relation_X_read_avg_exe_time/1000000", "process_relation_X_connect_cpm",
          "process_relation_X_close_cpm", "process_relation_X_close_avg_exe_time/1000000",
          "process_relation_X_write_rtt_time_percentile",
          "process_relation_X_write_exe_time_percentile/1000000",
          "process_relation_X_read_exe_time_percentile/1000000",
          "process_relation_X_write_avg_rtt_time"}) {
      out.push_back(absl::StrReplaceAll(e, {{"_X_", absl::StrCat("_", side, "_")}}));
    }
  }
  out.push_back("process_relation_client_connect_exe_time/1000000");
  out.push_back("process_relation_server_connect_avg_exe_time/1000000");
  for (const char* e :
       {"process_relation_http1_request_cpm", "process_relation_http1_response_status_cpm",
        "process_relation_http1_request_package_size/1024",
        "process_relation_http1_response_package_size/1024",
        "process_relation_http1_request_package_size_percentile/1024",
        "process_relation_http1_response_package_size_percentile/1024",
        "process_relation_http1_client_duration",
        "process_relation_http1_client_duration_percentile",
        "process_relation_http1_server_duration",
        "process_relation_http1_server_duration_percentile",
        "top_n(sampled_slow_trace_record,50,DES)", "top_n(sampled_status_4xx_trace_record,50,DES)",
        "top_n(sampled_status_5xx_trace_record,50,DES)"}) {
    out.push_back(e);
  }
  return out;
}

struct Fixture {
  Fixture() : clock(kHourStart + 61 * kMinute) {
    dir = std::filesystem::temp_directory_path() / absl::StrCat("stackhouse-mqe-bench-", getpid());
    std::filesystem::remove_all(dir);
    storage::DatabaseOptions options;
    options.data_dir = dir.string();
    db = std::move(*storage::Database::Open(options, &clock));
    store = std::move(*storage::RocksMetricStore::Open(db.get(), absl::UTCTimeZone()));
    std::mt19937_64 random(7);
    const std::string instance = model::InstanceId(model::ServiceId("svc"), "pod");
    for (int r = 0; r < 100; ++r) {
      const std::string entity =
          model::ProcessRelationId(model::ProcessId(absl::StrCat("app-", r), instance),
                                   model::ProcessId("UNKNOWN_REMOTE", instance));
      if (r == 0) relation_client = absl::StrCat("app-", r);
      std::vector<metrics::MetricUpdate> updates;
      for (int m = 0; m < 60; ++m) {
        for (const metrics::MetricDefinition& def : metrics::Catalog()) {
          if (def.scope != metrics::MetricScope::kProcessRelation) continue;
          metrics::MetricUpdate u;
          u.metric = &def;
          u.entity_id = entity;
          u.minute_ms = kHourStart + m * kMinute;
          if (def.function == metrics::MetricFunction::kHistogramPercentile) {
            for (int b = 0; b < 20; ++b) u.delta.buckets.Add(int64_t{1} << b, random() % 50);
          } else {
            u.delta.sum = static_cast<int64_t>(random() % 100000);
            u.delta.count = 12;
          }
          if (!def.label.empty()) {
            for (const char* code : {"200", "404", "500"}) {
              u.label_value = code;
              updates.push_back(u);
            }
          } else {
            updates.push_back(u);
          }
        }
      }
      if (!store->AddMetrics(updates).ok()) std::abort();
    }
    // As on a server an hour later: every minute folded from the intake log into the rows.
    if (!store->FoldAll().ok() || !db->CompactAll().ok()) std::abort();
    query::QueryDeps deps;
    deps.metric_source = store.get();
    deps.metric_store = store.get();
    deps.clock = &clock;
    deps.config = &config;
    endpoint = std::move(*query::BuildQueryEndpoint(deps));
  }
  ~Fixture() {
    endpoint.reset();
    store.reset();
    db.reset();
    std::filesystem::remove_all(dir);
  }

  // booster-ui's request for `expressions` (one aliased field per widget, §1.4).
  std::string Request(const std::vector<std::string>& expressions) const {
    std::string definitions = "$duration: Duration!,$entity: Entity!", fields, variables;
    for (size_t i = 0; i < expressions.size(); ++i) {
      definitions += absl::StrCat(",$expression", i, "0: String!");
      fields += absl::StrCat(
          "expression", i, "0: execExpression(expression: $expression", i,
          "0, entity: $entity, duration: $duration){ type results { metric { labels { key value "
          "} } values { name: id value refId: traceID owner { scope serviceID serviceName normal "
          "serviceInstanceID serviceInstanceName endpointID endpointName } } } error }");
      variables += absl::StrCat(",\"expression", i, "0\":\"", expressions[i], "\"");
    }
    return absl::StrCat(
        "{\"query\":\"query queryData(", definitions, ") {", fields,
        "}\",\"variables\":{\"duration\":{\"start\":\"2023-11-14 2200\",\"end\":\"2023-11-14 "
        "2259\",\"step\":\"MINUTE\"},\"entity\":{\"serviceName\":\"svc\",\"normal\":true,"
        "\"serviceInstanceName\":\"pod\",\"processName\":\"",
        relation_client,
        "\",\"destNormal\":true,\"destServiceName\":\"svc\",\"destServiceInstanceName\":\"pod\","
        "\"destProcessName\":\"UNKNOWN_REMOTE\"}",
        variables, "}}");
  }

  SimulatedClock clock;
  std::filesystem::path dir;
  config::Config config;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<storage::RocksMetricStore> store;
  std::unique_ptr<graphql::HttpEndpoint> endpoint;
  std::string relation_client;
};

// The whole dashboard: 41 expressions in 7 requests of at most 6, one after another.
void BM_ProcessRelationDashboard(benchmark::State& state) {
  static Fixture* fixture = new Fixture();
  const std::vector<std::string> expressions = DashboardExpressions();
  std::vector<std::string> bodies;
  for (size_t i = 0; i < expressions.size(); i += 6) {
    std::vector<std::string> chunk(
        expressions.begin() + static_cast<long>(i),
        expressions.begin() + static_cast<long>(std::min(i + 6, expressions.size())));
    bodies.push_back(fixture->Request(chunk));
  }
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& body : bodies) {
      graphql::HttpRequest request;
      request.method = "POST";
      request.content_type = "application/json";
      request.body = body;
      graphql::HttpResponse response = fixture->endpoint->Handle(request);
      if (response.status != 200 || response.body.find("\"error\":\"") != std::string::npos) {
        state.SkipWithError(response.body.substr(0, 300).c_str());
        return;
      }
      bytes += response.body.size();
    }
  }
  state.counters["expressions"] = static_cast<double>(expressions.size());
  state.counters["requests"] = static_cast<double>(bodies.size());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ProcessRelationDashboard)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace stackhouse

BENCHMARK_MAIN();
