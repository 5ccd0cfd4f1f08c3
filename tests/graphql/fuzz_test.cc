// A deterministic fuzz-like test: mutated and random documents through the whole pipeline.
// The engine must never crash, and must always answer with valid JSON.
// (The coverage-guided libFuzzer target lives in fuzz/graphql_fuzzer.cc.)
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "graphql/engine.h"
#include "graphql/introspection.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "test_util.h"

namespace stackhouse::graphql {
namespace {

const std::vector<std::string>& Seeds() {
  static const std::vector<std::string> seeds = {
      "{ hello version }",
      "query Q($f: Filter, $n: Int! = 3) { echo(filter: $f, ids: [1, \"2\"]) nodes(count: $n) { id "
      "child { value } } }",
      "{ search(text: \"x\") { __typename ... on Dog { knows(command: SIT) } ...P } } fragment P "
      "on Person { age pets { name } }",
      "mutation M { a: append(entry: \"\"\"block\n  text\"\"\") }",
      "{ pets { name @include(if: true) owner @skip(if: false) { name } } node { items { fail } "
      "children { nullNonNull } } }",
      std::string(StandardIntrospectionQuery()),
  };
  return seeds;
}

std::string Mutate(std::string s, std::mt19937& rng) {
  static const std::string kAlphabet = "{}()[]:$!@.=,|&\"\\ \n#abcxyz019_-eE\x01\x7f\xff\xc3";
  std::uniform_int_distribution<int> op(0, 5);
  int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits; ++e) {
    size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (op(rng)) {
      case 0:
        if (pos < s.size()) s.erase(pos, 1 + rng() % 4);
        break;
      case 1:
        s.insert(pos, 1, kAlphabet[rng() % kAlphabet.size()]);
        break;
      case 2:
        if (pos < s.size()) s[pos] = kAlphabet[rng() % kAlphabet.size()];
        break;
      case 3: {  // duplicate a chunk
        if (s.empty()) break;
        size_t from = rng() % s.size();
        size_t len = std::min<size_t>(1 + rng() % 20, s.size() - from);
        s.insert(pos, s.substr(from, len));
        break;
      }
      case 4:
        s.insert(pos, std::string(1 + rng() % 50, "{[\""[rng() % 3]));
        break;
      default:
        if (pos < s.size()) s.resize(pos);
        break;
    }
  }
  return s;
}

TEST(FuzzTest, MutatedDocumentsNeverCrashAndAlwaysAnswerJson) {
  std::mt19937 rng(12345);
  const std::vector<std::string>& seeds = Seeds();
  Value variables =
      Value::Object({{"f", Value::Object({{"ids", Value::Int(3)}})}, {"n", Value::Int(2)}});
  int executed = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string doc = Mutate(seeds[rng() % seeds.size()], rng);
    Engine::Response response = testing::RunQuery(doc, variables);
    if (response.outcome == Engine::Outcome::kExecuted) ++executed;
    rapidjson::Document parsed;
    parsed.Parse(response.body.c_str(), response.body.size());
    ASSERT_FALSE(parsed.HasParseError()) << "document:\n" << doc << "\nbody:\n" << response.body;
    ASSERT_TRUE(parsed.IsObject());
    ASSERT_TRUE(parsed.HasMember("errors") || parsed.HasMember("data"));
  }
  EXPECT_GT(executed, 0);
}

// Found by libFuzzer: field merging recursed forever through a fragment spread cycle.
TEST(FuzzTest, RegressionMergingThroughFragmentCycle) {
  std::string doc =
      "{ node { ...A } node { ...A } }\n"
      "fragment A on Node { ...B c: child { ...B } }\n"
      "fragment B on Node { ...A c: child { ...A } }\n";
  Engine::Response response = testing::RunQuery(doc);
  EXPECT_EQ(response.outcome, Engine::Outcome::kValidationError);
  EXPECT_NE(response.body.find("Fragment cycles not allowed: A -> B -> A"), std::string::npos)
      << response.body;
  std::string crash = testing::ReadFileOrDie(std::string(GRAPHQL_TESTDATA_DIR) +
                                             "/../fuzz/corpus/regression_merge_cycle");
  EXPECT_EQ(testing::RunQuery(crash).outcome, Engine::Outcome::kValidationError);
}

// Found by libFuzzer: checking field merging through fragments spread in many places took
// exponential time. Each pair of field nodes is now compared once, within a work budget.
TEST(FuzzTest, RegressionMergingIsNotExponential) {
  std::string doc = "{ node { ...F6 } }\nfragment F0 on Node { id }\n";
  for (int i = 1; i <= 6; ++i) {
    std::string prev = "F" + std::to_string(i - 1);
    doc += "fragment F" + std::to_string(i) + " on Node { a: child { ..." + prev +
           " } a: child { ..." + prev + " } ..." + prev + " }\n";
  }
  auto start = std::chrono::steady_clock::now();
  Engine::Response response = testing::RunQuery(doc);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(response.outcome, Engine::Outcome::kExecuted) << response.body.substr(0, 500);
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(FuzzTest, RandomBytes) {
  std::mt19937 rng(777);
  for (int i = 0; i < 2000; ++i) {
    std::string doc(rng() % 200, '\0');
    for (char& c : doc) c = static_cast<char>(rng() % 256);
    Engine::Response response = testing::RunQuery(doc);
    rapidjson::Document parsed;
    parsed.Parse(response.body.c_str(), response.body.size());
    ASSERT_FALSE(parsed.HasParseError()) << response.body;
  }
}

}  // namespace
}  // namespace stackhouse::graphql
