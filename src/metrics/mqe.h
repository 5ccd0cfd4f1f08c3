#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "metrics/accumulator.h"
#include "metrics/metric_catalog.h"

// SkyWalking's metrics query expressions (MQE) as far as the profiling dashboards and the
// dashboards hosting them need them (addendum §1.6–1.8): a metric name with an optional label
// selector (`m{p='50,99'}`), `top_n(record, N, ASC|DES)` over sampled records, the aggregations
// avg, sum, max, min and latest, `+ - * /` between expressions and numbers, and parentheses.
// Every problem is reported in ExpressionResult::error, never as a failed call. Thread-safe
// (stateless); the MetricSource decides its own thread-safety.
namespace stackhouse::metrics {

enum class ResultType { kUnknown, kSingleValue, kTimeSeriesValues, kSortedList, kRecordList };

// The GraphQL enum value of `type` (UNKNOWN, SINGLE_VALUE, ...).
const char* ResultTypeName(ResultType type);

struct MqeValue {
  std::optional<std::string> id;        // bucket start (epoch ms) or, for records, the uri
  std::optional<double> value;          // null: no row in the bucket
  std::optional<std::string> trace_id;  // records only
};

struct MqeSeries {
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by key
  std::vector<MqeValue> values;
};

struct ExpressionResult {
  ResultType type = ResultType::kUnknown;
  std::vector<MqeSeries> results;
  std::optional<std::string> error;
};

enum class Step { kMinute, kHour, kDay };

// The buckets an expression is evaluated over: every step bucket from the duration's start to
// its end inclusive, as epoch-ms bucket starts in the server's time zone.
struct TimeBuckets {
  Step step = Step::kMinute;
  std::vector<int64_t> starts_ms;
};

// Minutes in one bucket of `step` (1, 60, 1440).
int MinutesOf(Step step);

// The entity of a query, as booster-ui sends it (absent fields are nullopt).
struct MqeEntity {
  std::optional<std::string> service_name;
  std::optional<bool> normal;
  std::optional<std::string> service_instance_name;
  std::optional<std::string> process_name;
  std::optional<std::string> dest_service_name;
  std::optional<bool> dest_normal;
  std::optional<std::string> dest_service_instance_name;
  std::optional<std::string> dest_process_name;
};

// The entity id of `entity` for metrics of `scope` (addendum §1.6), or nullopt when the entity
// lacks a field that scope needs.
std::optional<std::string> EntityId(const MqeEntity& entity, MetricScope scope);

// One stored row read back: the accumulated row of one label value in one bucket.
struct LabeledRows {
  std::string label_value;  // "" for a metric without a kept label
  // One entry per TimeBuckets::starts_ms; nullopt when the bucket has no row.
  std::vector<std::optional<Accumulator>> rows;
};

// A sampled slow/error HTTP request (addendum §3.1).
struct SampledRecord {
  std::string uri;
  std::string trace_id;
  int64_t latency_ms = 0;
  int64_t timestamp_ms = 0;
};

// Where an evaluation reads rows. Implemented over the metric store.
class MetricSource {
 public:
  virtual ~MetricSource() = default;

  // The rows of `metric` for `entity_id` in each bucket of `buckets`, one LabeledRows per label
  // value present in any of them.
  virtual absl::StatusOr<std::vector<LabeledRows>> ReadRows(const MetricDefinition& metric,
                                                            absl::string_view entity_id,
                                                            const TimeBuckets& buckets) = 0;

  // At most `limit` records of `record` for relation `entity_id` stamped in [start_ms, end_ms),
  // by latency (highest first unless `ascending`).
  virtual absl::StatusOr<std::vector<SampledRecord>> TopRecords(absl::string_view record,
                                                                absl::string_view entity_id,
                                                                int64_t start_ms, int64_t end_ms,
                                                                int limit, bool ascending) = 0;
};

// Expressions longer than this are refused (with an error naming the limit).
inline constexpr size_t kMaxExpressionBytes = 4096;

// Evaluates `expression`. Storage errors also come back in `error`, and so does a null `source`
// once the expression needs to read a metric or record.
ExpressionResult EvaluateExpression(absl::string_view expression, const MqeEntity& entity,
                                    const TimeBuckets& buckets, MetricSource* source);

// `value` as the OAP formats it (Java DecimalFormat default, grouping off): at most 3 fraction
// digits, half-even, no trailing zeros, no exponent ("12", "0.5", "1234.568").
std::string FormatMqeValue(double value);

}  // namespace stackhouse::metrics
