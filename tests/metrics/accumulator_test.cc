#include "metrics/accumulator.h"

#include <cmath>
#include <limits>

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
  EXPECT_EQ(a.buckets, (std::map<int64_t, int64_t>{{1, 5}, {4, 1}}));
}

}  // namespace
}  // namespace stackhouse::metrics
