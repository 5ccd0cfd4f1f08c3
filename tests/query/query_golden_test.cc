// Golden-file tests of the query layer: for each testdata/<case>.graphql, POSTs the document
// (with <case>.variables.json when present) to the /graphql endpoint of a freshly seeded
// QueryFixture (testdata/FIXTURE.md) and compares {"status": ..., "body": ...} with
// <case>.expected.json. Every case gets its own database, so mutations never leak into other
// cases. Set UPDATE_GOLDEN=1 to rewrite the expected files (then review every diff by hand
// against the spec).
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "graphql/json_writer.h"
#include "gtest/gtest.h"
#include "query_fixture.h"
#include "rapidjson/document.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
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

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::vector<std::string> Cases() {
  std::vector<std::string> cases;
  for (const auto& entry : std::filesystem::directory_iterator(kTestdata)) {
    if (entry.path().extension() == ".graphql") cases.push_back(entry.path().stem().string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

// {"status": N, "body": <JSON body, or the text of a non-JSON body>}, two-space indented.
std::string Normalize(const graphql::HttpResponse& response) {
  rapidjson::Document doc;
  doc.SetObject();
  auto& alloc = doc.GetAllocator();
  doc.AddMember("status", response.status, alloc);
  rapidjson::Value body;
  rapidjson::Document parsed(&alloc);
  if (response.content_type.rfind("application/json", 0) == 0 &&
      !parsed.Parse(response.body.data(), response.body.size()).HasParseError()) {
    body.CopyFrom(parsed, alloc);
  } else {
    body.SetString(response.body.c_str(), static_cast<rapidjson::SizeType>(response.body.size()),
                   alloc);
  }
  doc.AddMember("body", body, alloc);
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  doc.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

class QueryGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(QueryGoldenTest, MatchesExpected) {
  ASSERT_TRUE(kUtc);
  const std::string base = kTestdata + "/" + GetParam();
  std::string body = "{\"query\":";
  graphql::JsonWriter::AppendQuoted(ReadFile(base + ".graphql"), &body);
  if (std::filesystem::exists(base + ".variables.json")) {
    body += ",\"variables\":" + ReadFile(base + ".variables.json");
  }
  body += "}";

  TestDir dir;
  absl::StatusOr<std::unique_ptr<QueryFixture>> fixture = QueryFixture::Create(dir.path());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  const std::string actual = Normalize((*fixture)->Post(body));

  const std::string expected_path = base + ".expected.json";
  const char* update = std::getenv("UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(expected_path, std::ios::binary) << actual;
    GTEST_SKIP() << "updated " << expected_path;
  }
  ASSERT_TRUE(std::filesystem::exists(expected_path))
      << "missing " << expected_path << "; actual:\n"
      << actual;
  EXPECT_EQ(ReadFile(expected_path), actual) << "case " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Cases, QueryGoldenTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<std::string>& case_info) {
                           return case_info.param;
                         });

}  // namespace
}  // namespace stackhouse::testing
