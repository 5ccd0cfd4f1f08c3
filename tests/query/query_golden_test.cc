// Golden-file tests of the query layer: for each testdata/<case>.graphql, POSTs the document
// (with <case>.variables.json when present) to the /graphql endpoint of a freshly seeded
// QueryFixture (testdata/FIXTURE.md) and compares {"status": ..., "body": ...} with
// <case>.expected.json. Every case gets its own database, so mutations never leak into other
// cases. Set UPDATE_GOLDEN=1 to rewrite the expected files (then review every diff by hand
// against the spec).
#include <stdlib.h>
#include <time.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/json_writer.h"
#include "golden_files.h"
#include "gtest/gtest.h"
#include "query_fixture.h"
#include "storage/test_dir.h"

namespace stackhouse::testing {
namespace {

const std::string kTestdata = QUERY_TESTDATA_DIR;

// Duration strings are parsed in the server's local zone: pin it before anything reads it.
const bool kUtc = [] {
  setenv("TZ", "UTC", 1);
  tzset();
  return true;
}();

class QueryGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(QueryGoldenTest, MatchesExpected) {
  ASSERT_TRUE(kUtc);
  const std::string base = kTestdata + "/" + GetParam();
  std::string body = "{\"query\":";
  JsonWriter::AppendQuoted(golden::ReadFile(base + ".graphql"), &body);
  if (std::filesystem::exists(base + ".variables.json")) {
    body += ",\"variables\":" + golden::ReadFile(base + ".variables.json");
  }
  body += "}";

  TestDir dir;
  absl::StatusOr<std::unique_ptr<QueryFixture>> fixture = QueryFixture::Create(dir.path());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  const graphql::HttpResponse response = (*fixture)->Post(body);
  const std::string actual =
      golden::NormalizeHttpResponse(response.status, response.content_type, response.body);

  const std::string expected_path = base + ".expected.json";
  if (golden::UpdateRequested()) {
    std::ofstream(expected_path, std::ios::binary) << actual;
    GTEST_SKIP() << "updated " << expected_path;
  }
  ASSERT_TRUE(std::filesystem::exists(expected_path))
      << "missing " << expected_path << "; actual:\n"
      << actual;
  EXPECT_EQ(golden::ReadFile(expected_path), actual) << "case " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Cases, QueryGoldenTest,
                         ::testing::ValuesIn(golden::CaseNames(kTestdata, ".graphql")),
                         [](const ::testing::TestParamInfo<std::string>& case_info) {
                           return case_info.param;
                         });

}  // namespace
}  // namespace stackhouse::testing
