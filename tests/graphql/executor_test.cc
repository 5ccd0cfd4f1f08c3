#include <thread>

#include "graphql/engine.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "test_util.h"

namespace stackhouse::graphql {
namespace {

using testing::RunQuery;

TEST(ExecutorTest, ResolvesSelectionsInOrderWithAliases) {
  EXPECT_EQ(
      RunQuery("{ b: hello(name: \"b\") version a: hello __typename }").body,
      R"({"data":{"b":"hello b","version":"10.3.0-test","a":"hello world","__typename":"Query"}})");
}

TEST(ExecutorTest, FieldErrorCarriesPathAndLocation) {
  EXPECT_EQ(
      RunQuery("{ node { id items { fail } } }").body,
      R"({"errors":[)"
      R"({"message":"Exception while fetching data (/node/items/0/fail) : cannot compute fail of node 11","locations":[{"line":1,"column":21}],"path":["node","items",0,"fail"],"extensions":{"classification":"DataFetchingException"}},)"
      R"({"message":"Exception while fetching data (/node/items/2/fail) : cannot compute fail of node 12","locations":[{"line":1,"column":21}],"path":["node","items",2,"fail"],"extensions":{"classification":"DataFetchingException"}}],)"
      R"("data":{"node":{"id":"1","items":[{"fail":null},null,{"fail":null}]}}})");
}

TEST(ExecutorTest, NullPropagatesToTheNearestNullableParent) {
  // children: [Node!] — a failing non-null field nulls its node, which nulls the list.
  EXPECT_EQ(
      RunQuery("{ node { id children { id nullNonNull } } }").body,
      R"({"errors":[{"message":"The field at path '/node/children/0/nullNonNull' was declared as a non null type, but the code involved in retrieving data has wrongly returned a null value.","locations":[{"line":1,"column":27}],"path":["node","children",0,"nullNonNull"],"extensions":{"classification":"NullValueInNonNullableField"}}],"data":{"node":{"id":"1","children":null}}})");
  // Up to the root: data becomes null.
  EXPECT_EQ(
      RunQuery("{ version nonNullNode { failNonNull } }").body,
      R"({"errors":[{"message":"Exception while fetching data (/nonNullNode/failNonNull) : storage is unavailable","locations":[{"line":1,"column":25}],"path":["nonNullNode","failNonNull"],"extensions":{"classification":"DataFetchingException"}}],"data":null})");
}

TEST(ExecutorTest, MutationsRunSerially) {
  EXPECT_EQ(
      RunQuery(R"(mutation { a: append(entry: "1") b: append(entry: "2") c: append(entry: "3") })")
          .body,
      R"({"data":{"a":["1"],"b":["1","2"],"c":["1","2","3"]}})");
}

TEST(ExecutorTest, ExceptionsBecomeFieldErrors) {
  EXPECT_EQ(
      RunQuery("{ thrower }").body,
      R"({"errors":[{"message":"Exception while fetching data (/thrower) : kaboom","locations":[{"line":1,"column":3}],"path":["thrower"],"extensions":{"classification":"DataFetchingException"}}],"data":{"thrower":null}})");
}

TEST(ExecutorTest, LargeObjectArray) {
  Engine::Response response = RunQuery("{ nodes(count: 100000) { id value } }");
  ASSERT_EQ(response.outcome, Engine::Outcome::kExecuted);
  rapidjson::Document doc;
  doc.Parse(response.body.c_str());
  ASSERT_FALSE(doc.HasParseError());
  const auto& nodes = doc["data"]["nodes"];
  ASSERT_EQ(nodes.Size(), 100000u);
  EXPECT_STREQ(nodes[99999]["id"].GetString(), "99999");
  EXPECT_EQ(nodes[99999]["value"].GetInt(), 999);
}

TEST(ExecutorTest, ConcurrentRequestsShareTheSchema) {
  std::vector<std::thread> threads;
  std::vector<std::string> bodies(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(
        [&bodies, i] { bodies[i] = RunQuery("{ pets { name } nodes(count: 1000) { id } }").body; });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& body : bodies) EXPECT_EQ(body, bodies[0]);
}

TEST(ExecutorTest, RootValueAndTypedGetterMismatch) {
  SchemaBuilder builder;
  ASSERT_TRUE(builder.AddSdl("type Query { a: Int b: Int }").ok());
  struct Root {
    int a;
  };
  builder.BindGetter<Root>("Query.a", [](const Root& r) { return Result::Int(r.a); });
  builder.BindGetter<int>("Query.b", [](const int& i) { return Result::Int(i); });
  Engine engine(*builder.Build(), Limits());
  Root root{5};
  Engine::Options options;
  options.root_value = ObjectRef::Of(&root);
  EXPECT_EQ(
      engine.Execute({"{ a b }", Value(), ""}, options).body,
      R"({"errors":[{"message":"Exception while fetching data (/b) : unexpected parent object for Query.b","locations":[{"line":1,"column":5}],"path":["b"],"extensions":{"classification":"DataFetchingException"}}],"data":{"a":5,"b":null}})");
}

TEST(ExecutorTest, LimitsAreEnforcedAndNamed) {
  Limits limits;
  limits.max_query_depth = 3;
  Engine::Response deep = RunQuery("{ node { child { child { id } } } }", Value(), limits);
  EXPECT_EQ(deep.outcome, Engine::Outcome::kRequestError);
  EXPECT_EQ(
      deep.body,
      R"j({"errors":[{"message":"maximum query depth exceeded 4 > 3 (limit max_query_depth)","extensions":{"classification":"ExecutionAborted"}}]})j");
  limits = Limits();
  limits.max_fields = 5;
  EXPECT_EQ(
      RunQuery("{ a: version b: version c: version d: version e: version f: version }", Value(),
               limits)
          .body,
      R"j({"errors":[{"message":"maximum query complexity exceeded 6 > 5 (limit max_fields)","extensions":{"classification":"ExecutionAborted"}}]})j");
  limits = Limits();
  limits.max_tokens = 5;
  EXPECT_EQ(
      RunQuery("{ a b c d e }", Value(), limits).body,
      R"({"errors":[{"message":"More than 5 tokens have been presented; parsing has been cancelled (limit max_tokens) at line 1 column 11","locations":[{"line":1,"column":11}],"extensions":{"classification":"ExecutionAborted"}}]})");
}

TEST(ExecutorTest, DefaultLimitsAdmitTheIntrospectionQueryButNotExponentialFragments) {
  std::string doc = "{ node { ...F12 } }\n";
  doc += "fragment F0 on Node { id value }\n";
  for (int i = 1; i <= 12; ++i) {
    doc += "fragment F" + std::to_string(i) + " on Node { ...F" + std::to_string(i - 1) + " c" +
           std::to_string(i) + ": child { ...F" + std::to_string(i - 1) + " } }\n";
  }
  Engine::Response response = RunQuery(doc);
  EXPECT_EQ(response.outcome, Engine::Outcome::kRequestError);
  EXPECT_NE(response.body.find("max_fields"), std::string::npos) << response.body;
}

}  // namespace
}  // namespace stackhouse::graphql
