#include "analysis/ebpf_time_ranges.h"

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "ebpf_reference_merge.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis {
namespace {

using ::stackhouse::analysis::testing::kDefaultMaxReadWindows;
using ::stackhouse::analysis::testing::kEbpfReadWindowMs;
using ::stackhouse::analysis::testing::ReadWindowLimits;
using ::stackhouse::analysis::testing::SplitTimeRanges;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

std::vector<ReadWindow> Split(const std::vector<EbpfTimeRange>& ranges,
                              ReadWindowLimits limits = {}) {
  absl::StatusOr<std::vector<ReadWindow>> windows = SplitTimeRanges(ranges, limits);
  EXPECT_TRUE(windows.ok()) << windows.status();
  return windows.ok() ? *std::move(windows) : std::vector<ReadWindow>{};
}

TEST(SplitTimeRangesTest, SpecCaseK) {
  EXPECT_THAT(Split({{0, 25000}}), ElementsAre(ReadWindow{0, 10000}, ReadWindow{10000, 20000},
                                               ReadWindow{20000, 25001}));
}

TEST(SplitTimeRangesTest, OneRangeIsSplitLikeTheOap) {
  EXPECT_THAT(Split({{5, 9999}}), ElementsAre(ReadWindow{5, 10000}));
  EXPECT_THAT(Split({{5, 10004}}), ElementsAre(ReadWindow{5, 10005}));
  EXPECT_THAT(Split({{5, 10005}}), ElementsAre(ReadWindow{5, 10005}, ReadWindow{10005, 10006}));
  EXPECT_THAT(Split({{-25000, -1}}), ElementsAre(ReadWindow{-25000, -15000},
                                                 ReadWindow{-15000, -5000}, ReadWindow{-5000, 0}));
}

TEST(SplitTimeRangesTest, SkipsEmptyAndReversedRanges) {
  EXPECT_THAT(Split({}), IsEmpty());
  EXPECT_THAT(Split({{7, 7}, {9, 3}}), IsEmpty());
  EXPECT_THAT(Split({{7, 7}, {0, 1}, {9, 3}}), ElementsAre(ReadWindow{0, 2}));
}

TEST(SplitTimeRangesTest, OverlappingRangesAreReadOnce) {
  // [0,15000] ∪ [12000,20000] ∪ [3000,4000] = [0,20000], split from its start.
  EXPECT_THAT(
      Split({{0, 15000}, {12000, 20000}, {3000, 4000}}),
      ElementsAre(ReadWindow{0, 10000}, ReadWindow{10000, 20000}, ReadWindow{20000, 20001}));
  // Equal ranges.
  EXPECT_THAT(Split({{100, 200}, {100, 200}}), ElementsAre(ReadWindow{100, 201}));
  // Sharing one instant.
  EXPECT_THAT(Split({{100, 200}, {200, 300}}), ElementsAre(ReadWindow{100, 301}));
}

TEST(SplitTimeRangesTest, TouchingRangesMergeAndGapsStay) {
  // [100,200] then [201,300]: touching (200 + 1 == 201).
  EXPECT_THAT(Split({{201, 300}, {100, 200}}), ElementsAre(ReadWindow{100, 301}));
  // A gap of one millisecond (201) is not read.
  EXPECT_THAT(Split({{202, 300}, {100, 200}}),
              ElementsAre(ReadWindow{100, 201}, ReadWindow{202, 301}));
}

TEST(SplitTimeRangesTest, DisjointRangesAreReadInAscendingTime) {
  EXPECT_THAT(Split({{50000, 60000}, {0, 10}, {20000, 20000}}),
              ElementsAre(ReadWindow{0, 11}, ReadWindow{50000, 60000}, ReadWindow{60000, 60001}));
}

TEST(SplitTimeRangesTest, ExtremeTimesDoNotOverflow) {
  // The instant INT64_MAX cannot be covered by a half-open window and is left out.
  EXPECT_THAT(Split({{kMax - 15000, kMax}}),
              ElementsAre(ReadWindow{kMax - 15000, kMax - 5000}, ReadWindow{kMax - 5000, kMax}));
  EXPECT_THAT(Split({{kMax - 1, kMax}}), ElementsAre(ReadWindow{kMax - 1, kMax}));
  EXPECT_THAT(Split({{kMin, kMin + 3}}), ElementsAre(ReadWindow{kMin, kMin + 4}));
  EXPECT_THAT(
      Split({{kMin, kMax}}, {kMax, 10}),
      ElementsAre(ReadWindow{kMin, -1}, ReadWindow{-1, kMax - 1}, ReadWindow{kMax - 1, kMax}));
}

TEST(SplitTimeRangesTest, ConfigurableWindowLength) {
  EXPECT_THAT(Split({{0, 4}}, {2, 10}),
              ElementsAre(ReadWindow{0, 2}, ReadWindow{2, 4}, ReadWindow{4, 5}));
  EXPECT_THAT(Split({{0, 4}}, {1000, 10}), ElementsAre(ReadWindow{0, 5}));
}

TEST(SplitTimeRangesTest, TooManyWindowsAreAnError) {
  // Exactly the limit, over two pieces.
  EXPECT_EQ(Split({{0, 19}, {100, 109}}, {10, 3}).size(), 3u);
  const absl::StatusOr<std::vector<ReadWindow>> over =
      SplitTimeRanges({{0, 19}, {100, 110}}, {10, 3});
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(over.status().message(),
              HasSubstr("the time ranges cover 31 ms, more than 3 read windows of 10 ms"));

  // A year of 10 s windows, and all of time, with the defaults.
  const std::vector<EbpfTimeRange> year = {{0, int64_t{365} * 24 * 3600 * 1000}};
  EXPECT_EQ(SplitTimeRanges(year).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<EbpfTimeRange> all = {{kMin, kMax}};
  const absl::StatusOr<std::vector<ReadWindow>> everything = SplitTimeRanges(all);
  EXPECT_EQ(everything.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(everything.status().message(), HasSubstr("cover 18446744073709551615 ms"));
  // About 116 days still work.
  EXPECT_EQ(Split({{0, int64_t{kDefaultMaxReadWindows} * kEbpfReadWindowMs - 1}}).size(),
            kDefaultMaxReadWindows);
}

TEST(SplitTimeRangesTest, RejectsBadWindowLength) {
  EXPECT_EQ(SplitTimeRanges({}, {0, 10}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitTimeRanges({}, {-5, 10}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MergeTimeRangesTest, UnionWithoutSplitting) {
  EXPECT_THAT(MergeTimeRanges({{0, 25000}}), ElementsAre(ReadWindow{0, 25001}));
  EXPECT_THAT(MergeTimeRanges({{40, 50}, {0, 100}, {102, 200}, {150, 160}, {5, 5}}),
              ElementsAre(ReadWindow{0, 101}, ReadWindow{102, 201}));
  EXPECT_THAT(MergeTimeRanges({{kMin, 0}, {1, kMax}}), ElementsAre(ReadWindow{kMin, kMax}));
}

}  // namespace
}  // namespace stackhouse::analysis
