#include "graphql/validator.h"

#include "graphql/introspection.h"
#include "graphql/parser.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace stackhouse::graphql {
namespace {

std::vector<Error> ValidateText(absl::string_view text) {
  absl::StatusOr<ast::Document> doc = ParseExecutableDocument(text, ParseOptions());
  EXPECT_TRUE(doc.ok()) << doc.status();
  if (!doc.ok()) return {};
  return Validate(*testing::TestSchema(), *doc);
}

std::vector<std::string> Messages(absl::string_view text) {
  std::vector<std::string> messages;
  for (const Error& error : ValidateText(text)) messages.push_back(error.message);
  return messages;
}

TEST(ValidatorTest, StandardIntrospectionQueryIsValid) {
  EXPECT_TRUE(ValidateText(StandardIntrospectionQuery()).empty());
}

TEST(ValidatorTest, RealClientDocumentsAreValid) {
  EXPECT_TRUE(Messages(R"(query ($serviceId: ID!, $n: Int!) {
      result: nodes(count: $n) { id value }
      echo(id: $serviceId)
    })")
                  .empty());
  // A nullable variable with a non-null default may feed a non-null argument.
  EXPECT_TRUE(Messages("query ($n: Int = 3) { nodes(count: $n) { id } }").empty());
  // A non-null variable may feed a nullable argument.
  EXPECT_TRUE(Messages("query ($s: String!) { hello(name: $s) }").empty());
  // Same field twice under aliases, and the same field merged from fragments.
  EXPECT_TRUE(Messages(R"({ value: hello label: hello
      pets { name ... on Dog { name barkVolume } ...N } }
      fragment N on Named { name })")
                  .empty());
}

TEST(ValidatorTest, MessagesFollowGraphqlJava) {
  EXPECT_EQ(
      Messages("{ foo }"),
      std::vector<std::string>{
          "Validation error (FieldUndefined@[foo]) : Field 'foo' in type 'Query' is undefined"});
  EXPECT_EQ(Messages("{ pets { name nope } }"),
            std::vector<std::string>{"Validation error (FieldUndefined@[pets/nope]) : Field "
                                     "'nope' in type 'Pet' is undefined"});
  EXPECT_EQ(Messages("query ($x: Int) { hello(name: $x) }"),
            std::vector<std::string>{"Validation error (VariableTypeMismatch@[hello]) : Variable "
                                     "'x' of type 'Int' used in position expecting type 'String'"});
}

TEST(ValidatorTest, FragmentCycleIsReportedOnceWithItsSpreads) {
  std::vector<Error> errors = ValidateText(R"(
    { pets { ...A } }
    fragment A on Pet { ...B }
    fragment B on Pet { ...A name })");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message,
            "Validation error (FragmentCycle) : Fragment cycles not allowed: A -> B -> A");
  ASSERT_EQ(errors[0].locations.size(), 2u);
  EXPECT_EQ(errors[0].locations[0].line, 3u);
  EXPECT_EQ(errors[0].locations[1].line, 4u);
}

TEST(ValidatorTest, VariablesUsedInFragmentsCountForTheOperation) {
  EXPECT_TRUE(
      Messages("query ($n: String) { ...F } fragment F on Query { hello(name: $n) }").empty());
  EXPECT_EQ(Messages("query A { ...F } fragment F on Query { hello(name: $n) }"),
            std::vector<std::string>{
                "Validation error (UndefinedVariable@[hello]) : Undefined variable 'n'"});
}

TEST(ValidatorTest, ConflictsAcrossFragmentsAndNestedSelections) {
  EXPECT_EQ(Messages("{ ...F hello: version } fragment F on Query { hello }"),
            std::vector<std::string>{"Validation error (FieldsConflict) : 'hello' : 'hello' and "
                                     "'version' are different fields"});
  EXPECT_EQ(Messages("{ pets { owner { x: name } } pets { owner { x: age } } }"),
            std::vector<std::string>{"Validation error (FieldsConflict) : 'pets' : 'owner' : "
                                     "'x' : 'name' and 'age' are different fields"});
  // Different object parents may use one response name for different fields, not types.
  EXPECT_TRUE(
      Messages("{ pets { ... on Dog { v: barkVolume } ... on Cat { v: lives } } }").empty());
  EXPECT_EQ(Messages("{ pets { ... on Dog { v: barkVolume } ... on Cat { v: name } } }"),
            std::vector<std::string>{"Validation error (FieldsConflict@[pets]) : 'v' : they "
                                     "return differing types 'Int' and 'String!'"});
}

}  // namespace
}  // namespace stackhouse::graphql
