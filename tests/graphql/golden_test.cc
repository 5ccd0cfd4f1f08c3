// Golden-file tests: for each testdata/<case>.graphql, POSTs the document (with
// <case>.variables.json and <case>.operation when present) to the HttpEndpoint over the test
// schema and compares {"status": ..., "body": ...} with <case>.expected.json.
// Set UPDATE_GOLDEN=1 to rewrite the expected files (then review every diff by hand).
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "common/json_writer.h"
#include "golden_files.h"
#include "graphql/http_endpoint.h"
#include "gtest/gtest.h"
#include "test_schema.h"

namespace stackhouse::graphql::testing {
namespace {

const std::string kTestdata = GRAPHQL_TESTDATA_DIR;

class GoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<const Schema>> schema = BuildTestSchema(kTestdata);
    ASSERT_TRUE(schema.ok()) << schema.status();
    endpoint_ = new HttpEndpoint(std::shared_ptr<const Schema>(*std::move(schema)), Limits());
  }
  static void TearDownTestSuite() {
    delete endpoint_;
    endpoint_ = nullptr;
  }
  static HttpEndpoint* endpoint_;
};

HttpEndpoint* GoldenTest::endpoint_ = nullptr;

TEST_P(GoldenTest, MatchesExpected) {
  ASSERT_NE(endpoint_, nullptr);
  const std::string base = kTestdata + "/" + GetParam();
  std::string query = ReadFileOrDie(base + ".graphql");
  std::string body = "{\"query\":";
  JsonWriter::AppendQuoted(query, &body);
  if (std::filesystem::exists(base + ".variables.json")) {
    body += ",\"variables\":" + ReadFileOrDie(base + ".variables.json");
  }
  if (std::filesystem::exists(base + ".operation")) {
    std::string name(absl::StripAsciiWhitespace(ReadFileOrDie(base + ".operation")));
    body += ",\"operationName\":";
    JsonWriter::AppendQuoted(name, &body);
  }
  body += "}";

  HttpRequest request;
  request.method = "POST";
  request.content_type = "application/json";
  request.accept = "application/json";
  request.body = body;
  TestContext context;
  Engine::Options options;
  options.user_context = ObjectRef::Of(&context);
  const HttpResponse response = endpoint_->Handle(request, options);
  std::string actual =
      golden::NormalizeHttpResponse(response.status, response.content_type, response.body);

  const std::string expected_path = base + ".expected.json";
  if (golden::UpdateRequested()) {
    std::ofstream(expected_path, std::ios::binary) << actual;
    GTEST_SKIP() << "updated " << expected_path;
  }
  ASSERT_TRUE(std::filesystem::exists(expected_path))
      << "missing " << expected_path << "; actual:\n"
      << actual;
  EXPECT_EQ(ReadFileOrDie(expected_path), actual) << "case " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest,
                         ::testing::ValuesIn(golden::CaseNames(kTestdata, ".graphql")),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace stackhouse::graphql::testing
