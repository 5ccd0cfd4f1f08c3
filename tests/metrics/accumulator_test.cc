#include "metrics/accumulator.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace stackhouse::metrics {
namespace {

TEST(RoundMeterValueTest, AsTheOapWritesAnEvaluatedValue) {
  EXPECT_EQ(RoundMeterValue(0), 0);
  EXPECT_EQ(RoundMeterValue(-3.7), 0);
  EXPECT_EQ(RoundMeterValue(std::nan("")), 0);
  EXPECT_EQ(RoundMeterValue(0.0001), 1);  // between 0 and 1: 1
  EXPECT_EQ(RoundMeterValue(0.9999), 1);
  EXPECT_EQ(RoundMeterValue(1.5), 2);  // Math.round: half up
  EXPECT_EQ(RoundMeterValue(2.5), 3);
  EXPECT_EQ(RoundMeterValue(2.4999), 2);
  EXPECT_EQ(RoundMeterValue(1e300), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(RoundMeterValue(INFINITY), std::numeric_limits<int64_t>::max());
}

TEST(RowValueTest, SumPerMinDividesByTheMinutesOfTheBucket) {
  Accumulator row;
  row.sum = 125;
  EXPECT_EQ(RowValue(MetricFunction::kSumPerMin, row, 1), 125);
  EXPECT_EQ(RowValue(MetricFunction::kSumPerMin, row, 60), 2);  // integer division
  EXPECT_EQ(RowValue(MetricFunction::kSumPerMin, row, 1440), 0);
}

TEST(RowValueTest, AvgIsIntegerAndNeverZeroForAPositiveSum) {
  Accumulator row;
  row.sum = 10;
  row.count = 4;
  EXPECT_EQ(RowValue(MetricFunction::kAvg, row, 1), 2);
  row.sum = 3;  // 3 / 4 = 0, but something was measured
  EXPECT_EQ(RowValue(MetricFunction::kAvg, row, 60), 1);
  row.sum = 0;
  EXPECT_EQ(RowValue(MetricFunction::kAvg, row, 1), 0);
  row.count = 0;
  EXPECT_EQ(RowValue(MetricFunction::kAvg, row, 1), 0);
}

TEST(RowPercentilesTest, FirstBucketReachingTheRoundedRank) {
  Accumulator row;
  row.buckets = {{0, 10}, {5, 20}, {10, 30}, {50, 40}};  // total 100
  auto p = RowPercentiles(row);
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0], std::make_pair(50, int64_t{10}));  // cumulative 10, 30, 60 ≥ 50
  EXPECT_EQ(p[1], std::make_pair(75, int64_t{50}));
  EXPECT_EQ(p[4], std::make_pair(99, int64_t{50}));

  Accumulator three;
  three.buckets = {{3, 1}, {1, 1}, {2, 1}};  // order of insertion does not matter
  p = RowPercentiles(three);
  EXPECT_EQ(p[0].second, 2);  // round(1.5) = 2
  EXPECT_EQ(p[1].second, 2);  // round(2.25) = 2
  EXPECT_EQ(p[2].second, 3);  // round(2.7) = 3

  EXPECT_EQ(RowPercentiles(Accumulator{})[0].second, 0);  // no counts
}

TEST(AccumulatorTest, MergeAddsEveryFieldAndSaturates) {
  Accumulator a, b;
  a.sum = 5;
  a.count = 1;
  a.buckets = {{1, 2}};
  b.sum = std::numeric_limits<int64_t>::max();
  b.count = 2;
  b.buckets = {{1, 3}, {4, 1}};
  a.Merge(b);
  EXPECT_EQ(a.sum, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(a.count, 3);
  EXPECT_EQ(a.buckets, (BucketCounts{{1, 5}, {4, 1}}));
}

TEST(BucketCountsTest, KeepsKeysAscendingAndOnce) {
  BucketCounts counts;
  counts.Add(5, 1);
  counts.Add(1, 2);  // before the first
  counts.Add(3, 3);  // between two
  counts.Add(5, 4);  // again
  counts.Add(9, 5);  // after the last
  std::vector<std::pair<int64_t, int64_t>> seen(counts.begin(), counts.end());
  EXPECT_EQ(seen, (std::vector<std::pair<int64_t, int64_t>>{{1, 2}, {3, 3}, {5, 5}, {9, 5}}));
  EXPECT_EQ(counts, (BucketCounts{{9, 5}, {5, 1}, {1, 2}, {3, 3}, {5, 4}}));
  EXPECT_FALSE(counts == (BucketCounts{{1, 2}, {3, 3}, {5, 5}}));
}

TEST(BucketCountsTest, MergeOfTheSameLayoutAndOfDifferentOnes) {
  BucketCounts a{{0, 1}, {10, 2}, {20, 3}};
  a.Merge(BucketCounts{{0, 10}, {10, 20}, {20, 30}});  // the same keys: added in place
  EXPECT_EQ(a, (BucketCounts{{0, 11}, {10, 22}, {20, 33}}));
  a.Merge(BucketCounts{{-5, 1}, {10, 1}, {15, 1}, {99, 1}});  // interleaved keys
  EXPECT_EQ(a, (BucketCounts{{-5, 1}, {0, 11}, {10, 23}, {15, 1}, {20, 33}, {99, 1}}));
  a.Merge(BucketCounts{{0, 0}, {10, 0}, {20, 0}});  // as many keys, not the same ones
  EXPECT_EQ(a, (BucketCounts{{-5, 1}, {0, 11}, {10, 23}, {15, 1}, {20, 33}, {99, 1}}));
  BucketCounts empty;
  empty.Merge(a);
  EXPECT_EQ(empty, a);
  a.Merge(BucketCounts{});
  EXPECT_EQ(empty, a);
}

TEST(BucketCountsTest, CountsSaturate) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  BucketCounts a{{1, max - 1}, {2, 1}};
  a.Merge(BucketCounts{{1, 5}, {2, 1}});
  a.Add(2, max);
  EXPECT_EQ(a, (BucketCounts{{1, max}, {2, max}}));
  BucketCounts b{{1, max}, {3, 0}};
  b.Merge(BucketCounts{{1, 1}, {2, 7}});  // different layouts: the merging pass saturates too
  EXPECT_EQ(b, (BucketCounts{{1, max}, {2, 7}, {3, 0}}));
}

}  // namespace
}  // namespace stackhouse::metrics
