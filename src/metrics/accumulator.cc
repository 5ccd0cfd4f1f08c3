#include "metrics/accumulator.h"

#include <cmath>
#include <limits>

namespace stackhouse::metrics {
namespace {

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return out;
}

}  // namespace

void Accumulator::Merge(const Accumulator& other) {
  sum = SaturatingAdd(sum, other.sum);
  count = SaturatingAdd(count, other.count);
  for (const auto& [key, n] : other.buckets) {
    int64_t& mine = buckets[key];
    mine = SaturatingAdd(mine, n);
  }
}

int64_t RoundMeterValue(double v) {
  if (!(v > 0)) return 0;  // also NaN
  if (v < 1) return 1;
  // 2^63 as a double: anything at or above it saturates.
  if (v >= 9223372036854775808.0) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(std::floor(v + 0.5));
}

int64_t RowValue(MetricFunction function, const Accumulator& row, int minutes) {
  switch (function) {
    case MetricFunction::kSumPerMin:
      return minutes > 0 ? row.sum / minutes : row.sum;
    case MetricFunction::kAvg: {
      if (row.count <= 0) return 0;
      int64_t value = row.sum / row.count;
      return value == 0 && row.sum > 0 ? 1 : value;
    }
    case MetricFunction::kHistogramPercentile:
      break;
  }
  return 0;
}

std::vector<std::pair<int, int64_t>> RowPercentiles(const Accumulator& row) {
  int64_t total = 0;
  for (const auto& [key, n] : row.buckets) total = SaturatingAdd(total, n);
  std::vector<std::pair<int, int64_t>> out;
  for (int rank : kPercentileRanks) {
    int64_t value = 0;
    if (total > 0) {
      // Math.round of a float: half up.
      const double roof = std::floor(static_cast<double>(total) * rank / 100.0 + 0.5);
      int64_t cumulative = 0;
      for (const auto& [key, n] : row.buckets) {
        cumulative = SaturatingAdd(cumulative, n);
        if (static_cast<double>(cumulative) >= roof) {
          value = key;
          break;
        }
      }
    }
    out.emplace_back(rank, value);
  }
  return out;
}

}  // namespace stackhouse::metrics
