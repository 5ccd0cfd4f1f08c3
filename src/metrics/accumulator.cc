#include "metrics/accumulator.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/saturating.h"

namespace stackhouse::metrics {

BucketCounts::BucketCounts(std::initializer_list<value_type> counts) {
  counts_.reserve(counts.size());
  for (const auto& [key, n] : counts) Add(key, n);
}

void BucketCounts::Add(int64_t key, int64_t count) {
  if (counts_.empty() || counts_.back().first < key) {
    counts_.emplace_back(key, count);
    return;
  }
  auto it = std::lower_bound(counts_.begin(), counts_.end(), key,
                             [](const value_type& c, int64_t k) { return c.first < k; });
  if (it != counts_.end() && it->first == key) {
    it->second = SaturatingAdd(it->second, count);
  } else {
    counts_.insert(it, {key, count});
  }
}

void BucketCounts::Merge(const BucketCounts& other) {
  if (other.counts_.empty()) return;
  if (counts_.empty()) {
    counts_ = other.counts_;
    return;
  }
  // The usual case: the same keys (one meter's bucket layout) — add in place.
  if (counts_.size() == other.counts_.size()) {
    bool same = true;
    for (size_t i = 0; i < counts_.size() && same; ++i) {
      same = counts_[i].first == other.counts_[i].first;
    }
    if (same) {
      for (size_t i = 0; i < counts_.size(); ++i) {
        counts_[i].second = SaturatingAdd(counts_[i].second, other.counts_[i].second);
      }
      return;
    }
  }
  std::vector<value_type> merged;
  merged.reserve(counts_.size() + other.counts_.size());
  auto a = counts_.cbegin();
  auto b = other.counts_.cbegin();
  while (a != counts_.cend() || b != other.counts_.cend()) {
    if (b == other.counts_.cend() || (a != counts_.cend() && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == counts_.cend() || b->first < a->first) {
      merged.push_back(*b++);
    } else {
      merged.emplace_back(a->first, SaturatingAdd(a->second, b->second));
      ++a;
      ++b;
    }
  }
  counts_ = std::move(merged);
}

void Accumulator::Merge(const Accumulator& other) {
  sum = SaturatingAdd(sum, other.sum);
  count = SaturatingAdd(count, other.count);
  buckets.Merge(other.buckets);
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
