// Golden-file tests of the whole eBPF analysis (spec §5.7): for each testdata/ebpf/<case>.test,
// the part above the `----` line describes stored samples, the scheduleIdList, the time ranges
// and the aggregate type (see ParseEbpfCase), the part below is the expected read windows,
// sample count and trees (see RunEbpfCase). Set UPDATE_GOLDEN=1 to rewrite the expected parts
// (then review every diff by hand).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ebpf_test_util.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis::testing {
namespace {

constexpr char kSeparator[] = "----\n";
constexpr char kTestdataDir[] = ANALYSIS_TESTDATA_DIR "/ebpf";

std::vector<std::string> Cases() {
  std::vector<std::string> cases;
  for (const auto& entry : std::filesystem::directory_iterator(kTestdataDir)) {
    if (entry.path().extension() == ".test") cases.push_back(entry.path().stem().string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

class EbpfGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EbpfGoldenTest, MatchesExpected) {
  const std::string path = std::string(kTestdataDir) + "/" + GetParam() + ".test";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const size_t separator = text.find(kSeparator);
  ASSERT_NE(separator, std::string::npos) << path << " has no '----' line";
  const std::string input = text.substr(0, separator);
  const std::string expected = text.substr(separator + sizeof(kSeparator) - 1);

  absl::StatusOr<EbpfCase> test_case = ParseEbpfCase(input);
  ASSERT_TRUE(test_case.ok()) << test_case.status();
  const std::string actual = RunEbpfCase(*test_case);
  if (std::getenv("UPDATE_GOLDEN") != nullptr && actual != expected) {
    std::ofstream(path) << input << kSeparator << actual;
    GTEST_SKIP() << "rewrote " << path;
  }
  EXPECT_EQ(actual, expected) << path;
}

INSTANTIATE_TEST_SUITE_P(Testdata, EbpfGoldenTest, ::testing::ValuesIn(Cases()),
                         [](const auto& test_info) { return test_info.param; });

}  // namespace
}  // namespace stackhouse::analysis::testing
