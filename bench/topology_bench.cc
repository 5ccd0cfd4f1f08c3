// getProcessTopology over an hour of one instance's network profiling (issue 13's goal: 50 ms):
// 50 processes in the pod, each talking to 40 remote addresses (2,000 peers, all
// UNKNOWN_REMOTE without Kubernetes metadata), to a local peer and to its neighbours in the pod
// from both sides, reported every 2 s for 60 minutes as the relation rows MeterService writes
// (RocksMetricStore::AddRelations, merge operands, not compacted: an hour of live data).
//
//   build/bench/topology_bench --benchmark_min_time=2
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "config/config.h"
#include "graphql/http_endpoint.h"
#include "model/ids.h"
#include "pod_stores.h"
#include "query/query_service.h"

namespace stackhouse {
namespace {

constexpr int64_t kHourStart = 1699999200000;  // 2023-11-14 22:00 UTC
constexpr int64_t kMinute = 60'000;
constexpr int kProcesses = 50;
constexpr int kRemotePerProcess = 40;  // 2,000 remote peers
constexpr int kReportsPerMinute = 30;  // every 2 s

struct Fixture {
  Fixture() : pod("topology-bench", kHourStart, kProcesses, {"UNKNOWN_REMOTE", "UNKNOWN_LOCAL"}) {
    const std::vector<std::string>& ids = pod.ids;
    instance = model::InstanceId(model::ServiceId(bench::PodStores::kService),
                                 bench::PodStores::kInstance);
    const std::string remote = ids[kProcesses];
    const std::string local = ids[kProcesses + 1];
    for (int m = 0; m < 60; ++m) {
      for (int report = 0; report < kReportsPerMinute; ++report) {
        std::vector<metrics::RelationRow> rows;
        for (int p = 0; p < kProcesses; ++p) {
          auto row = [&](const std::string& client, const std::string& server, bool server_side,
                         int component) {
            rows.push_back(
                {instance, client, server, server_side, component, kHourStart + m * kMinute});
          };
          // One row per remote address as Rover reports them; all map to UNKNOWN_REMOTE.
          for (int r = 0; r < kRemotePerProcess; ++r) row(ids[p], remote, false, r % 2 ? 129 : 110);
          row(local, ids[p], true, 49);
          const std::string& next = ids[(p + 1) % kProcesses];
          row(ids[p], next, false, 49);
          row(ids[p], next, true, 49);
        }
        if (!pod.metric_store->AddRelations(rows).ok()) std::abort();
      }
    }
    pod.clock.SetMillis(kHourStart + 61 * kMinute);
    query::QueryDeps deps;
    deps.ebpf = pod.ebpf.get();
    deps.ebpf_store = pod.ebpf_store.get();
    deps.metric_source = pod.metric_store.get();
    deps.metric_store = pod.metric_store.get();
    deps.clock = &pod.clock;
    deps.config = &config;
    endpoint = std::move(*query::BuildQueryEndpoint(deps));
  }
  ~Fixture() { endpoint.reset(); }

  bench::PodStores pod;
  config::Config config;
  std::unique_ptr<graphql::HttpEndpoint> endpoint;
  std::string instance;
};

// booster-ui's getProcessTopology document (graphql-protocol.md §3.5) over the hour.
void BM_ProcessTopologyOfAnHour(benchmark::State& state) {
  static Fixture* fixture = new Fixture();
  const std::string body = absl::StrCat(
      "{\"query\":\"query queryData($serviceInstanceId: ID!, $duration: Duration!) { topology: "
      "getProcessTopology(serviceInstanceId: $serviceInstanceId, duration: $duration) { nodes { "
      "id name isReal serviceName serviceId serviceInstanceId serviceInstanceName } calls { id "
      "source detectPoints target sourceComponents targetComponents } } }\",\"variables\":{"
      "\"serviceInstanceId\":\"",
      fixture->instance,
      "\",\"duration\":{\"start\":\"2023-11-14 2200\",\"end\":\"2023-11-14 2259\",\"step\":"
      "\"MINUTE\"}}}");
  graphql::HttpRequest request;
  request.method = "POST";
  request.content_type = "application/json";
  request.body = body;
  size_t calls = 0;
  for (auto _ : state) {
    graphql::HttpResponse response = fixture->endpoint->Handle(request);
    if (response.status != 200 || response.body.find("\"errors\"") != std::string::npos) {
      state.SkipWithError(response.body.substr(0, 300).c_str());
      return;
    }
    calls = 0;
    for (size_t at = response.body.find("\"detectPoints\""); at != std::string::npos;
         at = response.body.find("\"detectPoints\"", at + 1)) {
      ++calls;
    }
  }
  state.counters["calls"] = static_cast<double>(calls);
}
BENCHMARK(BM_ProcessTopologyOfAnHour)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace stackhouse

BENCHMARK_MAIN();
