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
//     of 100 distinct stacks of depth 15-40, uploaded as 28,800 uploads of 100 samples;
//   * eBPF at continuous-profiling scale (issue 15), each read raw (/0: before roll-ups) and
//     from roll-ups (/1: RollUp run after writing, then compacted again): the OAP shape above;
//     100 schedules × 1 h × 100 Hz of the same 100 stacks (36,000,000 samples, an upload of 500
//     samples every 5 s per schedule; /schedules scales it); a week of one schedule uploading
//     its 100 stacks every 5 s (12,096,000 samples). The analysis limit is raised so that the
//     raw reads are whole. `peak_rss_mb` is the process's peak RSS during the analyses above
//     its RSS before them (/proc/self/clear_refs resets the peak);
//   * the OAP shape on PostgreSQL (BM_EbpfAnalyzePostgresql, issue 16): written through the
//     PostgreSQL stores into a throw-away PostgreSQL 15 cluster on this machine (initdb as for
//     the tests, tests/storage/pg/throwaway_cluster.h; skipped when its binaries are missing),
//     then VACUUM (ANALYZE), and analysed raw (/0) and from roll-ups (/1) through /graphql over
//     a pool as the server's;
//   * large trees (issue 15 goal 4): 100,000 distinct stacks, each sampled once, analysed
//     through /graphql: trace profiling (one segment, 100,000 dumps of depth 60) and eBPF (one
//     schedule, depth 30, 100,000 samples in 25 uploads). The stacks branch near their leaves
//     as real ones do: every stack has its own leaf frame, groups of 10 share the 3 frames
//     above it, groups of 100 the 6 above those, groups of 1,000 the 10 above those, and all
//     share the rest, a tree of 137,040 nodes (`nodes`).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "config/config.h"
#include "graphql/http_endpoint.h"
#include "query/query_service.h"
#include "service/ebpf_service.h"
#include "service/profile_task_service.h"
#include "storage/database.h"
#include "storage/pg/pg_ebpf_store.h"
#include "storage/pg/pg_metadata_store.h"
#include "storage/pg/pg_partitions.h"
#include "storage/pg/pg_pool.h"
#include "storage/pg/pg_profile_store.h"
#include "storage/pg/pg_schema.h"
#include "storage/pg/pg_segment_store.h"
#include "storage/pg/throwaway_cluster.h"
#include "storage/rocks_ebpf_store.h"
#include "storage/rocks_metadata_store.h"
#include "storage/rocks_profile_store.h"
#include "storage/rocks_segment_store.h"

namespace stackhouse {
namespace {

constexpr int64_t kStart = 1700000000000;

// The services and the /graphql endpoint over one set of stores, wired as the server wires them,
// with the trace-profiling snapshot cap `max_snapshots` and no eBPF analysis limit.
struct QueryStack {
  QueryStack(storage::MetadataStore* metadata, storage::ProfileTaskStore* profile_tasks,
             const storage::SnapshotStore* snapshots, const storage::SegmentStore* segments,
             storage::EbpfStore* ebpf_store, const Clock* clock, int32_t max_snapshots) {
    tasks = std::move(*service::ProfileTaskService::Create(profile_tasks, clock));
    ebpf = std::move(*service::EbpfService::Create(ebpf_store, metadata, clock, {}));
    config.query.max_analyze_snapshots = max_snapshots;
    config.query.ebpf_analysis_max_samples = int64_t{1} << 40;
    config.query.max_body_bytes = 64 << 20;
    query::QueryDeps deps;
    deps.metadata = metadata;
    deps.profile_tasks = tasks.get();
    deps.snapshots = snapshots;
    deps.segments = segments;
    deps.ebpf = ebpf.get();
    deps.ebpf_store = ebpf_store;
    deps.clock = clock;
    deps.config = &config;
    endpoint = std::move(*query::BuildQueryEndpoint(deps));
  }

  graphql::HttpResponse Post(const std::string& body) const {
    graphql::HttpRequest request;
    request.method = "POST";
    request.content_type = "application/json";
    request.body = body;
    return endpoint->Handle(request);
  }

  config::Config config;
  std::unique_ptr<service::ProfileTaskService> tasks;
  std::unique_ptr<service::EbpfService> ebpf;
  std::unique_ptr<graphql::HttpEndpoint> endpoint;
};

// Everything a query needs, over one temporary data directory.
struct Fixture {
  explicit Fixture(int32_t max_snapshots, const std::string& name = "") : clock(kStart) {
    dir = std::filesystem::temp_directory_path() /
          absl::StrCat("stackhouse-bench-", getpid(), "-", max_snapshots, name);
    std::filesystem::remove_all(dir);
    storage::DatabaseOptions options;
    options.data_dir = dir.string();
    options.record_ttl_ms = 3650LL * 24 * 3600 * 1000;
    db = std::move(*storage::Database::Open(options, &clock));
    metadata = std::make_unique<storage::RocksMetadataStore>(db.get(), &clock);
    profiles = std::make_unique<storage::RocksProfileStore>(db.get(), &clock);
    segments = std::make_unique<storage::RocksSegmentStore>(db.get());
    ebpf_store = std::make_unique<storage::RocksEbpfStore>(db.get(), &clock);
    query = std::make_unique<QueryStack>(metadata.get(), profiles.get(), profiles.get(),
                                         segments.get(), ebpf_store.get(), &clock, max_snapshots);
  }
  // With STACKHOUSE_BENCH_KEEP_DATA set, the data directory is kept (and named on stderr), so
  // that a server can be started on it (docs/performance.md, the memory of an analysis).
  ~Fixture() {
    query.reset();
    db.reset();
    if (std::getenv("STACKHOUSE_BENCH_KEEP_DATA") != nullptr) {
      std::fprintf(stderr, "kept the data directory %s\n", dir.c_str());
    } else {
      std::filesystem::remove_all(dir);
    }
  }

  graphql::HttpResponse Post(const std::string& body) const { return query->Post(body); }

  std::filesystem::path dir;
  SimulatedClock clock;
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<storage::RocksMetadataStore> metadata;
  std::unique_ptr<storage::RocksProfileStore> profiles;
  std::unique_ptr<storage::RocksSegmentStore> segments;
  std::unique_ptr<storage::RocksEbpfStore> ebpf_store;
  std::unique_ptr<QueryStack> query;
};

// The same over a fresh database of a throw-away PostgreSQL cluster on this machine, through a
// pool of the server's default size, with the schema migrated.
struct PgFixture {
  // FailedPrecondition when PostgreSQL's binaries are missing; the cluster's errors else.
  static absl::StatusOr<std::unique_ptr<PgFixture>> Create() {
    auto f = std::make_unique<PgFixture>();
    SH_ASSIGN_OR_RETURN(f->cluster, storage::pg::testing::ThrowawayCluster::Start());
    storage::pg::PoolOptions options;
    SH_ASSIGN_OR_RETURN(options.conninfo, f->cluster->CreateDatabase());
    options.size = config::PostgresqlConfig().pool_size;
    options.statement_timeout_ms = config::PostgresqlConfig().statement_timeout_ms;
    SH_ASSIGN_OR_RETURN(f->pool, storage::pg::Pool::Create(options));
    SH_RETURN_IF_ERROR(storage::pg::MigrateSchema(*f->pool).status());
    storage::pg::PartitionKeeperOptions keeper;
    keeper.ttl.record_ttl_ms = 3650LL * 24 * 3600 * 1000;
    keeper.ttl.metrics_ttl_ms = keeper.ttl.record_ttl_ms;
    storage::pg::PartitionReport kept =
        storage::pg::PartitionKeeper(f->pool.get(), &f->clock, keeper).RunOnce();
    if (!kept.failures.empty()) return absl::InternalError(kept.failures[0]);
    storage::pg::StoreOptions store_options;
    store_options.record_ttl_ms = 3650LL * 24 * 3600 * 1000;
    store_options.metrics_ttl_ms = store_options.record_ttl_ms;
    storage::pg::Pool* p = f->pool.get();
    f->metadata = std::make_unique<storage::pg::PgMetadataStore>(p, &f->clock, store_options);
    f->profiles = std::make_unique<storage::pg::PgProfileStore>(p, &f->clock, store_options);
    f->segments = std::make_unique<storage::pg::PgSegmentStore>(p, &f->clock, store_options);
    f->ebpf_store = std::make_unique<storage::pg::PgEbpfStore>(p, &f->clock, store_options);
    f->query =
        std::make_unique<QueryStack>(f->metadata.get(), f->profiles.get(), f->profiles.get(),
                                     f->segments.get(), f->ebpf_store.get(), &f->clock, 12000);
    return f;
  }
  // What autovacuum would have done to the loaded tables by the time an operator queries them.
  absl::Status VacuumAnalyze() {
    SH_ASSIGN_OR_RETURN(storage::pg::Pool::Lease conn, pool->Acquire());
    return conn->ExecScript("VACUUM (ANALYZE)");
  }

  SimulatedClock clock{kStart};
  std::unique_ptr<storage::pg::testing::ThrowawayCluster> cluster;
  std::unique_ptr<storage::pg::Pool> pool;
  std::unique_ptr<storage::pg::PgMetadataStore> metadata;
  std::unique_ptr<storage::pg::PgProfileStore> profiles;
  std::unique_ptr<storage::pg::PgSegmentStore> segments;
  std::unique_ptr<storage::pg::PgEbpfStore> ebpf_store;
  std::unique_ptr<QueryStack> query;
};

// The process's RSS figures in kB from /proc/self/status ("VmRSS", "VmHWM"), -1 if unknown.
int64_t StatusKb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

// Starts measuring the peak RSS afresh (Linux: VmHWM is reset to the current RSS).
void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

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

// 100 distinct On-CPU stacks of depth 15-40 sharing their first 8 frames (SkyWalking's shape).
std::vector<model::EbpfSample> DistinctStacks() {
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
  return distinct;
}

// One stored eBPF workload, written once and shared by its raw (/0) and rolled-up (/1) runs.
struct EbpfWorkload {
  std::unique_ptr<Fixture> fixture;
  std::vector<std::string> schedules;
  int64_t end_ms = 0;  // uploads are in [kStart, end_ms)
  double samples = 0;
  uint64_t raw_bytes = 0;     // SST bytes of the sample family, compacted, before roll-ups
  uint64_t rolled_bytes = 0;  // the same after RollUp and compaction
  bool rolled = false;
};

uint64_t SampleFamilyBytes(storage::Database& db) {
  (void)db.Flush();
  (void)db.CompactAll();
  for (const auto& stats : db.Stats()) {
    if (stats.family == storage::Family::kEbpfSample) return stats.sst_file_bytes;
  }
  return 0;
}

// `schedules` schedules uploading every 5 s for `duration_ms`, each upload `per_upload` samples
// drawn from the 100 stacks: all 100 once each (counts 1-50) when per_upload is 100, else random
// ones counting 1 (100 Hz sampling, one sample per stack sample).
std::map<std::string, EbpfWorkload>& Workloads() {
  static auto* workloads = new std::map<std::string, EbpfWorkload>();
  return *workloads;
}

// Writes the uploads of `schedules` (see Workload) into `store`.
void WriteEbpfUploads(storage::EbpfStore& store, const std::vector<std::string>& schedules,
                      int64_t duration_ms, int per_upload) {
  std::vector<model::EbpfSample> distinct = DistinctStacks();
  std::vector<storage::PendingStack> pending;
  std::vector<std::vector<std::string>> frames(distinct.size());
  for (size_t i = 0; i < distinct.size(); ++i) {
    for (const model::EbpfSymbol& s : distinct[i].stack) {
      frames[i].push_back(storage::EncodeEbpfFrame(s));
    }
    pending.push_back({storage::StackHasher::Of(frames[i]), &frames[i]});
  }
  std::vector<uint64_t> ids = *store.ResolveStacks(pending);
  std::mt19937 rng(11);
  std::vector<storage::StoredEbpfSample> block(static_cast<size_t>(per_upload));
  for (int64_t t = kStart; t < kStart + duration_ms; t += 5000) {
    for (const std::string& schedule : schedules) {
      for (int i = 0; i < per_upload; ++i) {
        const bool each_once = per_upload == 100;
        block[static_cast<size_t>(i)] = {
            0,
            ids[each_once ? static_cast<size_t>(i) : rng() % ids.size()],
            model::EbpfTargetType::kOnCpu,
            each_once ? 1 + static_cast<int64_t>(rng() % 50) : 1,
            0,
            0};
      }
      if (!store.AddSampleBlock(schedule, t, block).ok()) std::abort();
    }
  }
}

EbpfWorkload& Workload(const std::string& name, int schedules, int64_t duration_ms,
                       int per_upload) {
  EbpfWorkload& w = Workloads()[name];
  if (w.fixture) return w;
  w.fixture = std::make_unique<Fixture>(12000, name);
  Fixture& f = *w.fixture;
  for (int s = 0; s < schedules; ++s) w.schedules.push_back(absl::StrCat("schedule-", s));
  WriteEbpfUploads(*f.ebpf_store, w.schedules, duration_ms, per_upload);
  w.end_ms = kStart + duration_ms;
  w.samples = static_cast<double>(schedules) * static_cast<double>(duration_ms / 5000) * per_upload;
  w.raw_bytes = SampleFamilyBytes(*f.db);
  return w;
}

// Times analysisEBPFProfilingResult (COUNT) of `schedules` over [kStart, end_ms) through
// `query`, and the peak RSS of this process above its RSS before (rss_before_mb, peak_rss_mb).
void TimeEbpfAnalysis(benchmark::State& state, const QueryStack& query,
                      const std::vector<std::string>& schedules, int64_t end_ms) {
  ResetPeakRss();
  const int64_t rss_before_kb = StatusKb("VmRSS");
  std::string ids;
  for (const std::string& s : schedules)
    absl::StrAppend(&ids, ids.empty() ? "" : ",", "\"", s, "\"");
  const std::string body = absl::StrCat(
      R"({"query":"query($ids: [ID!]!, $r: [EBPFProfilingAnalyzeTimeRange!]!) { a: analysisEBPFProfilingResult(scheduleIdList: $ids, timeRanges: $r, aggregateType: COUNT) { tip trees { elements { id parentId symbol stackType dumpCount } } } }","variables":{"ids":[)",
      ids, R"(],"r":[{"start":)", kStart, R"(,"end":)", end_ms - 1, "}]}}");
  for (auto _ : state) {
    graphql::HttpResponse response = query.Post(body);
    if (response.status != 200 || response.body.find("\"errors\"") != std::string::npos ||
        response.body.find("\"tip\":null") == std::string::npos) {
      state.SkipWithError(response.body.substr(0, 200).c_str());
      break;
    }
  }
  state.counters["rss_before_mb"] = static_cast<double>(rss_before_kb) / 1024.0;
  state.counters["peak_rss_mb"] = static_cast<double>(StatusKb("VmHWM") - rss_before_kb) / 1024.0;
}

void RunEbpfAnalysis(benchmark::State& state, EbpfWorkload& w) {
  Fixture& f = *w.fixture;
  if (state.range(0) == 1 && !w.rolled) {
    f.clock.SetMillis(w.end_ms + 2 * storage::kEbpfRollupMinuteMs);
    auto stats = f.ebpf_store->RollUp(int64_t{1} << 40);
    if (!stats.ok() || stats->pending != 0) std::abort();
    w.rolled_bytes = SampleFamilyBytes(*f.db);
    w.rolled = true;
  }
  if (state.range(0) == 0 && w.rolled) {
    state.SkipWithError("the raw run must come first");
    return;
  }
  TimeEbpfAnalysis(state, *f.query, w.schedules, w.end_ms);
  state.counters["samples"] = w.samples;
  state.counters["sst_bytes_per_sample"] = static_cast<double>(w.raw_bytes) / w.samples;
  if (w.rolled) {
    state.counters["rollup_overhead_pct"] =
        100.0 * (static_cast<double>(w.rolled_bytes) - static_cast<double>(w.raw_bytes)) /
        static_cast<double>(w.raw_bytes);
  }
}

// SkyWalking's benchmark: 28,800 uploads of the 100 stacks, one schedule, every 5 s (40 h).
void BM_EbpfAnalyze(benchmark::State& state) {
  RunEbpfAnalysis(state, Workload("oap", 1, 28800LL * 5000, 100));
}
BENCHMARK(BM_EbpfAnalyze)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// The same on PostgreSQL (issue 16): written through PgEbpfStore into a throw-away cluster on
// this machine (its day partitions kept as a node keeps them), then VACUUM (ANALYZE) as
// autovacuum would have run; /0 read raw, /1 from roll-ups (RollUp after writing, then VACUUM
// again). The CPU column and the RSS counters are this process's alone (not the server
// backend's). `table_bytes_per_sample`: sh_ebpf_block's partitions with their indexes and
// TOAST, per sample.
struct PgEbpfWorkload {
  std::unique_ptr<PgFixture> fixture;
  absl::Status error;  // why there is no fixture
  std::vector<std::string> schedules = {"schedule-0"};
  double table_bytes = 0;
  bool rolled = false;
};

PgEbpfWorkload& PgWorkload() {
  static auto* workload = new PgEbpfWorkload;
  return *workload;
}

void BM_EbpfAnalyzePostgresql(benchmark::State& state) {
  PgEbpfWorkload* w = &PgWorkload();
  constexpr int64_t kUploads = 28800;
  constexpr int64_t kDurationMs = kUploads * 5000;
  if (w->fixture == nullptr && w->error.ok()) {
    absl::StatusOr<std::unique_ptr<PgFixture>> fixture = PgFixture::Create();
    if (fixture.ok()) {
      w->fixture = std::move(*fixture);
      WriteEbpfUploads(*w->fixture->ebpf_store, w->schedules, kDurationMs, 100);
      w->error = w->fixture->VacuumAnalyze();
      auto size = w->fixture->pool->Exec(
          "SELECT sum(pg_total_relation_size(inhrelid))::bigint FROM pg_inherits "
          "WHERE inhparent = 'sh_ebpf_block'::regclass");
      if (w->error.ok()) w->error = size.status();
      if (w->error.ok()) w->table_bytes = static_cast<double>(size->Int64(0, 0));
    } else {
      w->error = fixture.status();
    }
  }
  if (!w->error.ok()) {
    state.SkipWithError(w->error.ToString().c_str());
    return;
  }
  if (state.range(0) == 1 && !w->rolled) {
    w->fixture->clock.SetMillis(kStart + kDurationMs + 2 * storage::kEbpfRollupMinuteMs);
    auto stats = w->fixture->ebpf_store->RollUp(int64_t{1} << 40);
    if (!stats.ok() || stats->pending != 0) {
      state.SkipWithError("RollUp failed or left minutes pending");
      return;
    }
    w->error = w->fixture->VacuumAnalyze();
    w->rolled = true;
  }
  if (state.range(0) == 0 && w->rolled) {
    state.SkipWithError("the raw run must come first");
    return;
  }
  TimeEbpfAnalysis(state, *w->fixture->query, w->schedules, kStart + kDurationMs);
  const double samples = kUploads * 100.0;
  state.counters["samples"] = samples;
  state.counters["table_bytes_per_sample"] = w->table_bytes / samples;
}
BENCHMARK(BM_EbpfAnalyzePostgresql)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Continuous profiling: `schedules` schedules × 1 h × 100 Hz (500 samples per 5 s upload).
void BM_EbpfAnalyzeContinuous(benchmark::State& state) {
  const int schedules = static_cast<int>(state.range(1));
  RunEbpfAnalysis(state, Workload(absl::StrCat("continuous", schedules), schedules, 3600'000, 500));
}
BENCHMARK(BM_EbpfAnalyzeContinuous)
    ->ArgNames({"rolled", "schedules"})
    ->Args({0, 100})
    ->Args({1, 100})
    ->Unit(benchmark::kMillisecond);

// A week of one schedule uploading its 100 stacks every 5 s.
void BM_EbpfAnalyzeWeek(benchmark::State& state) {
  RunEbpfAnalysis(state, Workload("week", 1, 7LL * 24 * 3600'000, 100));
}
BENCHMARK(BM_EbpfAnalyzeWeek)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Large trees: the branch of frame `d` of distinct stack `s` in a stack of `depth` frames (see
// the file comment): the leaf is the stack's own, the frames above it are shared by groups of
// 10, 100 and 1,000 stacks, the rest by all.
int64_t DistinctStackBranch(int64_t s, int d, int depth) {
  const int from_leaf = depth - 1 - d;
  if (from_leaf == 0) return s;
  if (from_leaf <= 3) return s / 10;
  if (from_leaf <= 9) return s / 100;
  if (from_leaf <= 19) return s / 1000;
  return 0;
}
constexpr int64_t kDistinctStacks = 100'000;

// Runs `body` against `fixture` in a loop, recording the response's size and the tree's nodes.
void RunLargeTree(benchmark::State& state, const Fixture& fixture, const std::string& body) {
  size_t bytes = 0;
  size_t nodes = 0;
  bool checked = false;
  ResetPeakRss();
  const int64_t rss_before_kb = StatusKb("VmRSS");
  for (auto _ : state) {
    graphql::HttpResponse response = fixture.Post(body);
    if (checked) continue;
    // The first response is checked and measured, outside the timing.
    state.PauseTiming();
    checked = true;
    if (response.status != 200 || response.body.find("\"errors\"") != std::string::npos) {
      state.SkipWithError(response.body.substr(0, 200).c_str());
      break;
    }
    bytes = response.body.size();
    for (size_t at = response.body.find("\"parentId\""); at != std::string::npos;
         at = response.body.find("\"parentId\"", at + 1)) {
      ++nodes;
    }
    state.ResumeTiming();
  }
  state.counters["stacks"] = static_cast<double>(kDistinctStacks);
  state.counters["nodes"] = static_cast<double>(nodes);
  state.counters["response_mb"] = static_cast<double>(bytes) / 1e6;
  state.counters["peak_rss_mb"] = static_cast<double>(StatusKb("VmHWM") - rss_before_kb) / 1024.0;
}

// Trace profiling: one segment whose 100,000 dumps each have their own stack of depth 60.
void BM_TraceProfileDistinctStacks(benchmark::State& state) {
  EbpfWorkload& w = Workloads()["trace-distinct"];
  if (!w.fixture) {
    w.fixture = std::make_unique<Fixture>(static_cast<int32_t>(kDistinctStacks), "distinct");
    Fixture* f = w.fixture.get();
    std::vector<model::ThreadSnapshot> batch;
    for (int64_t s = 0; s < kDistinctStacks; ++s) {
      std::vector<std::string> frames;
      for (int d = 0; d < 60; ++d) {
        frames.push_back(absl::StrCat("com.example.layer", d, ".Service",
                                      DistinctStackBranch(s, d, 60), ".call:", 100 + d));
      }
      batch.push_back(
          {"task", "segment-1", kStart + s * 10, static_cast<int32_t>(s), std::move(frames)});
      if (batch.size() == 10000) {
        if (!f->profiles->AddSnapshots(batch).ok()) std::abort();
        batch.clear();
      }
    }
    (void)f->db->Flush();
    (void)f->db->CompactAll();
  }
  RunLargeTree(
      state, *w.fixture,
      absl::StrCat(
          R"({"query":"query($q: [SegmentProfileAnalyzeQuery!]!) { analyze: getSegmentsProfileAnalyze(queries: $q) { tip trees { elements { id parentId codeSignature duration durationChildExcluded count } } } }","variables":{"q":[{"segmentId":"segment-1","timeRange":{"start":)",
          kStart, R"(,"end":)", kStart + kDistinctStacks * 10, "}}]}}"));
}
BENCHMARK(BM_TraceProfileDistinctStacks)->Unit(benchmark::kMillisecond);

// eBPF: one schedule, 100,000 On-CPU samples each with its own stack of depth 30 (user frames,
// the last 5 in the kernel), in 25 uploads 5 s apart.
void BM_EbpfAnalyzeDistinctStacks(benchmark::State& state) {
  EbpfWorkload& w = Workloads()["ebpf-distinct"];
  if (!w.fixture) {
    w.fixture = std::make_unique<Fixture>(12000, "ebpf-distinct");
    Fixture* f = w.fixture.get();
    constexpr int kDepth = 30;
    constexpr int64_t kPerUpload = 4000;
    std::vector<std::vector<std::string>> frames(kPerUpload);
    std::vector<storage::PendingStack> pending(kPerUpload);
    std::vector<storage::StoredEbpfSample> block(kPerUpload);
    for (int64_t first = 0; first < kDistinctStacks; first += kPerUpload) {
      for (int64_t i = 0; i < kPerUpload; ++i) {
        frames[i].clear();
        for (int d = 0; d < kDepth; ++d) {
          frames[i].push_back(storage::EncodeEbpfFrame(
              {absl::StrCat("func_", d, "_", DistinctStackBranch(first + i, d, kDepth)),
               d + 5 >= kDepth ? model::StackType::kKernel : model::StackType::kUser}));
        }
        pending[i] = {storage::StackHasher::Of(frames[i]), &frames[i]};
      }
      std::vector<uint64_t> ids = *f->ebpf_store->ResolveStacks(pending);
      for (int64_t i = 0; i < kPerUpload; ++i) {
        block[i] = {0, ids[i], model::EbpfTargetType::kOnCpu, 1 + i % 7, 0, 0};
      }
      if (!f->ebpf_store
               ->AddSampleBlock("schedule-distinct", kStart + first / kPerUpload * 5000, block)
               .ok()) {
        std::abort();
      }
    }
    (void)f->db->Flush();
    (void)f->db->CompactAll();
  }
  RunLargeTree(
      state, *w.fixture,
      absl::StrCat(
          R"({"query":"query($r: [EBPFProfilingAnalyzeTimeRange!]!) { a: analysisEBPFProfilingResult(scheduleIdList: [\"schedule-distinct\"], timeRanges: $r, aggregateType: COUNT) { tip trees { elements { id parentId symbol stackType dumpCount } } } }","variables":{"r":[{"start":)",
          kStart, R"(,"end":)", kStart + 3600'000, "}]}}"));
}
BENCHMARK(BM_EbpfAnalyzeDistinctStacks)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace stackhouse

// BENCHMARK_MAIN, closing the shared workloads' databases (and removing their directories)
// before static destruction.
int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  stackhouse::Workloads().clear();
  stackhouse::PgWorkload().fixture.reset();
  benchmark::Shutdown();
  return 0;
}
