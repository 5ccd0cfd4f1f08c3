// Golden-file tests of the diff (analysis/flame_diff.h): for each testdata/diff/<case>.test, the
// part above the `----` line holds two profiles in ParseFlameGraph's notation, each after a line
// `== baseline` or `== comparison`; the part below is the rendered diff (see Render), or
// `error: <status>`. Set UPDATE_GOLDEN=1 to rewrite the expected parts (then review every diff
// by hand).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "analysis/flame_diff.h"
#include "ebpf_test_util.h"
#include "flame_test_util.h"
#include "golden_files.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis::testing {
namespace {

constexpr char kBaseline[] = "== baseline\n";
constexpr char kComparison[] = "== comparison\n";
constexpr char kTestdataDir[] = ANALYSIS_TESTDATA_DIR "/diff";

// One line per node, in id order:
//   <id> <frame> (p<parent>) value <b> -> <c>, self <b> -> <c>, share <b> -> <c> (<delta>)
// then the ranked lists as `<id> <self share delta>`.
std::string Render(const FlameDiff& diff) {
  std::string out = absl::StrCat("unit: ", diff.unit, "\ntotals: ", diff.baseline_total, " -> ",
                                 diff.comparison_total, "\n");
  auto frame = [&diff](const DiffNode& node) {
    const std::string& name = diff.names.Signature(node.name);
    return node.stack_type ? FrameText(name, *node.stack_type)
                           : (name.empty() ? std::string("''") : name);
  };
  for (const DiffNode& node : diff.nodes) {
    absl::StrAppend(&out, node.id, " ", frame(node), " (p", node.parent_id, ") value ",
                    node.baseline_value, " -> ", node.comparison_value, ", self ",
                    node.baseline_self, " -> ", node.comparison_self,
                    absl::StrFormat(", share %.4f -> %.4f (%+.4f)\n", node.baseline_share,
                                    node.comparison_share, node.share_delta));
  }
  for (const auto& [title, list] :
       {std::pair{"top gains:", &diff.top_gains}, std::pair{"top losses:", &diff.top_losses}}) {
    out += title;
    for (uint32_t i : *list) {
      absl::StrAppend(
          &out, absl::StrFormat(" %d%+.4f", diff.nodes[i].id, diff.nodes[i].self_share_delta));
    }
    out += "\n";
  }
  return out;
}

std::string RunDiffCase(const std::string& input) {
  const size_t baseline = input.find(kBaseline);
  const size_t comparison = input.find(kComparison);
  if (baseline == std::string::npos || comparison == std::string::npos || comparison < baseline) {
    return "error: the input needs '== baseline' then '== comparison'\n";
  }
  const size_t baseline_start = baseline + sizeof(kBaseline) - 1;
  auto b = ParseFlameGraph(input.substr(baseline_start, comparison - baseline_start));
  if (!b.ok()) return absl::StrCat("error: ", b.status().ToString(), "\n");
  auto c = ParseFlameGraph(input.substr(comparison + sizeof(kComparison) - 1));
  if (!c.ok()) return absl::StrCat("error: ", c.status().ToString(), "\n");
  // A small top count, so that the cut is tested on small cases.
  absl::StatusOr<FlameDiff> diff = DiffFlameGraphs(**b, **c, 3);
  if (!diff.ok()) return absl::StrCat("error: ", diff.status().ToString(), "\n");
  return Render(*diff);
}

class FlameDiffGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FlameDiffGoldenTest, MatchesExpected) {
  const std::string path = std::string(kTestdataDir) + "/" + GetParam() + ".test";
  const golden::SplitFile file = golden::ReadSplitFile(path);
  ASSERT_TRUE(file.ok) << path << " is missing or has no '----' line";
  const std::string& input = file.input;
  const std::string& expected = file.expected;
  const std::string actual = RunDiffCase(input);
  if (golden::UpdateRequested() && actual != expected) {
    golden::WriteSplitFile(path, input, actual);
    GTEST_SKIP() << "rewrote " << path;
  }
  EXPECT_EQ(actual, expected) << path;
}

INSTANTIATE_TEST_SUITE_P(Testdata, FlameDiffGoldenTest,
                         ::testing::ValuesIn(golden::CaseNames(kTestdataDir, ".test")),
                         [](const auto& test_info) { return test_info.param; });

}  // namespace
}  // namespace stackhouse::analysis::testing
