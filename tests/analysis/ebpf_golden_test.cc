// Golden-file tests of the whole eBPF analysis (spec §5.7): for each testdata/ebpf/<case>.test,
// the part above the `----` line describes stored samples, the scheduleIdList, the time ranges
// and the aggregate type (see ParseEbpfCase), the part below is the expected read windows,
// sample count and trees (see RunEbpfCase). Set UPDATE_GOLDEN=1 to rewrite the expected parts
// (then review every diff by hand).
#include <string>
#include <vector>

#include "ebpf_test_util.h"
#include "golden_files.h"
#include "gtest/gtest.h"

namespace stackhouse::analysis::testing {
namespace {

constexpr char kTestdataDir[] = ANALYSIS_TESTDATA_DIR "/ebpf";

class EbpfGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EbpfGoldenTest, MatchesExpected) {
  const std::string path = std::string(kTestdataDir) + "/" + GetParam() + ".test";
  const golden::SplitFile file = golden::ReadSplitFile(path);
  ASSERT_TRUE(file.ok) << path << " is missing or has no '----' line";
  const std::string& input = file.input;
  const std::string& expected = file.expected;

  absl::StatusOr<EbpfCase> test_case = ParseEbpfCase(input);
  ASSERT_TRUE(test_case.ok()) << test_case.status();
  const std::string actual = RunEbpfCase(*test_case);
  if (golden::UpdateRequested() && actual != expected) {
    golden::WriteSplitFile(path, input, actual);
    GTEST_SKIP() << "rewrote " << path;
  }
  EXPECT_EQ(actual, expected) << path;
}

INSTANTIATE_TEST_SUITE_P(Testdata, EbpfGoldenTest,
                         ::testing::ValuesIn(golden::CaseNames(kTestdataDir, ".test")),
                         [](const auto& test_info) { return test_info.param; });

}  // namespace
}  // namespace stackhouse::analysis::testing
