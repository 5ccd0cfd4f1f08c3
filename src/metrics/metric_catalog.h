#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

// The metrics Stackhouse computes from meters, as data: one row per metric with its input meter,
// function, scale, kept label and entity (addendum §2.2 network profiling, always on; §2.3
// continuous profiling). Immutable; thread-safe.
namespace stackhouse::metrics {

// How a metric's rows accumulate and what value a row has (addendum §2.1).
enum class MetricFunction {
  kSumPerMin,            // total += v; value = total / minutes in the bucket (integer division)
  kAvg,                  // summation += v, count += 1; value = summation / count (0 → 1 if > 0)
  kHistogramPercentile,  // bucket counts summed per key; value per rank p (labeled p)
};

enum class MetricScope {
  kProcess,          // entity: one process (continuous profiling)
  kProcessRelation,  // entity: client process → server process (network profiling)
};

struct MetricDefinition {
  std::string name;   // e.g. process_relation_client_write_cpm
  std::string meter;  // the input meter, e.g. rover_net_p_client_write_counts_counter
  MetricFunction function = MetricFunction::kSumPerMin;
  MetricScope scope = MetricScope::kProcessRelation;
  // Within one data set, samples of one group are summed (the network rules' MAL `sum(by)`) or,
  // when true, averaged (the continuous rules' `avg(by)`); the result is multiplied by `scale`.
  bool average_in_data_set = false;
  double scale = 1;
  // The one reported label kept as a series label ("code", "uri"), or empty.
  std::string label;

  // Labeled metrics answer one series per label value (percentiles: per rank p).
  bool labeled() const {
    return !label.empty() || function == MetricFunction::kHistogramPercentile;
  }
};

// The percentile ranks of every kHistogramPercentile metric, as the OAP computes them.
inline constexpr int kPercentileRanks[] = {50, 75, 90, 95, 99};

// Every metric: 42 process_relation_* and 5 continuous_profiling_*.
const std::vector<MetricDefinition>& Catalog();

// The metric named `name`, or nullptr.
const MetricDefinition* FindMetric(absl::string_view name);

// The metrics computed from meter `meter` (empty for a meter nobody uses).
const std::vector<const MetricDefinition*>& MetricsOfMeter(absl::string_view meter);

// The sampled-record names (network profiling's slow / 4xx / 5xx HTTP requests), read only
// through MQE's top_n.
bool IsSampledRecord(absl::string_view name);

}  // namespace stackhouse::metrics
