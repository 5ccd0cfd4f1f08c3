#include "analysis/fetch_plan.h"

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();

FetchPlan Plan(const std::vector<QueryWindow>& windows, AnalysisLimits limits = {}) {
  absl::StatusOr<FetchPlan> plan = PlanFetch(windows, limits);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *std::move(plan) : FetchPlan{};
}

TEST(PlanFetchTest, SpecCaseEOverlappingWindowsOfOneSegment) {
  const FetchPlan plan = Plan({{0, true, 0, 1}, {0, true, 1, 3}});
  EXPECT_THAT(plan.ranges, ElementsAre(FetchRange{0, 0, 2}, FetchRange{0, 1, 4}));
  EXPECT_EQ(plan.tip, std::nullopt);  // total 2 + 3
}

TEST(PlanFetchTest, SpecCaseFCutsAtTheLimit) {
  const FetchPlan plan = Plan({{7, true, 0, 12099}});
  ASSERT_EQ(plan.ranges.size(), 24u);
  for (size_t i = 0; i < plan.ranges.size(); ++i) {
    EXPECT_EQ(plan.ranges[i], (FetchRange{7, int64_t(i) * 500, int64_t(i + 1) * 500}));
  }
  EXPECT_THAT(plan.tip, Optional(std::string("Out of snapshot analyze limit, 12100 snapshots "
                                             "found, but analysis first 12000 snapshots only.")));
}

TEST(PlanFetchTest, ExactlyTheLimitHasNoTip) {
  const FetchPlan plan = Plan({{0, true, 0, 11999}});
  EXPECT_EQ(plan.ranges.size(), 24u);
  EXPECT_EQ(plan.tip, std::nullopt);
}

TEST(PlanFetchTest, NothingFound) {
  EXPECT_THAT(Plan({}).ranges, IsEmpty());
  const FetchPlan plan = Plan({{0, false, 5, 9}, {1, false, 0, 0}});
  EXPECT_THAT(plan.ranges, IsEmpty());
  EXPECT_EQ(plan.tip, std::nullopt);
}

TEST(PlanFetchTest, RangesStartAtTheWindowAndKeepQueryOrder) {
  const FetchPlan plan = Plan({{2, true, 700, 1800}, {0, false, 0, 0}, {1, true, 3, 3}});
  EXPECT_THAT(plan.ranges, ElementsAre(FetchRange{2, 700, 1200}, FetchRange{2, 1200, 1700},
                                       FetchRange{2, 1700, 1801}, FetchRange{1, 3, 4}));
}

TEST(PlanFetchTest, ConfigurableLimits) {
  const FetchPlan plan = Plan({{0, true, 0, 1'199'999}}, {500, 1'000'000});
  ASSERT_EQ(plan.ranges.size(), 2000u);
  EXPECT_EQ(plan.ranges.back(), (FetchRange{0, 999'500, 1'000'000}));
  EXPECT_THAT(plan.tip, Optional(std::string("Out of snapshot analyze limit, 1200000 snapshots "
                                             "found, but analysis first 1000000 snapshots only.")));

  EXPECT_THAT(Plan({{0, true, 0, 4}}, {2, 3}).ranges,
              ElementsAre(FetchRange{0, 0, 2}, FetchRange{0, 2, 3}));
}

TEST(PlanFetchTest, ExtremeSequencesDoNotOverflow) {
  EXPECT_THAT(Plan({{0, true, kInt32Max - 1, kInt32Max}}).ranges,
              ElementsAre(FetchRange{0, int64_t{kInt32Max} - 1, int64_t{kInt32Max} + 1}));
  const FetchPlan plan = Plan({{0, true, kInt32Min, kInt32Max}});
  EXPECT_EQ(plan.ranges.size(), 24u);
  EXPECT_EQ(plan.ranges.front().start, kInt32Min);
  EXPECT_THAT(plan.tip, Optional(std::string("Out of snapshot analyze limit, 4294967296 "
                                             "snapshots found, but analysis first 12000 "
                                             "snapshots only.")));
}

TEST(PlanFetchTest, RejectsBadLimitsAndWindows) {
  EXPECT_EQ(PlanFetch({}, {0, 12000}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanFetch({}, {500, 0}).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<QueryWindow> inverted = {{0, true, 5, 4}};
  EXPECT_EQ(PlanFetch(inverted, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stackhouse::analysis
