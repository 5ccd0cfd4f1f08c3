// End-to-end query benchmarks: data written through the real stores into a temporary RocksDB,
// compacted, then analysed through the /graphql endpoint (GraphQL parse, validation,
// execution, reading from RocksDB, merge and JSON serialization; no network).
//
//   build/bench/query_bench --benchmark_min_time=2
//
// Workloads:
//   * trace profiling: one segment with N thread dumps of depth 60 (a few hundred distinct
//     stacks sharing prefixes), analysed over its whole span with the snapshot cap raised to N;
//   * eBPF: SkyWalking's own benchmark shape (apache/skywalking#8696): 2,880,000 On-CPU samples
//     of 100 distinct stacks of depth 15-40, uploaded as 28,800 uploads of 100 samples.
#include <cstdio>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "config/config.h"
#include "graphql/http_endpoint.h"
#include "query/query_service.h"
#include "storage/database.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/rocks_metadata_store.h"
#include "storage/rocks_profile_store.h"
#include "storage/rocks_segment_store.h"
#include "task/ebpf_service.h"
#include "task/profile_task_service.h"

namespace stackhouse {
namespace {

constexpr int64_t kStart = 1700000000000;

// Everything a query needs, over one temporary data directory.
struct Fixture {
  explicit Fixture(int32_t max_snapshots) : clock(kStart) {
    dir = std::filesystem::temp_directory_path() /
          absl::StrCat("stackhouse-bench-", getpid(), "-", max_snapshots);
    std::filesystem::remove_all(dir);
    storage::DatabaseOptions options;
    options.data_dir = dir.string();
    options.record_ttl_ms = 3650LL * 24 * 3600 * 1000;
    db = std::move(*storage::Database::Open(options, &clock));
    metadata = std::make_unique<storage::RocksMetadataStore>(db.get(), &clock);
    profiles = std::make_unique<storage::RocksProfileStore>(db.get(), &clock);
    segments = std::make_unique<storage::RocksSegmentStore>(db.get());
    ebpf_store = std::make_unique<storage::RocksEbpfStore>(db.get(), &clock);
    tasks = std::move(*task::ProfileTaskService::Create(profiles.get(), &clock));
    ebpf = std::move(*task::EbpfService::Create(ebpf_store.get(), metadata.get(), &clock, {}));
    config.query.max_analyze_snapshots = max_snapshots;
    config.query.max_body_bytes = 64 << 20;
    query::QueryDeps deps;
    deps.metadata = metadata.get();
    deps.profile_tasks = tasks.get();
    deps.snapshots = profiles.get();
    deps.segments = segments.get();
    deps.ebpf = ebpf.get();
    deps.ebpf_store = ebpf_store.get();
    deps.clock = &clock;
    deps.config = &config;
    endpoint = std::move(*query::BuildQueryEndpoint(deps));
  }
  ~Fixture() {
    endpoint.reset();
    db.reset();
    std::filesystem::remove_all(dir);
  }

  graphql::HttpResponse Post(const std::string& body) const {
    graphql::HttpRequest request;
    request.method = "POST";
    request.content_type = "application/json";
    request.body = body;
    return endpoint->Handle(request);
  }

  std::filesystem::path dir;
  SimulatedClock clock;
  config::Config config;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<storage::RocksMetadataStore> metadata;
  std::unique_ptr<storage::RocksProfileStore> profiles;
  std::unique_ptr<storage::RocksSegmentStore> segments;
  std::unique_ptr<storage::RocksEbpfStore> ebpf_store;
  std::unique_ptr<task::ProfileTaskService> tasks;
  std::unique_ptr<task::EbpfService> ebpf;
  std::unique_ptr<graphql::HttpEndpoint> endpoint;
};

// Java-like stacks: 300 distinct stacks of depth 60 sharing a 40-frame prefix.
std::vector<std::vector<std::string>> JavaStacks() {
  std::vector<std::vector<std::string>> stacks;
  for (int s = 0; s < 300; ++s) {
    std::vector<std::string> frames;
    for (int d = 0; d < 60; ++d) {
      int branch = d < 40 ? 0 : (d < 50 ? s % 10 : s);
      frames.push_back(absl::StrCat("com.example.layer", d, ".Service", branch, ".call:", 100 + d));
    }
    stacks.push_back(std::move(frames));
  }
  return stacks;
}

void BM_TraceProfileAnalyze(benchmark::State& state) {
  const int32_t n = static_cast<int32_t>(state.range(0));
  Fixture fixture(n);
  auto stacks = JavaStacks();
  std::mt19937 rng(42);
  std::vector<model::ThreadSnapshot> batch;
  size_t stack = 0;
  for (int32_t seq = 0; seq < n; ++seq) {
    if (rng() % 10 < 3) stack = rng() % stacks.size();  // 70% keep the previous stack
    batch.push_back({"task", "segment-1", kStart + seq * 10LL, seq, stacks[stack]});
    if (batch.size() == 10000 || seq + 1 == n) {
      if (!fixture.profiles->AddSnapshots(batch).ok()) state.SkipWithError("write failed");
      batch.clear();
    }
  }
  (void)fixture.db->Flush();
  (void)fixture.db->CompactAll();
  const std::string body = absl::StrCat(
      R"({"query":"query($q: [SegmentProfileAnalyzeQuery!]!) { analyze: getSegmentsProfileAnalyze(queries: $q) { tip trees { elements { id parentId codeSignature duration durationChildExcluded count } } } }","variables":{"q":[{"segmentId":"segment-1","timeRange":{"start":)",
      kStart, R"(,"end":)", kStart + n * 10LL, "}}]}}");
  size_t bytes = 0;
  for (auto _ : state) {
    graphql::HttpResponse response = fixture.Post(body);
    if (response.status != 200 || response.body.find("\"errors\"") != std::string::npos) {
      state.SkipWithError(response.body.substr(0, 200).c_str());
      break;
    }
    bytes = response.body.size();
  }
  state.counters["snapshots"] = n;
  state.counters["response_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_TraceProfileAnalyze)->Arg(12000)->Arg(1000000)->Unit(benchmark::kMillisecond);

void BM_EbpfAnalyze(benchmark::State& state) {
  Fixture fixture(12000);
  std::mt19937 rng(7);
  std::vector<model::EbpfSample> distinct;
  for (int s = 0; s < 100; ++s) {
    model::EbpfSample sample;
    int depth = 15 + static_cast<int>(rng() % 26);
    for (int d = 0; d < depth; ++d) {
      sample.stack.push_back(
          {absl::StrCat("func_", d, "_", d < 8 ? 0 : s % (d + 1)),
           d + 3 >= depth ? model::StackType::kKernel : model::StackType::kUser});
    }
    distinct.push_back(std::move(sample));
  }
  constexpr int kUploads = 28800;
  const std::string schedule = "schedule-1";
  for (int u = 0; u < kUploads; ++u) {
    std::vector<model::EbpfSample> upload = distinct;
    for (auto& s : upload) s.dump_count = 1 + static_cast<int64_t>(rng() % 50);
    if (!fixture.ebpf_store->AddSamples(schedule, kStart + u * 5000LL, upload).ok()) {
      state.SkipWithError("write failed");
    }
  }
  (void)fixture.db->Flush();
  (void)fixture.db->CompactAll();
  uint64_t sample_bytes = 0;
  for (const auto& stats : fixture.db->Stats()) {
    if (stats.family == storage::Family::kEbpfSample) sample_bytes = stats.sst_file_bytes;
  }
  const std::string body = absl::StrCat(
      R"({"query":"query($ids: [ID!]!, $r: [EBPFProfilingAnalyzeTimeRange!]!) { a: analysisEBPFProfilingResult(scheduleIdList: $ids, timeRanges: $r, aggregateType: COUNT) { tip trees { elements { id parentId symbol stackType dumpCount } } } }","variables":{"ids":[")",
      schedule, R"("],"r":[{"start":)", kStart, R"(,"end":)", kStart + kUploads * 5000LL, "}]}}");
  for (auto _ : state) {
    graphql::HttpResponse response = fixture.Post(body);
    if (response.status != 200 || response.body.find("\"errors\"") != std::string::npos) {
      state.SkipWithError(response.body.substr(0, 200).c_str());
      break;
    }
  }
  state.counters["samples"] = kUploads * 100.0;
  state.counters["sst_bytes_per_sample"] = static_cast<double>(sample_bytes) / (kUploads * 100.0);
}
BENCHMARK(BM_EbpfAnalyze)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace stackhouse

BENCHMARK_MAIN();
