// Golden-file tests of the whole trace-profiling analysis (spec §4.5): for each
// testdata/<case>.test, the part above the `----` line describes stored snapshots and queries
// (see ParseCase), the part below is the expected plan, tip and trees (see RunCase).
// Set UPDATE_GOLDEN=1 to rewrite the expected parts (then review every diff by hand).
#include <string>
#include <vector>

#include "analysis_test_util.h"
#include "golden_files.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis::testing {
namespace {

class AnalysisGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AnalysisGoldenTest, MatchesExpected) {
  const std::string path = std::string(ANALYSIS_TESTDATA_DIR) + "/" + GetParam() + ".test";
  const golden::SplitFile file = golden::ReadSplitFile(path);
  ASSERT_TRUE(file.ok) << path << " is missing or has no '----' line";
  const std::string& input = file.input;
  const std::string& expected = file.expected;

  absl::StatusOr<AnalyzeCase> test_case = ParseCase(input);
  ASSERT_TRUE(test_case.ok()) << test_case.status();
  absl::StatusOr<std::string> actual = RunCase(*test_case);
  ASSERT_TRUE(actual.ok()) << actual.status();
  if (golden::UpdateRequested() && *actual != expected) {
    golden::WriteSplitFile(path, input, *actual);
    GTEST_SKIP() << "rewrote " << path;
  }
  EXPECT_EQ(*actual, expected) << path;
}

INSTANTIATE_TEST_SUITE_P(Testdata, AnalysisGoldenTest,
                         ::testing::ValuesIn(golden::CaseNames(ANALYSIS_TESTDATA_DIR, ".test")),
                         [](const auto& test_info) { return test_info.param; });

}  // namespace
}  // namespace stackhouse::analysis::testing
