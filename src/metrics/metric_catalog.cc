#include "metrics/metric_catalog.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_replace.h"

namespace stackhouse::metrics {
namespace {

using F = MetricFunction;

// One row of a rule file. `{side}` in a row with `both_sides` stands for client and server (the
// process role that measured); such a row is two metrics.
struct Row {
  const char* name;
  const char* meter;
  F function;
  bool both_sides;
  const char* label;
};

// network-profiling rules (addendum §2.2): process_relation_ + name, from rover_net_p_ + meter.
constexpr Row kNetworkRows[] = {
    {"{side}_write_cpm", "{side}_write_counts_counter", F::kSumPerMin, true, ""},
    {"{side}_read_cpm", "{side}_read_counts_counter", F::kSumPerMin, true, ""},
    {"{side}_write_total_bytes", "{side}_write_bytes_counter", F::kSumPerMin, true, ""},
    {"{side}_read_total_bytes", "{side}_read_bytes_counter", F::kSumPerMin, true, ""},
    {"{side}_write_avg_exe_time", "{side}_write_exe_time_counter", F::kAvg, true, ""},
    {"{side}_read_avg_exe_time", "{side}_read_exe_time_counter", F::kAvg, true, ""},
    {"{side}_write_avg_rtt_time", "{side}_write_rtt_exe_time_counter", F::kAvg, true, ""},
    {"{side}_connect_cpm", "{side}_connect_counts_counter", F::kSumPerMin, true, ""},
    {"{side}_close_cpm", "{side}_close_counts_counter", F::kSumPerMin, true, ""},
    {"{side}_retransmit_cpm", "{side}_retransmit_counts_counter", F::kSumPerMin, true, ""},
    {"{side}_drop_cpm", "{side}_drop_counts_counter", F::kSumPerMin, true, ""},
    // The OAP names the client's without "avg_".
    {"client_connect_exe_time", "client_connect_exe_time_counter", F::kAvg, false, ""},
    {"server_connect_avg_exe_time", "server_connect_exe_time_counter", F::kAvg, false, ""},
    {"{side}_close_avg_exe_time", "{side}_close_exe_time_counter", F::kAvg, true, ""},
    {"{side}_write_rtt_time_percentile", "{side}_write_rtt_histogram", F::kHistogramPercentile,
     true, ""},
    {"{side}_write_exe_time_percentile", "{side}_write_exe_time_histogram", F::kHistogramPercentile,
     true, ""},
    {"{side}_read_exe_time_percentile", "{side}_read_exe_time_histogram", F::kHistogramPercentile,
     true, ""},
    {"http1_request_cpm", "http1_request_counter", F::kSumPerMin, false, ""},
    {"http1_response_status_cpm", "http1_response_status_counter", F::kSumPerMin, false, "code"},
    {"http1_request_package_size", "http1_request_package_size_avg", F::kAvg, false, ""},
    {"http1_response_package_size", "http1_response_package_size_avg", F::kAvg, false, ""},
    {"http1_request_package_size_percentile", "http1_request_package_size_histogram",
     F::kHistogramPercentile, false, ""},
    {"http1_response_package_size_percentile", "http1_response_package_size_histogram",
     F::kHistogramPercentile, false, ""},
    {"http1_client_duration", "http1_client_duration_avg", F::kAvg, false, ""},
    {"http1_server_duration", "http1_server_duration_avg", F::kAvg, false, ""},
    {"http1_client_duration_percentile", "http1_client_duration_histogram", F::kHistogramPercentile,
     false, ""},
    {"http1_server_duration_percentile", "http1_server_duration_histogram", F::kHistogramPercentile,
     false, ""},
};

// continuous-profiling rules (addendum §2.3): averaged per data set, then scaled.
struct ContinuousRow {
  const char* name;
  const char* meter;
  double scale;
  const char* label;
};
constexpr ContinuousRow kContinuousRows[] = {
    {"continuous_profiling_process_cpu", "rover_con_p_process_cpu", 10000, ""},
    {"continuous_profiling_process_thread_count", "rover_con_p_process_thread_count", 1, ""},
    {"continuous_profiling_system_load", "rover_con_p_system_load", 100, ""},
    {"continuous_profiling_http_error_rate", "rover_con_p_http_error_rate", 100, "uri"},
    {"continuous_profiling_http_avg_response_time", "rover_con_p_http_avg_response_time", 1, "uri"},
};

constexpr absl::string_view kSampledRecords[] = {"sampled_slow_trace_record",
                                                 "sampled_status_4xx_trace_record",
                                                 "sampled_status_5xx_trace_record"};

std::vector<MetricDefinition> BuildCatalog() {
  std::vector<MetricDefinition> out;
  for (const Row& row : kNetworkRows) {
    for (const char* side : {"client", "server"}) {
      MetricDefinition d;
      d.name = absl::StrReplaceAll(std::string("process_relation_") + row.name, {{"{side}", side}});
      d.meter = absl::StrReplaceAll(std::string("rover_net_p_") + row.meter, {{"{side}", side}});
      d.function = row.function;
      d.scope = MetricScope::kProcessRelation;
      d.label = row.label;
      out.push_back(std::move(d));
      if (!row.both_sides) break;
    }
  }
  for (const ContinuousRow& row : kContinuousRows) {
    MetricDefinition d;
    d.name = row.name;
    d.meter = row.meter;
    d.function = MetricFunction::kAvg;
    d.scope = MetricScope::kProcess;
    d.average_in_data_set = true;
    d.scale = row.scale;
    d.label = row.label;
    out.push_back(std::move(d));
  }
  return out;
}

struct Index {
  std::vector<MetricDefinition> catalog = BuildCatalog();
  absl::flat_hash_map<std::string, const MetricDefinition*> by_name;
  absl::flat_hash_map<std::string, std::vector<const MetricDefinition*>> by_meter;
  Index() {
    for (const MetricDefinition& d : catalog) {
      by_name[d.name] = &d;
      by_meter[d.meter].push_back(&d);
    }
  }
};

const Index& TheIndex() {
  static const Index* index = new Index();
  return *index;
}

}  // namespace

const std::vector<MetricDefinition>& Catalog() { return TheIndex().catalog; }

const MetricDefinition* FindMetric(absl::string_view name) {
  const auto& by_name = TheIndex().by_name;
  auto it = by_name.find(name);
  return it == by_name.end() ? nullptr : it->second;
}

const std::vector<const MetricDefinition*>& MetricsOfMeter(absl::string_view meter) {
  static const std::vector<const MetricDefinition*> kNone;
  const auto& by_meter = TheIndex().by_meter;
  auto it = by_meter.find(meter);
  return it == by_meter.end() ? kNone : it->second;
}

bool IsSampledRecord(absl::string_view name) {
  for (absl::string_view record : kSampledRecords) {
    if (name == record) return true;
  }
  return false;
}

}  // namespace stackhouse::metrics
