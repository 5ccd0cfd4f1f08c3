#include "analysis/go_profile_tree.h"

#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis {
namespace {

struct Row {
  int32_t id;
  int32_t parent_id;
  std::string frame;
  int32_t duration;
  int32_t duration_child_excluded;
  int32_t count;

  friend bool operator==(const Row&, const Row&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Row& r) {
    return os << "{" << r.id << ", " << r.parent_id << ", " << r.frame << ", " << r.duration << ", "
              << r.duration_child_excluded << ", " << r.count << "}";
  }
};

class GoProfileTreeTest : public ::testing::Test {
 protected:
  GoSample Sample(int64_t count, std::vector<std::string> frames) {
    GoSample s;
    s.count = count;
    for (const auto& f : frames) s.frames.push_back(frames_.Intern(f));
    return s;
  }
  std::vector<Row> Rows(const ProfileTree& tree) {
    std::vector<Row> rows;
    for (const ProfileElement& e : tree.elements) {
      rows.push_back({e.id, e.parent_id, frames_.Signature(e.frame_id), e.duration,
                      e.duration_child_excluded, e.count});
    }
    return rows;
  }
  FrameTable frames_;
};

TEST(GoPeriodMillisTest, FollowsTheUnit) {
  EXPECT_EQ(GoPeriodMillis(10'000'000, "nanoseconds"), 10);
  EXPECT_EQ(GoPeriodMillis(10'000'000, "ns"), 10);
  EXPECT_EQ(GoPeriodMillis(10'000'000, ""), 10);
  EXPECT_EQ(GoPeriodMillis(500, "nanoseconds"), 1);  // at least 1 ms
  EXPECT_EQ(GoPeriodMillis(20'000, "microseconds"), 20);
  EXPECT_EQ(GoPeriodMillis(20'000, "us"), 20);
  EXPECT_EQ(GoPeriodMillis(7, "milliseconds"), 7);
  EXPECT_EQ(GoPeriodMillis(7, "ms"), 7);
  EXPECT_EQ(GoPeriodMillis(2, "seconds"), 2000);
  EXPECT_EQ(GoPeriodMillis(2, "s"), 2000);
  EXPECT_EQ(GoPeriodMillis(100, "hz"), 10);
  EXPECT_EQ(GoPeriodMillis(100, "HZ"), 10);
  EXPECT_EQ(GoPeriodMillis(5000, "hz"), 1);
  EXPECT_EQ(GoPeriodMillis(0, "nanoseconds"), 10);
  EXPECT_EQ(GoPeriodMillis(-3, "ms"), 10);
  EXPECT_EQ(GoPeriodMillis(3, "bytes"), 10);
}

TEST_F(GoProfileTreeTest, SeveralRootsGetAVirtualRootAndChildrenSortByDuration) {
  // Frames are walked as given (pprof leaf first); weights are count × period.
  std::vector<GoSample> samples = {Sample(1, {"A", "C"}), Sample(2, {"A", "B"}), Sample(3, {"D"})};
  ProfileTree tree = BuildGoProfileTree(samples, 10, &frames_);
  EXPECT_THAT(Rows(tree),
              ::testing::ElementsAre(Row{0, -1, "root", 60, 0, 6}, Row{1, 0, "A", 30, 0, 3},
                                     Row{2, 0, "D", 30, 30, 3}, Row{3, 1, "B", 20, 20, 2},
                                     Row{4, 1, "C", 10, 10, 1}));
}

TEST_F(GoProfileTreeTest, OneRootNeedsNoVirtualRoot) {
  std::vector<GoSample> samples = {Sample(4, {"leaf", "mid", "main"}), Sample(1, {"leaf", "main"})};
  ProfileTree tree = BuildGoProfileTree(samples, 5, &frames_);
  EXPECT_THAT(Rows(tree),
              ::testing::ElementsAre(Row{0, -1, "leaf", 25, 0, 5}, Row{1, 0, "mid", 20, 0, 4},
                                     Row{2, 0, "main", 5, 5, 1}, Row{3, 1, "main", 20, 20, 4}));
}

TEST_F(GoProfileTreeTest, NoSamplesNoElements) {
  EXPECT_TRUE(BuildGoProfileTree({}, 10, &frames_).elements.empty());
  std::vector<GoSample> frameless = {Sample(3, {})};
  EXPECT_TRUE(BuildGoProfileTree(frameless, 10, &frames_).elements.empty());
}

TEST_F(GoProfileTreeTest, HugeWeightsSaturate) {
  std::vector<GoSample> samples = {Sample(std::numeric_limits<int64_t>::max() / 2, {"A"}),
                                   Sample(std::numeric_limits<int64_t>::max() / 2, {"A"})};
  ProfileTree tree = BuildGoProfileTree(samples, 1000, &frames_);
  ASSERT_EQ(tree.elements.size(), 1u);
  EXPECT_EQ(tree.elements[0].duration, std::numeric_limits<int32_t>::max());
  EXPECT_EQ(tree.elements[0].count, std::numeric_limits<int32_t>::max());
}

// Flame graphs read the same samples root first, as the Java trees are numbered.
TEST_F(GoProfileTreeTest, FlameTreesAreRootFirstOnePerRootFrame) {
  std::vector<GoSample> samples = {Sample(4, {"hash", "handle", "main"}), Sample(2, {"gc"}),
                                   Sample(1, {"handle", "main"})};
  std::vector<ProfileTree> trees = BuildGoFlameTrees(samples, 10);
  ASSERT_EQ(trees.size(), 2u);
  EXPECT_THAT(Rows(trees[0]),
              ::testing::ElementsAre(Row{1, 0, "main", 50, 0, 5}, Row{2, 1, "handle", 50, 10, 5},
                                     Row{3, 2, "hash", 40, 40, 4}));
  EXPECT_THAT(Rows(trees[1]), ::testing::ElementsAre(Row{1, 0, "gc", 20, 20, 2}));
  EXPECT_TRUE(BuildGoFlameTrees({}, 10).empty());
}

}  // namespace
}  // namespace stackhouse::analysis
