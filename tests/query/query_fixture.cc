#include "query_fixture.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "metrics/metric_catalog.h"
#include "model/ids.h"
#include "model/trace.h"
#include "query/query_service.h"
#include "service/default_ui_templates.h"

namespace stackhouse::testing {
namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;

const std::string kOrder = "order-svc";
const std::string kBilling = "billing::api";

model::ServiceInstance Instance(const std::string& service, const std::string& name,
                                model::KeyValueList properties = {}) {
  model::ServiceInstance instance;
  instance.service_id = model::ServiceId(service);
  instance.name = name;
  instance.id = model::InstanceId(instance.service_id, name);
  instance.layer = model::kDefaultLayer;
  instance.properties = std::move(properties);
  return instance;
}

model::SegmentRef Ref(model::RefType type, const std::string& trace_id,
                      const std::string& parent_segment, int32_t parent_span,
                      const std::string& parent_service, const std::string& parent_instance,
                      const std::string& parent_endpoint) {
  model::SegmentRef ref;
  ref.type = type;
  ref.trace_id = trace_id;
  ref.parent_segment_id = parent_segment;
  ref.parent_span_id = parent_span;
  ref.parent_service = parent_service;
  ref.parent_instance = parent_instance;
  ref.parent_endpoint = parent_endpoint;
  ref.network_address = type == model::RefType::kCrossProcess ? "order-svc:8080" : "";
  return ref;
}

model::Span Span(int32_t id, int32_t parent, model::SpanType type, const std::string& operation,
                 int64_t start, int64_t end) {
  model::Span span;
  span.span_id = id;
  span.parent_span_id = parent;
  span.type = type;
  span.operation_name = operation;
  span.start_time_ms = start;
  span.end_time_ms = end;
  return span;
}

model::Segment Segment(const std::string& trace_id, const std::string& segment_id,
                       const std::string& instance, std::vector<model::Span> spans) {
  model::Segment segment;
  segment.trace_id = trace_id;
  segment.segment_id = segment_id;
  segment.service = kOrder;
  segment.service_instance = instance;
  segment.spans = std::move(spans);
  return segment;
}

// One thread dump per stack, `sequence` 0, 1, ... every 10 ms from `first_dump_ms`.
std::vector<model::ThreadSnapshot> Dumps(const std::string& task_id, const std::string& segment_id,
                                         int64_t first_dump_ms,
                                         const std::vector<std::vector<std::string>>& stacks) {
  std::vector<model::ThreadSnapshot> dumps;
  for (size_t i = 0; i < stacks.size(); ++i) {
    dumps.push_back({task_id, segment_id, first_dump_ms + static_cast<int64_t>(i) * 10,
                     static_cast<int32_t>(i), stacks[i]});
  }
  return dumps;
}

// A user-space stack from root-first symbol names.
// N0's request: booster-ui's example rules (graphql-protocol.md §3.5).
service::EbpfNetworkRequest NetworkRequest(const std::string& instance_id) {
  model::NetworkSamplingRule errors;
  errors.when_5xx = true;
  errors.settings = model::NetworkCollectSettings{true, std::nullopt, true, std::nullopt};
  model::NetworkSamplingRule slow_api = errors;
  slow_api.uri_regex = "/api/.*";
  slow_api.min_duration_ms = 100;
  slow_api.when_4xx = true;
  slow_api.when_5xx = false;
  return service::EbpfNetworkRequest{instance_id, {errors, slow_api}};
}

std::vector<model::EbpfSymbol> User(const std::vector<std::string>& names) {
  std::vector<model::EbpfSymbol> stack;
  for (const std::string& name : names) stack.push_back({name, model::StackType::kUser});
  return stack;
}

service::ReportedProcess Process(model::DetectType type, const std::string& layer,
                                 const std::string& service, const std::string& instance,
                                 const std::string& name, std::vector<std::string> labels,
                                 model::KeyValueList properties) {
  service::ReportedProcess p;
  p.detect_type = type;
  p.layer = layer;
  p.service_name = service;
  p.instance_name = instance;
  p.process_name = name;
  p.labels = std::move(labels);
  p.properties = std::move(properties);
  return p;
}

// The relation rows of FIXTURE.md ("Process topology").
std::vector<metrics::RelationRow> RelationRows() {
  constexpr int64_t k2200 = kFixtureNow - 13 * kMinute - 20 * kSecond;
  const std::string pod1 = model::InstanceId(model::ServiceId("order-svc"), "pod-1");
  const std::string pod2 = model::InstanceId(model::ServiceId("order-svc"), "pod-2");
  const std::string java = model::ProcessId("java", pod1);
  const std::string envoy = model::ProcessId("envoy", pod1);
  const std::string mysql = model::ProcessId("mysql.default:3306", pod1);
  const std::string gone = std::string(64, 'e');  // never registered
  return {
      // java → mysql, client side: tcp first, then http (sourceComponents keeps the first).
      {pod1, java, mysql, false, 110, k2200},
      {pod1, java, mysql, false, 49, k2200 + kMinute},
      // envoy → java seen from both ends: https (46) over http (45) in one minute's row.
      {pod1, envoy, java, false, 49, k2200},
      {pod1, envoy, java, true, 49, k2200},
      {pod1, envoy, java, true, 129, k2200},
      {pod1, envoy, java, true, 130, k2200 + 2 * kMinute},
      // A peer whose process cannot be loaded: its call is left out.
      {pod1, java, gone, false, 110, k2200},
      // Another instance, and a minute outside every case's duration.
      {pod2, java, mysql, false, 110, k2200},
      {pod1, mysql, java, true, 110, k2200 - 60 * kMinute},
  };
}

// The sampled requests of FIXTURE.md ("Sampled requests"), on relation java → mysql of pod-1.
std::vector<metrics::SampledTrace> SampledRequests() {
  constexpr int64_t k2200 = kFixtureNow - 13 * kMinute - 20 * kSecond;
  const std::string pod1 = model::InstanceId(model::ServiceId("order-svc"), "pod-1");
  const std::string relation = model::ProcessRelationId(
      model::ProcessId("java", pod1), model::ProcessId("mysql.default:3306", pod1));
  auto record = [&](const char* name, const char* uri, const char* trace, int64_t latency,
                    int64_t time) {
    metrics::SampledTrace t;
    t.record = name;
    t.entity_id = relation;
    t.value = {uri, trace, latency, time};
    return t;
  };
  return {
      record("sampled_slow_trace_record", "/orders", "trace-slow-1", 1200, k2200 + kMinute),
      record("sampled_slow_trace_record", "/orders/42", "trace-slow-2", 300, k2200 + 2 * kMinute),
      record("sampled_slow_trace_record", "/users", "trace-slow-3", 300, k2200 + 3 * kMinute),
      // Before every case's duration.
      record("sampled_slow_trace_record", "/old", "trace-slow-0", 9000, k2200 - 60 * kMinute),
      record("sampled_status_5xx_trace_record", "/pay", "trace-5xx-1", 40, k2200 + 4 * kMinute),
  };
}

// The metric rows of FIXTURE.md ("Metrics"): minute updates, which the store also adds to
// their hour and day rows. Minutes are offsets of the minute 22:00 (N − 13 min 20 s).
std::vector<metrics::MetricUpdate> MetricUpdates() {
  constexpr int64_t k2200 = kFixtureNow - 13 * kMinute - 20 * kSecond;
  const std::string pod1 = model::InstanceId(model::ServiceId(kOrder), "pod-1");
  const std::string java = model::ProcessId("java", pod1);
  const std::string relation =
      model::ProcessRelationId(java, model::ProcessId("mysql.default:3306", pod1));
  std::vector<metrics::MetricUpdate> updates;
  auto add = [&](const char* metric, const std::string& entity, const char* label, int minute,
                 metrics::Accumulator delta) {
    updates.push_back(
        {metrics::FindMetric(metric), entity, label, k2200 + minute * kMinute, std::move(delta)});
  };
  auto sum = [](int64_t v) { return metrics::Accumulator{v, 0, {}}; };
  auto avg = [](int64_t v) { return metrics::Accumulator{v, 1, {}}; };
  auto histogram = [](metrics::BucketCounts buckets) {
    return metrics::Accumulator{0, 0, std::move(buckets)};
  };
  add("process_relation_client_write_cpm", relation, "", 0, sum(42));
  add("process_relation_client_write_cpm", relation, "", 2, sum(5));
  add("process_relation_client_write_cpm", relation, "", 2, sum(7));
  add("process_relation_client_write_cpm", relation, "", 5, sum(9));
  add("process_relation_client_write_total_bytes", relation, "", 0, sum(2048));
  add("process_relation_client_write_total_bytes", relation, "", 1, sum(1536));
  add("process_relation_client_write_total_bytes", relation, "", 3, sum(1000));
  add("process_relation_client_write_exe_time_percentile", relation, "", 0,
      histogram({{0, 10}, {1000000, 40}, {2500000, 40}, {20000000, 10}}));
  add("process_relation_client_write_exe_time_percentile", relation, "", 1,
      histogram({{1500000, 3}}));
  add("process_relation_http1_response_status_cpm", relation, "500", 1, sum(2));
  add("process_relation_http1_response_status_cpm", relation, "200", 0, sum(90));
  add("process_relation_http1_response_status_cpm", relation, "200", 1, sum(75));
  add("continuous_profiling_process_cpu", java, "", 0, avg(255000));
  add("continuous_profiling_process_cpu", java, "", 0, avg(256000));
  add("continuous_profiling_process_cpu", java, "", 1, avg(123456));
  add("continuous_profiling_process_thread_count", java, "", -1, avg(30));
  add("continuous_profiling_process_thread_count", java, "", 0, avg(40));
  add("continuous_profiling_process_thread_count", java, "", 0, avg(42));
  add("continuous_profiling_process_thread_count", java, "", 2, avg(45));
  add("continuous_profiling_system_load", java, "", 0, avg(150));
  add("continuous_profiling_http_error_rate", java, "/orders", 0, avg(250));
  add("continuous_profiling_http_error_rate", java, "global", 0, avg(100));
  add("continuous_profiling_http_error_rate", java, "global", 1, avg(0));
  add("continuous_profiling_http_avg_response_time", java, "/orders", 0, avg(120));
  add("continuous_profiling_http_avg_response_time", java, "/users/{id},v2", 1, avg(80));
  return updates;
}

}  // namespace

absl::StatusOr<std::unique_ptr<QueryFixture>> QueryFixture::Create(const std::string& dir) {
  std::unique_ptr<QueryFixture> f(new QueryFixture());
  storage::DatabaseOptions options;
  options.data_dir = dir;
  options.record_ttl_ms = int64_t{f->config_.storage.record_ttl_days} * 24 * kHour;
  options.metrics_ttl_ms = int64_t{f->config_.storage.metrics_ttl_days} * 24 * kHour;
  f->At(-3 * kHour);
  SH_ASSIGN_OR_RETURN(f->db_, storage::Database::Open(options, &f->clock_));
  f->metadata_ = std::make_unique<storage::RocksMetadataStore>(f->db_.get(), &f->clock_);
  f->profiles_ = std::make_unique<storage::RocksProfileStore>(f->db_.get(), &f->clock_);
  f->segments_ = std::make_unique<storage::RocksSegmentStore>(f->db_.get());
  f->span_events_ = std::make_unique<storage::RocksSpanEventStore>(f->db_.get(), &f->clock_);
  f->ebpf_store_ = std::make_unique<storage::RocksEbpfStore>(f->db_.get(), &f->clock_);
  f->ui_template_store_ = std::make_unique<storage::RocksUiTemplateStore>(f->db_.get());
  SH_ASSIGN_OR_RETURN(f->metric_store_,
                      storage::RocksMetricStore::Open(f->db_.get(), absl::LocalTimeZone()));
  SH_ASSIGN_OR_RETURN(auto default_templates, service::DefaultUiTemplates());
  f->ui_templates_ = std::make_unique<service::UiTemplateService>(
      f->ui_template_store_.get(), &f->clock_, std::move(default_templates));
  SH_ASSIGN_OR_RETURN(f->profile_tasks_,
                      service::ProfileTaskService::Create(f->profiles_.get(), &f->clock_));
  SH_ASSIGN_OR_RETURN(f->ebpf_, service::EbpfService::Create(f->ebpf_store_.get(),
                                                             f->metadata_.get(), &f->clock_, {}));
  f->continuous_store_ = std::make_unique<storage::RocksContinuousPolicyStore>(f->db_.get());
  SH_ASSIGN_OR_RETURN(f->continuous_,
                      service::ContinuousService::Create(f->continuous_store_.get(), f->ebpf_.get(),
                                                         f->metadata_.get(), &f->clock_, {}));
  SH_RETURN_IF_ERROR(f->Seed());
  SH_RETURN_IF_ERROR(f->SeedContinuous());
  f->At(0);

  query::QueryDeps deps;
  deps.metadata = f->metadata_.get();
  deps.profile_tasks = f->profile_tasks_.get();
  deps.snapshots = f->profiles_.get();
  deps.segments = f->segments_.get();
  deps.span_events = f->span_events_.get();
  deps.ebpf = f->ebpf_.get();
  deps.ebpf_store = f->ebpf_store_.get();
  deps.continuous = f->continuous_.get();
  deps.ui_templates = f->ui_templates_.get();
  deps.metric_source = f->metric_store_.get();
  deps.metric_store = f->metric_store_.get();
  deps.clock = &f->clock_;
  deps.config = &f->config_;
  SH_ASSIGN_OR_RETURN(f->endpoint_, query::BuildQueryEndpoint(deps));
  return f;
}

graphql::HttpResponse QueryFixture::Post(absl::string_view body) const {
  graphql::HttpRequest request;
  request.method = "POST";
  request.content_type = "application/json";
  request.accept = "application/json";
  request.body = body;
  return endpoint_->Handle(request);
}

// The timeline of testdata/FIXTURE.md, in clock order (a heartbeat or a sighting stamps the
// record with the clock, so the order of writes is the order of time).
absl::Status QueryFixture::Seed() {
  const std::string order_id = model::ServiceId(kOrder);
  const std::string billing_id = model::ServiceId(kBilling);
  const model::ServiceInstance pod1 = Instance(kOrder, "pod-1",
                                               {{"language", "java"},
                                                {"ipv4", "10.0.0.11"},
                                                {"ipv4", "172.16.0.11"},
                                                {"hostname", "order-7d9f-abcde"},
                                                {"OS Name", "Linux"}});
  const model::ServiceInstance pod2 =
      Instance(kOrder, "pod-2", {{"language", "python"}, {"hostname", "order-7d9f-fghij"}});
  const model::ServiceInstance billing1 = Instance(kBilling, "billing-1");

  // -2h: the agents of order-svc register; POST:/orders is first seen.
  At(-2 * kHour);
  SH_RETURN_IF_ERROR(metadata_->UpsertInstance(kOrder, pod1, true));
  SH_RETURN_IF_ERROR(metadata_->UpsertInstance(kOrder, pod2, true));
  SH_RETURN_IF_ERROR(metadata_->TouchEndpoints(order_id, {"POST:/orders"}));
  // -100min: POST:/orders is last seen.
  At(-100 * kMinute);
  SH_RETURN_IF_ERROR(metadata_->TouchEndpoints(order_id, {"POST:/orders"}));

  // -60min: trace-profiling task P1; both instances fetch it, pod-1 finishes it at -49min.
  At(-60 * kMinute);
  service::ProfileTaskRequest p1;
  p1.service_id = order_id;
  p1.endpoint_name = "GET:/orders";
  p1.duration_minutes = 10;
  p1.min_duration_threshold_ms = 0;
  p1.dump_period_ms = 10;
  p1.max_sampling_count = 5;
  SH_ASSIGN_OR_RETURN(service::ProfileTaskCreation created, profile_tasks_->CreateTask(p1));
  if (!created.id) return absl::InternalError(*created.error_reason);
  const std::string p1_id = *created.id;
  At(-60 * kMinute + 30 * kSecond);
  profile_tasks_->Poll(kOrder, "pod-1", 0);
  At(-60 * kMinute + 45 * kSecond);
  profile_tasks_->Poll(kOrder, "pod-2", 0);

  // -59min: trace-b on pod-1: the profiled entry segment (spec §10.2 case B), a cross-thread
  // child, a later cross-process entry of the same trace (not profiled), and a segment of the
  // same trace on pod-2 (another instance: never merged).
  At(-59 * kMinute);
  const int64_t t1 = clock_.NowMillis();
  std::vector<model::Segment> segments;
  {
    model::Span entry = Span(0, -1, model::SpanType::kEntry, "GET:/orders", t1, t1 + 300);
    entry.layer = model::SpanLayer::kHttp;
    entry.component_id = 1;
    entry.refs = {Ref(model::RefType::kCrossProcess, "trace-b", "seg-gateway", 2, "gateway",
                      "gateway-1", "/api/orders")};
    entry.tags = {{"url", "http://order-svc:8080/orders"},
                  {"http.method", "GET"},
                  {"http.status_code", "200"}};
    model::Span local = Span(1, 0, model::SpanType::kLocal, "OrderService.list", t1 + 10, t1 + 280);
    model::Span exit = Span(2, 1, model::SpanType::kExit,
                            "Mysql/JDBC/PreparedStatement/executeQuery", t1 + 20, t1 + 120);
    exit.layer = model::SpanLayer::kDatabase;
    exit.component_id = 33;
    exit.peer = "mysql.default:3306";
    exit.is_error = true;
    exit.tags = {{"db.type", "sql"},
                 {"db.instance", "orders"},
                 {"db.statement", "SELECT * FROM orders WHERE user_id = ?"}};
    exit.logs = {{t1 + 119,
                  {{"event", "error"},
                   {"error.kind", "java.sql.SQLTimeoutException"},
                   {"message", "query timed out"}}}};
    segments.push_back(Segment("trace-b", "seg-b-entry", "pod-1", {entry, local, exit}));

    model::Span run =
        Span(0, -1, model::SpanType::kLocal, "Thread/OrderNotifier.run", t1 + 30, t1 + 200);
    run.refs = {Ref(model::RefType::kCrossThread, "trace-b", "seg-b-entry", 1, kOrder, "pod-1",
                    "GET:/orders")};
    model::Span notify = Span(1, 0, model::SpanType::kExit, "/notify", t1 + 40, t1 + 190);
    notify.layer = model::SpanLayer::kHttp;
    notify.component_id = 2;
    notify.peer = "notifier:8080";
    notify.tags = {{"http.method", "POST"}};
    segments.push_back(Segment("trace-b", "seg-b-async", "pod-1", {run, notify}));

    model::Span callback =
        Span(0, -1, model::SpanType::kEntry, "POST:/orders/callback", t1 + 400, t1 + 450);
    callback.layer = model::SpanLayer::kHttp;
    callback.component_id = 14;
    callback.refs = {Ref(model::RefType::kCrossProcess, "trace-b", "seg-billing-1", 1, kBilling,
                         "billing-1", "POST:/charge")};
    segments.push_back(Segment("trace-b", "seg-b-callback", "pod-1", {callback}));

    model::Span other = Span(0, -1, model::SpanType::kEntry, "GET:/orders", t1 + 500, t1 + 520);
    other.layer = model::SpanLayer::kHttp;
    other.component_id = 1;
    other.refs = {Ref(model::RefType::kCrossProcess, "trace-b", "seg-billing-1", 2, kBilling,
                      "billing-1", "POST:/charge")};
    segments.push_back(Segment("trace-b", "seg-b-pod2", "pod-2", {other}));
  }
  SH_RETURN_IF_ERROR(profiles_->AddSnapshots(
      Dumps(p1_id, "seg-b-entry", t1 + 5,
            {{"A", "B", "C"}, {"A", "B", "C", "A"}, {"A", "C", "A"}, {"A", "B", "C", "B"}})));

  // -58min: trace-c on pod-2, a single profiled entry segment (spec §10.2 case C).
  At(-58 * kMinute);
  const int64_t t2 = clock_.NowMillis();
  {
    model::Span entry = Span(0, -1, model::SpanType::kEntry, "GET:/orders", t2, t2 + 40);
    entry.layer = model::SpanLayer::kHttp;
    entry.component_id = 1;
    entry.tags = {{"http.method", "GET"}};
    segments.push_back(Segment("trace-c", "seg-c-entry", "pod-2", {entry}));
  }
  SH_RETURN_IF_ERROR(profiles_->AddSnapshots(
      Dumps(p1_id, "seg-c-entry", t2 + 5,
            {{"A", "B", "C"}, {"A", "B", "B", "C"}, {"A", "B", "B", "B"}, {"A", "C", "B"}})));
  std::vector<model::SegmentSummary> summaries;
  for (const model::Segment& segment : segments) {
    summaries.push_back(model::Summarize(segment, model::NameLimits{}));
  }
  SH_RETURN_IF_ERROR(segments_->AddSegments(segments, summaries));

  // -55min: pod-2's last heartbeat; Rover rover-1 registers the processes of pod-1.
  At(-55 * kMinute);
  SH_RETURN_IF_ERROR(metadata_->UpsertInstance(kOrder, pod2, false));
  const std::vector<service::ReportedProcess> pod1_processes = {
      Process(model::DetectType::kKubernetes, "K8S_SERVICE", kOrder, "pod-1", "java",
              {"mesh-application"},
              {{"support_ebpf_profiling", "true"},
               {"command_line", "java -jar /app/order.jar"},
               {"pid", "42"}}),
      Process(model::DetectType::kKubernetes, "K8S_SERVICE", kOrder, "pod-1", "envoy",
              {"mesh-envoy"},
              {{"support_ebpf_profiling", "true"},
               {"command_line", "envoy -c /etc/envoy/envoy.yaml"},
               {"pid", "43"}}),
      Process(model::DetectType::kKubernetes, "K8S_SERVICE", kOrder, "pod-1", "istio-agent",
              {"mesh-application", "sidecar"},
              {{"support_ebpf_profiling", "false"}, {"pid", "44"}}),
      Process(model::DetectType::kVirtual, "K8S_SERVICE", kOrder, "pod-1", "mysql.default:3306", {},
              {{"support_ebpf_profiling", "true"}}),
  };
  SH_RETURN_IF_ERROR(ebpf_->ReportProcesses("rover-1", pod1_processes).status());
  const std::string pod1_id = model::InstanceId(order_id, "pod-1");
  const std::string java = model::ProcessId("java", pod1_id);
  const std::string envoy = model::ProcessId("envoy", pod1_id);

  // -52min: eBPF task E0 (ON_CPU, processes labelled mesh-application, starting now).
  At(-52 * kMinute);
  service::EbpfFixedTimeRequest e0;
  e0.service_id = order_id;
  e0.process_labels = {"mesh-application"};
  e0.start_time_ms = 0;
  e0.duration_s = 120;
  e0.target_type = model::EbpfTargetType::kOnCpu;
  SH_ASSIGN_OR_RETURN(service::EbpfTaskCreation e0_created, ebpf_->CreateFixedTimeTask(e0));
  if (!e0_created.id) return absl::InternalError(*e0_created.error_reason);

  // -50min: eBPF task E1 (ON_CPU, all processes, 10 minutes); GET:/users is first seen.
  At(-50 * kMinute);
  const int64_t s1 = clock_.NowMillis();
  SH_RETURN_IF_ERROR(metadata_->TouchEndpoints(order_id, {"GET:/users"}));
  service::EbpfFixedTimeRequest e1;
  e1.service_id = order_id;
  e1.start_time_ms = s1;
  e1.duration_s = 600;
  e1.target_type = model::EbpfTargetType::kOnCpu;
  SH_ASSIGN_OR_RETURN(service::EbpfTaskCreation e1_created, ebpf_->CreateFixedTimeTask(e1));
  if (!e1_created.id) return absl::InternalError(*e1_created.error_reason);
  const std::string e1_id = *e1_created.id;

  // E1's schedules: java (spec §10.3 case G), envoy (case H), java again after a restart
  // (case I), and one of a process nobody reported (skipped by queryEBPFProfilingSchedules).
  struct Upload {
    int64_t time;  // offset from the task start
    const std::string* process;
    int64_t profiling_start;  // offset from the task start
    std::vector<std::string> stack;
    int64_t dump_count;
  };
  const std::string ghost = model::ProcessId("ghost", pod1_id);
  const std::vector<Upload> uploads = {
      {8000, &ghost, 7000, {"X"}, 1},
      {10000, &java, 5000, {"A", "B", "C"}, 3},
      {15000, &envoy, 6000, {"A", "B", "C"}, 2},
      {20000, &java, 5000, {"A", "B"}, 5},
      {25000, &envoy, 6000, {"A", "C", "B"}, 3},
      {30000, &java, 5000, {"A", "B"}, 3},
      {35000, &envoy, 6000, {"A", "B", "A"}, 4},
      {110000, &java, 100000, {"A", "B"}, 2},
      {120000, &java, 100000, {"A", "B", "B"}, 3},
      {130000, &java, 100000, {"A", "B", "B"}, 4},
      {140000, &java, 100000, {"A", "B", "B", "B"}, 5},
      {150000, &java, 100000, {"A", "B", "C"}, 6},
  };
  for (const Upload& upload : uploads) {
    At(s1 - kFixtureNow + upload.time);
    SH_ASSIGN_OR_RETURN(std::string schedule,
                        ebpf_->RecordSchedule(e1_id, *upload.process, s1 + upload.profiling_start,
                                              s1 + upload.time));
    model::EbpfSample sample;
    sample.upload_time_ms = s1 + upload.time;
    sample.target_type = model::EbpfTargetType::kOnCpu;
    sample.stack = User(upload.stack);
    sample.dump_count = upload.dump_count;
    SH_RETURN_IF_ERROR(ebpf_store_->AddSamples(schedule, sample.upload_time_ms, {sample}));
  }

  // -49min: pod-1 reports P1 finished.
  At(-49 * kMinute);
  SH_RETURN_IF_ERROR(profile_tasks_->ReportFinish(kOrder, "pod-1", p1_id));

  // -40min: billing::api's agent registers; POST:/charge is first seen.
  At(-40 * kMinute);
  SH_RETURN_IF_ERROR(metadata_->UpsertInstance(kBilling, billing1, true));
  SH_RETURN_IF_ERROR(metadata_->TouchEndpoints(billing_id, {"POST:/charge"}));
  // ... and network task N0 on pod-1 (every URI, 5xx; /api/ requests of 100 ms or more).
  SH_ASSIGN_OR_RETURN(service::EbpfTaskCreation n0,
                      ebpf_->CreateNetworkTask(NetworkRequest(pod1_id)));
  if (!n0.id) return absl::InternalError(*n0.error_reason);

  // -35min: eBPF task E2 (OFF_CPU, all processes, starting now) and java's schedule, with
  // kernel frames below the user ones.
  At(-35 * kMinute);
  const int64_t s2 = clock_.NowMillis();
  service::EbpfFixedTimeRequest e2;
  e2.service_id = order_id;
  e2.start_time_ms = 0;
  e2.duration_s = 300;
  e2.target_type = model::EbpfTargetType::kOffCpu;
  SH_ASSIGN_OR_RETURN(service::EbpfTaskCreation e2_created, ebpf_->CreateFixedTimeTask(e2));
  if (!e2_created.id) return absl::InternalError(*e2_created.error_reason);
  struct OffCpu {
    int64_t time;  // offset from the task start
    std::vector<std::string> user;
    std::vector<std::string> kernel;
    int64_t switches;
    int64_t duration_ns;
  };
  const std::vector<OffCpu> off_cpu = {
      {10000, {"main", "readLoop"}, {"sys_read", "schedule"}, 2, 5000000},
      {20000, {"main", "writeLoop"}, {"sys_write", "schedule"}, 1, 7000000},
      {30000, {"main", "readLoop"}, {"sys_read", "schedule"}, 3, 1000000},
  };
  for (const OffCpu& upload : off_cpu) {
    At(s2 - kFixtureNow + upload.time);
    SH_ASSIGN_OR_RETURN(std::string schedule,
                        ebpf_->RecordSchedule(*e2_created.id, java, s2 + 5000, s2 + upload.time));
    model::EbpfSample sample;
    sample.upload_time_ms = s2 + upload.time;
    sample.target_type = model::EbpfTargetType::kOffCpu;
    sample.stack = User(upload.user);
    for (const std::string& name : upload.kernel) {
      sample.stack.push_back({name, model::StackType::kKernel});
    }
    sample.switch_count = upload.switches;
    sample.duration_ns = upload.duration_ns;
    SH_RETURN_IF_ERROR(ebpf_store_->AddSamples(schedule, sample.upload_time_ms, {sample}));
  }

  // -30min 30s: N0's keep-alive in its last minute extends it to 20 minutes.
  At(-30 * kMinute - 30 * kSecond);
  SH_ASSIGN_OR_RETURN(std::optional<std::string> n0_refused, ebpf_->KeepNetworkTask(*n0.id));
  if (n0_refused) return absl::InternalError(*n0_refused);

  // -30min: trace-profiling task P2 (billing::api, starting at -25min); Rover rover-2 registers
  // pod-2's only process (never pinged again).
  At(-30 * kMinute);
  service::ProfileTaskRequest p2;
  p2.service_id = billing_id;
  p2.endpoint_name = "POST:/charge";
  p2.start_time_ms = kFixtureNow - 25 * kMinute;
  p2.duration_minutes = 5;
  p2.min_duration_threshold_ms = 100;
  p2.dump_period_ms = 20;
  p2.max_sampling_count = 9;
  SH_ASSIGN_OR_RETURN(created, profile_tasks_->CreateTask(p2));
  if (!created.id) return absl::InternalError(*created.error_reason);
  const std::string p2_id = *created.id;
  const service::ReportedProcess python =
      Process(model::DetectType::kVm, "OS_LINUX", kOrder, "pod-2", "python", {"batch"},
              {{"support_ebpf_profiling", "true"}, {"command_line", "python worker.py"}});
  SH_RETURN_IF_ERROR(ebpf_->ReportProcesses("rover-2", {python}).status());

  // -25min: Rover rover-3 registers billing::api's process (never pinged again), with 23
  // Kubernetes labels whose Gson JSON is longer than 1000 characters.
  At(-25 * kMinute);
  std::vector<std::string> billing_labels = {"payments"};
  for (int i = 1; i <= 23; ++i) {
    billing_labels.push_back(
        absl::StrCat("app.kubernetes.io/instance=billing-", i < 10 ? "0" : "", i));
  }
  const service::ReportedProcess billing_java =
      Process(model::DetectType::kKubernetes, "K8S_SERVICE", kBilling, "billing-1", "billing-java",
              billing_labels, {{"support_ebpf_profiling", "true"}});
  SH_RETURN_IF_ERROR(ebpf_->ReportProcesses("rover-3", {billing_java}).status());

  // -24min: 12,100 thread dumps of one P2 segment whose segment never arrived (spec §10.2
  // case F: more than the 12,000 analysed).
  At(-24 * kMinute);
  {
    std::vector<std::vector<std::string>> stacks;
    for (int i = 0; i < 12100; ++i) {
      std::vector<std::string> stack = {"java.lang.Thread.run: 840",
                                        "com.example.billing.ChargeService.charge: 57"};
      if (i % 2 == 1) stack.push_back("com.example.billing.FraudCheck.score: 112");
      stacks.push_back(std::move(stack));
    }
    SH_RETURN_IF_ERROR(
        profiles_->AddSnapshots(Dumps(p2_id, "seg-f-charge", clock_.NowMillis(), stacks)));
  }

  // -20min: trace-profiling task P3 (order-svc GET:/users, 5 minutes from now), eBPF task E3
  // (billing::api, label payments, starting at -15min); GET:/orders is first seen.
  At(-20 * kMinute);
  service::ProfileTaskRequest p3;
  p3.service_id = order_id;
  p3.endpoint_name = "GET:/users";
  p3.duration_minutes = 5;
  p3.min_duration_threshold_ms = 50;
  p3.dump_period_ms = 50;
  p3.max_sampling_count = 3;
  SH_ASSIGN_OR_RETURN(created, profile_tasks_->CreateTask(p3));
  if (!created.id) return absl::InternalError(*created.error_reason);
  service::EbpfFixedTimeRequest e3;
  e3.service_id = billing_id;
  e3.process_labels = {"payments"};
  e3.start_time_ms = kFixtureNow - 15 * kMinute;
  e3.duration_s = 60;
  e3.target_type = model::EbpfTargetType::kOnCpu;
  SH_ASSIGN_OR_RETURN(service::EbpfTaskCreation e3_created, ebpf_->CreateFixedTimeTask(e3));
  if (!e3_created.id) return absl::InternalError(*e3_created.error_reason);
  SH_RETURN_IF_ERROR(metadata_->TouchEndpoints(order_id, {"GET:/orders"}));

  // -10min .. -1min: more endpoint sightings, Rover's keep-alive of pod-1's processes (which
  // also adds the K8S_SERVICE layer to order-svc) and the agents' last heartbeats.
  At(-10 * kMinute);
  SH_RETURN_IF_ERROR(metadata_->TouchEndpoints(order_id, {"GET:/users"}));
  // -9min 30s: network task N1 on pod-1, 30 s left at N.
  At(-9 * kMinute - 30 * kSecond);
  SH_ASSIGN_OR_RETURN(service::EbpfTaskCreation n1,
                      ebpf_->CreateNetworkTask(service::EbpfNetworkRequest{pod1_id, {}}));
  if (!n1.id) return absl::InternalError(*n1.error_reason);
  At(-5 * kMinute);
  SH_RETURN_IF_ERROR(metadata_->TouchEndpoints(billing_id, {"GET:/balance"}));
  At(-2 * kMinute);
  SH_RETURN_IF_ERROR(metadata_->TouchEndpoints(billing_id, {"POST:/refund"}));
  SH_RETURN_IF_ERROR(ebpf_->KeepAlive("rover-1", pod1_processes));
  At(-1 * kMinute);
  SH_RETURN_IF_ERROR(metadata_->UpsertInstance(kOrder, pod1, false));
  SH_RETURN_IF_ERROR(metadata_->UpsertInstance(kBilling, billing1, false));
  SH_RETURN_IF_ERROR(metadata_->TouchEndpoints(order_id, {"GET:/orders"}));
  SH_RETURN_IF_ERROR(metric_store_->AddMetrics(MetricUpdates()));
  SH_RETURN_IF_ERROR(metric_store_->AddRelations(RelationRows()));
  SH_RETURN_IF_ERROR(metric_store_->AddSampledRecords(SampledRequests()));
  return SeedSampledTrace();
}

absl::Status QueryFixture::SeedSampledTrace() {
  // trace-slow-1 at 22:01 (its sampled request): java's GET:/orders in pod-1 calls
  // billing::api's POST:/charge, which Rover sampled on both sides.
  const int64_t t = kFixtureNow - 12 * kMinute - 20 * kSecond;
  model::Span entry = Span(0, -1, model::SpanType::kEntry, "GET:/orders", t, t + 1250);
  entry.layer = model::SpanLayer::kHttp;
  entry.component_id = 1;
  model::Span call = Span(1, 0, model::SpanType::kExit, "/charge", t + 20, t + 1220);
  call.layer = model::SpanLayer::kHttp;
  call.component_id = 2;
  call.peer = "billing:8080";
  model::Segment java = Segment("trace-slow-1", "seg-s1-java", "pod-1", {entry, call});
  model::Span charge = Span(0, -1, model::SpanType::kEntry, "POST:/charge", t + 25, t + 1210);
  charge.layer = model::SpanLayer::kHttp;
  charge.component_id = 1;
  charge.refs = {Ref(model::RefType::kCrossProcess, "trace-slow-1", "seg-s1-java", 1, kOrder,
                     "pod-1", "GET:/orders")};
  model::Segment billing = Segment("trace-slow-1", "seg-s1-billing", "billing-1", {charge});
  billing.service = kBilling;
  std::vector<model::Segment> segments = {java, billing};
  std::vector<model::SegmentSummary> summaries;
  for (const model::Segment& segment : segments) {
    summaries.push_back(model::Summarize(segment, model::NameLimits{}));
  }
  SH_RETURN_IF_ERROR(segments_->AddSegments(segments, summaries));

  const int64_t s = t / 1000;
  auto event = [&](const char* name, int64_t start_ms, int64_t end_ms, const char* segment,
                   const char* span, model::KeyValueList tags) {
    model::SpanAttachedEvent e;
    e.start_seconds = s + start_ms / 1000;
    e.start_nanos = static_cast<int32_t>(start_ms % 1000) * 1000000 + 123;
    e.event = name;
    e.end_seconds = s + end_ms / 1000;
    e.end_nanos = static_cast<int32_t>(end_ms % 1000) * 1000000;
    e.tags = std::move(tags);
    e.trace_id = "trace-slow-1";
    e.segment_id = segment;
    e.span_id = span;
    return e;
  };
  const std::string request =
      "POST /charge HTTP/1.1\r\nHost: billing:8080\r\nsw8: 1-dHJhY2Utc2xvdy0x-...\r\n\r\n"
      "{\"order\":42}";
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
  std::vector<model::SpanAttachedEvent> events = {
      // Later in time, listed first: the store orders by start time.
      event("HTTP Response Sampling", 1200, 1201, "seg-s1-billing", "0",
            {{"data_size", "55B"},
             {"data_content", response},
             {"data_direction", "outbound"},
             {"data_type", "response"},
             {"connection_role", "server"},
             {"service_name", kBilling},
             {"service_instance_name", "billing-1"},
             {"process_name", "billing-java"}}),
      // The request billing received names java's exit span: it goes to billing's entry span,
      // and so does every later event naming that exit span.
      event("HTTP Request Sampling", 30, 31, "seg-s1-java", "1",
            {{"data_size", "98B"},
             {"data_content", request},
             {"data_direction", "inbound"},
             {"data_type", "request"},
             {"connection_role", "server"},
             {"service_name", kBilling},
             {"service_instance_name", "billing-1"},
             {"process_name", "billing-java"}}),
      event("Syscall Read", 31, 31, "seg-s1-java", "1",
            {{"package_size", "98B"},
             {"package_count", "1"},
             {"network_name", "eth0"},
             {"network_index", "2"},
             {"avg_rtt_time", "1234ns"}}),
      // No such span, a span id that is not decimal: left out.
      event("Syscall Write", 40, 40, "seg-s1-java", "7", {}),
      event("Syscall Write", 41, 41, "seg-s1-java", "x1", {}),
  };
  model::SpanAttachedEvent counted = event("Syscall Write", 21, 22, "seg-s1-java", "0", {});
  counted.summary = {{"package_count", 3}};
  events.push_back(counted);
  model::SpanAttachedEvent zipkin = event("HTTP Request Sampling", 20, 21, "seg-s1-java", "1", {});
  zipkin.zipkin = true;  // booster-ui shows SkyWalking traces only
  events.push_back(zipkin);
  return span_events_->AddEvents(events);
}

// Written after the rest of the timeline: these records are stamped with their own times only.
absl::Status QueryFixture::SeedContinuous() {
  const std::string order_id = model::ServiceId(kOrder);
  auto report = [&](int64_t at, const std::string& service, const std::string& instance,
                    const std::string& process, model::EbpfTargetType target,
                    std::vector<service::ReportedCause> causes) -> absl::Status {
    At(at);
    service::ContinuousReport r;
    r.layer = "K8S_SERVICE";
    r.service_name = service;
    r.instance_name = instance;
    r.process_name = process;
    r.duration_s = 600;
    r.target = target;
    r.causes = std::move(causes);
    if (target == model::EbpfTargetType::kNetwork) r.sampling_uri_regexes = {"/orders"};
    return continuous_->ReportTask(r).status();
  };
  auto single = [](model::ContinuousMonitorType type, double threshold, double current) {
    service::ReportedCause c;
    c.type = type;
    c.threshold = threshold;
    c.current = current;
    return c;
  };
  auto uri = [](model::ContinuousMonitorType type, bool regex, std::string text, double threshold,
                double current) {
    service::ReportedCause c;
    c.type = type;
    c.uri = true;
    c.uri_regex = regex;
    c.uri_text = std::move(text);
    c.threshold = threshold;
    c.current = current;
    return c;
  };
  using M = model::ContinuousMonitorType;
  // -50h: C0, java ON_CPU (older than the 48 h the trigger counts cover).
  SH_RETURN_IF_ERROR(report(-50 * kHour, kOrder, "pod-1", "java", model::EbpfTargetType::kOnCpu,
                            {single(M::kProcessCpu, 80, 99)}));
  // -40min: order-svc's policy.
  At(-40 * kMinute);
  model::ContinuousCheckItem cpu{M::kProcessCpu, "80", 10, 3, std::nullopt, std::nullopt};
  model::ContinuousCheckItem errors{
      M::kHttpErrorRate, "10", 10, 3, std::vector<std::string>{"/orders", "/users"}, std::nullopt};
  model::ContinuousCheckItem latency{M::kHttpAvgResponseTime, "500", 10, 5, std::nullopt,
                                     std::string("/api/.*")};
  SH_ASSIGN_OR_RETURN(
      auto refused,
      continuous_->SetPolicy(order_id, {{model::EbpfTargetType::kNetwork, {latency, errors}},
                                        {model::EbpfTargetType::kOnCpu, {cpu}}}));
  if (refused) return absl::InternalError(*refused);
  // -30min: C1, java ON_CPU.
  SH_RETURN_IF_ERROR(report(-30 * kMinute, kOrder, "pod-1", "java", model::EbpfTargetType::kOnCpu,
                            {single(M::kProcessCpu, 80, 85.234)}));
  // -20min: C2, billing-java OFF_CPU (billing::api has no policy).
  SH_RETURN_IF_ERROR(report(-20 * kMinute, kBilling, "billing-1", "billing-java",
                            model::EbpfTargetType::kOffCpu, {single(M::kSystemLoad, 5, 7.9)}));
  // -12min: C3, java ON_CPU with two causes.
  SH_RETURN_IF_ERROR(
      report(-12 * kMinute, kOrder, "pod-1", "java", model::EbpfTargetType::kOnCpu,
             {single(M::kProcessCpu, 80, 92.5), single(M::kProcessThreadCount, 100, 120.7)}));
  // -8min: C4, envoy NETWORK with URI causes.
  SH_RETURN_IF_ERROR(report(-8 * kMinute, kOrder, "pod-1", "envoy", model::EbpfTargetType::kNetwork,
                            {uri(M::kHttpErrorRate, false, "/orders", 10, 12.5),
                             uri(M::kHttpAvgResponseTime, true, "/api/.*", 500, 512.005)}));
  At(0);
  return absl::OkStatus();
}

}  // namespace stackhouse::testing
