#include "graphql/schema.h"

#include "gtest/gtest.h"
#include "test_util.h"

namespace stackhouse::graphql {
namespace {

absl::Status BuildStatus(std::vector<std::string> sdls, std::vector<std::string> resolvers = {}) {
  SchemaBuilder builder;
  for (const std::string& sdl : sdls) {
    absl::Status status = builder.AddSdl(sdl, "test.graphqls");
    if (!status.ok()) return status;
  }
  for (const std::string& coordinate : resolvers) {
    builder.BindResolver(coordinate, [](const ResolverContext&) -> absl::StatusOr<Result> {
      return Result::Null();
    });
  }
  return builder.Build().status();
}

TEST(SchemaTest, TestSchemaBuildsWithExtensionsFromSeveralFiles) {
  std::shared_ptr<const Schema> schema = testing::TestSchema();
  ASSERT_NE(schema, nullptr);
  EXPECT_EQ(schema->query_type()->name, "Query");
  EXPECT_EQ(schema->mutation_type()->name, "Mutation");
  EXPECT_EQ(schema->subscription_type(), nullptr);
  EXPECT_NE(schema->query_type()->FindField("pets"), nullptr);   // from pets.graphqls
  EXPECT_NE(schema->query_type()->FindField("nodes"), nullptr);  // from errors.graphqls
  EXPECT_EQ(schema->FindType("Long")->scalar_kind, ScalarKind::kLong);
  EXPECT_EQ(schema->FindType("JSON")->specified_by_url, "https://www.rfc-editor.org/rfc/rfc8259");
  const TypeDef* pet = schema->FindType("Pet");
  ASSERT_EQ(pet->possible_types.size(), 2u);
  EXPECT_EQ(pet->possible_types[0]->name, "Dog");
  const FieldDef* nickname = schema->FindType("Cat")->FindField("nickname");
  EXPECT_TRUE(nickname->deprecated);
  EXPECT_EQ(nickname->deprecation_reason, "Use `name`.");
  EXPECT_EQ(schema->FindType("DogCommand")->FindEnumValue("ROLL")->deprecation_reason,
            "No longer supported");
  const InputValueDef* limit = schema->FindType("Filter")->FindInputField("limit");
  EXPECT_EQ(limit->default_value_literal, "10");
  EXPECT_EQ(schema->query_type()->FindField("hello")->FindArg("name")->default_value_literal,
            "\"world\"");
  EXPECT_EQ(schema->FindType("Query")->description, "");
  EXPECT_EQ(schema->description(),
            "The test schema of the GraphQL engine's golden tests.\n"
            "It is split over several files that extend the root types, "
            "as SkyWalking's schema is.");
  // Types are listed by name, built-ins and introspection types included.
  EXPECT_EQ(schema->types().front()->name, "BadScalars");
  EXPECT_NE(schema->FindType("__Schema"), nullptr);
}

TEST(SchemaTest, ExtensionMayComeBeforeItsDefinition) {
  EXPECT_TRUE(BuildStatus({"extend type Query { b: Int }", "type Query { a: Int }"}).ok());
}

TEST(SchemaTest, ReportsEveryProblem) {
  absl::Status status = BuildStatus({R"(
        type Query { a: Missing, b(x: Query): Int, c: In }
        type Query { dup: Int }
        extend type Nothing { x: Int }
        interface I { f(x: Int): Int }
        type O implements I { g: Int }
        input In { x: Int = "no" }
        union U = In
        enum E { A A }
      )"},
                                    {"Query.nope", "I.f"});
  ASSERT_TRUE(absl::IsInvalidArgument(status));
  for (const char* expected : {
           "type 'Query' is defined more than once",
           "field 'Query.a' refers to unknown type 'Missing'",
           "argument 'x' has type 'Query', which is not an input type",
           "field 'Query.c' has input type 'In', which is not an output type",
           "cannot extend undefined type 'Nothing'",
           "type 'O' implements 'I' but has no field 'f'",
           "input field 'In.x' has an invalid default value: Expected type 'Int' but was '\"no\"'",
           "union 'U' member 'In' is not a defined object type",
           "enum value 'E.A' is defined more than once",
           "resolver bound to 'Query.nope'",
           "resolver bound to 'I.f'",
       }) {
    EXPECT_NE(status.message().find(expected), absl::string_view::npos)
        << expected << "\nin: " << status.message();
  }
}

TEST(SchemaTest, SyntaxErrorsNameTheFile) {
  absl::Status status = BuildStatus({"type Query { a: }"});
  EXPECT_EQ(status.message(),
            "test.graphqls: Invalid Syntax : offending token '}' at line 1 column 17 (expected "
            "Name)");
}

TEST(SchemaTest, RequiresAQueryType) {
  EXPECT_NE(BuildStatus({"type Foo { a: Int }"}).message().find("root type 'Query' is not defined"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace stackhouse::graphql
