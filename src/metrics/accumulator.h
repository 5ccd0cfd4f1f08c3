#pragma once

#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include "metrics/metric_catalog.h"

// What one metric row (one metric, entity, label value and time bucket) keeps, and the value it
// has (addendum §2.1). Rows only ever add: two accumulators of one row merge by adding every
// field, and an hour or day row is the merge of its minute rows, which is what makes per-bucket
// accumulation durable and order-free. Plain values; thread-compatible.
namespace stackhouse::metrics {

// Histogram bucket counts: bucket key (lower bound) → count, each key once, in ascending key
// order. A sorted vector rather than a tree: a row's 10–30 buckets are one allocation, and
// merging two rows of one bucket layout (what every report of a meter has) is one pass. Counts
// add saturating.
class BucketCounts {
 public:
  using value_type = std::pair<int64_t, int64_t>;
  using const_iterator = std::vector<value_type>::const_iterator;

  BucketCounts() = default;
  // In any order; counts of a repeated key add up.
  BucketCounts(std::initializer_list<value_type> counts);

  const_iterator begin() const { return counts_.begin(); }
  const_iterator end() const { return counts_.end(); }
  size_t size() const { return counts_.size(); }
  bool empty() const { return counts_.empty(); }
  void reserve(size_t n) { counts_.reserve(n); }

  // Adds `count` to bucket `key` (cheapest when keys come in ascending order).
  void Add(int64_t key, int64_t count);
  // Adds every bucket of `other`.
  void Merge(const BucketCounts& other);

  bool operator==(const BucketCounts& other) const = default;

 private:
  std::vector<value_type> counts_;
};

struct Accumulator {
  int64_t sum = 0;       // kSumPerMin: total; kAvg: summation
  int64_t count = 0;     // kAvg: number of values
  BucketCounts buckets;  // kHistogramPercentile: bucket key (lower bound) → count

  // Adds `other` field by field (saturating: an absurd meter cannot wrap a row around).
  void Merge(const Accumulator& other);
  bool operator==(const Accumulator& other) const = default;
};

// The value the OAP writes for one evaluation result `v` of a rule: v <= 0 → 0 (NaN too),
// 0 < v < 1 → 1, else Math.round(v) (half up), saturated to the int64 range.
int64_t RoundMeterValue(double v);

// The value of a kSumPerMin or kAvg row in a bucket of `minutes` minutes (1, 60 or 1440).
int64_t RowValue(MetricFunction function, const Accumulator& row, int minutes);

// The percentile values of a kHistogramPercentile row, one per kPercentileRanks entry, in that
// order: total = Σ counts; total <= 0 → 0; else the key of the first bucket (ascending) where the
// cumulative count reaches round(total · p / 100).
std::vector<std::pair<int, int64_t>> RowPercentiles(const Accumulator& row);

}  // namespace stackhouse::metrics
