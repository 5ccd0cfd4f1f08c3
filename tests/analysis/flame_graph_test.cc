#include "analysis/flame_graph.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flame_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis::testing {
namespace {

using ::testing::ElementsAre;

std::unique_ptr<const FlameGraph> Parse(const std::string& text) {
  auto graph = ParseFlameGraph(text);
  EXPECT_TRUE(graph.ok()) << graph.status();
  return graph.ok() ? *std::move(graph) : nullptr;
}

// Every visited node as `tree: frames... = self values`.
std::vector<std::string> Walk(const FlameGraph& graph) {
  std::vector<std::string> steps;
  WalkStacks(graph, [&](const StackStep& step) {
    std::vector<std::string> frames;
    for (uint32_t node : step.path) frames.push_back(NodeText(graph, graph.Node(step.tree, node)));
    steps.push_back(absl::StrCat(step.tree, ": ", absl::StrJoin(frames, " "), " = ",
                                 absl::StrJoin(step.self, "/")));
    return true;
  });
  return steps;
}

TEST(FlameGraphTest, WalksDepthFirstWithSelfValues) {
  auto graph = Parse("on_cpu\n3: A B C\n2: A B\n1: A D\n4: E k:F\n");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(graph->kind(), "eBPF ON_CPU");
  EXPECT_EQ(PrimaryUnit(*graph), "samples");
  EXPECT_THAT(Walk(*graph), ElementsAre("0: A = 0", "0: A B = 2", "0: A B C = 3", "0: A D = 1",
                                        "1: E = 0", "1: E k:F = 4"));
  EXPECT_EQ(GraphTotal(*graph, 0), 10);
}

TEST(FlameGraphTest, StopsWhenTheVisitorSaysSo) {
  auto graph = Parse("on_cpu\n1: A B\n1: C\n");
  ASSERT_NE(graph, nullptr);
  int visited = 0;
  EXPECT_FALSE(WalkStacks(*graph, [&](const StackStep&) { return ++visited < 2; }));
  EXPECT_EQ(visited, 2);
}

TEST(FlameGraphTest, TraceProfilesHaveCountsAndWallTime) {
  // Dumps 10 ms apart: A B for 3 dumps (20 ms of B), then A C for 2 (10 ms of C); A runs
  // through all 5 (40 ms).
  auto graph = Parse("trace\n3: A B\n2: A C\n");
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(graph->kind(), "trace");
  EXPECT_FALSE(graph->has_stack_types());
  EXPECT_THAT(graph->value_types(),
              ElementsAre(ValueType{"samples", "count"}, ValueType{"wall", "nanoseconds"}));
  EXPECT_THAT(Walk(*graph),
              ElementsAre("0: A = 0/10000000", "0: A B = 3/20000000", "0: A C = 2/10000000"));
  EXPECT_EQ(GraphTotal(*graph, 1), 40'000'000);
}

TEST(FlameGraphTest, OffCpuValueTypes) {
  auto by_duration = Parse("off_cpu_duration\n5: A\n");
  auto by_count = Parse("off_cpu_count\n5: A\n");
  ASSERT_NE(by_duration, nullptr);
  ASSERT_NE(by_count, nullptr);
  EXPECT_EQ(by_duration->kind(), "eBPF OFF_CPU");
  EXPECT_THAT(by_duration->value_types(), ElementsAre(ValueType{"off_cpu", "nanoseconds"}));
  EXPECT_EQ(PrimaryUnit(*by_duration), "nanoseconds");
  EXPECT_THAT(by_count->value_types(), ElementsAre(ValueType{"switches", "count"}));
  EXPECT_EQ(PrimaryUnit(*by_count), "switches");
}

}  // namespace
}  // namespace stackhouse::analysis::testing
