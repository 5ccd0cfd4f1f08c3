// Golden-file tests of the whole trace-profiling analysis (spec §4.5): for each
// testdata/<case>.test, the part above the `----` line describes stored snapshots and queries
// (see ParseCase), the part below is the expected plan, tip and trees (see RunCase).
// Set UPDATE_GOLDEN=1 to rewrite the expected parts (then review every diff by hand).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "analysis_test_util.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis::testing {
namespace {

constexpr char kSeparator[] = "----\n";

std::vector<std::string> Cases() {
  std::vector<std::string> cases;
  for (const auto& entry : std::filesystem::directory_iterator(ANALYSIS_TESTDATA_DIR)) {
    if (entry.path().extension() == ".test") cases.push_back(entry.path().stem().string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

class AnalysisGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AnalysisGoldenTest, MatchesExpected) {
  const std::string path = std::string(ANALYSIS_TESTDATA_DIR) + "/" + GetParam() + ".test";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const size_t separator = text.find(kSeparator);
  ASSERT_NE(separator, std::string::npos) << path << " has no '----' line";
  const std::string input = text.substr(0, separator);
  const std::string expected = text.substr(separator + sizeof(kSeparator) - 1);

  absl::StatusOr<AnalyzeCase> test_case = ParseCase(input);
  ASSERT_TRUE(test_case.ok()) << test_case.status();
  absl::StatusOr<std::string> actual = RunCase(*test_case);
  ASSERT_TRUE(actual.ok()) << actual.status();
  if (std::getenv("UPDATE_GOLDEN") != nullptr && *actual != expected) {
    std::ofstream(path) << input << kSeparator << *actual;
    GTEST_SKIP() << "rewrote " << path;
  }
  EXPECT_EQ(*actual, expected) << path;
}

INSTANTIATE_TEST_SUITE_P(Testdata, AnalysisGoldenTest, ::testing::ValuesIn(Cases()),
                         [](const auto& test_info) { return test_info.param; });

}  // namespace
}  // namespace stackhouse::analysis::testing
