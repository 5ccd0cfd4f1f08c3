#include <string>

#include "graphql/lexer.h"
#include "graphql/parser.h"
#include "gtest/gtest.h"

namespace stackhouse::graphql {
namespace {

ast::Document ParseOk(const std::string& source) {
  absl::StatusOr<ast::Document> doc = ParseExecutableDocument(source, ParseOptions());
  EXPECT_TRUE(doc.ok()) << doc.status();
  return doc.ok() ? *std::move(doc) : ast::Document();
}

ParseError ParseFails(const std::string& source, ParseOptions options = ParseOptions()) {
  ParseError error;
  absl::StatusOr<ast::Document> doc = ParseExecutableDocument(source, options, &error);
  EXPECT_FALSE(doc.ok()) << source;
  return error;
}

std::string LexString(const std::string& source) {
  Lexer lexer(source, 100);
  Token token;
  lexer.Next(&token);
  EXPECT_TRUE(token.kind == TokenKind::kString || token.kind == TokenKind::kBlockString)
      << lexer.error();
  return token.value;
}

TEST(LexerTest, PunctuationNamesNumbersAndLocations) {
  Lexer lexer("\xEF\xBB\xBF{ a, # comment\n  ...  -12 3.5e-2 $x }", 100);
  Token t;
  std::vector<std::pair<TokenKind, std::string>> seen;
  for (lexer.Next(&t); t.kind != TokenKind::kEof; lexer.Next(&t)) {
    ASSERT_NE(t.kind, TokenKind::kError) << lexer.error();
    seen.emplace_back(t.kind, std::string(t.raw));
  }
  std::vector<std::pair<TokenKind, std::string>> expected = {
      {TokenKind::kBraceL, "{"}, {TokenKind::kName, "a"},       {TokenKind::kSpread, "..."},
      {TokenKind::kInt, "-12"},  {TokenKind::kFloat, "3.5e-2"}, {TokenKind::kDollar, "$"},
      {TokenKind::kName, "x"},   {TokenKind::kBraceR, "}"}};
  EXPECT_EQ(seen, expected);
}

TEST(LexerTest, ColumnsCountCodePoints) {
  ast::Document doc = ParseOk("{ a(x: \"\xC3\xA9\xC3\xA9\") b }");
  ASSERT_EQ(doc.operations[0].selection_set.size(), 2u);
  EXPECT_EQ(doc.operations[0].selection_set[1].location.column, 14u);
}

TEST(LexerTest, StringEscapes) {
  EXPECT_EQ(LexString(R"("a\"b\\c\/d\b\f\n\r\t")"), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(LexString(R"("\u00e9\u20AC")"), "\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(LexString(R"("\uD83D\uDE00")"), "\xF0\x9F\x98\x80");  // surrogate pair
  EXPECT_EQ(LexString(R"("\u{1F600}")"), "\xF0\x9F\x98\x80");
}

TEST(LexerTest, BlockStringsAreDedented) {
  EXPECT_EQ(LexString("\"\"\"\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  \"\"\""),
            "Hello,\n  World!\n\nYours,\n  GraphQL.");
  EXPECT_EQ(LexString(R"("""a \""" b""")"), "a \"\"\" b");
  EXPECT_EQ(LexString("\"\"\"\r\n  x\r\n\"\"\""), "x");
}

TEST(LexerTest, MalformedTokensReportPositions) {
  struct Case {
    std::string source;
    std::string message;
    uint32_t line, column;
  };
  for (const Case& c : std::vector<Case>{
           {"{ a(x: \"\\q\") }", "Invalid character escape sequence: '\\q' at line 1 column 9", 1,
            9},
           {"{ a(x: \"\\uD800\") }", "Invalid Unicode escape sequence", 1, 9},
           {"{ a(x: \"\\u12\") }", "Invalid Unicode escape sequence", 1, 9},
           {"{\n a(x: \"abc\n\") }", "Unterminated string at line 2 column 7", 2, 7},
           {"{ a(x: \"\"\"abc) }", "Unterminated string", 1, 8},
           {"{ a(x: 01) }", "unexpected digit after 0", 1, 9},
           {"{ a(x: 1.) }", "expected digit", 1, 10},
           {"{ a(x: 12abc) }", "Invalid number, unexpected 'a'", 1, 10},
           {"{ a(x: 1e) }", "expected digit", 1, 10},
           {"{ a ? }", "Unexpected character '?'", 1, 5},
           {"{ a(x: \"\x01\") }", "Invalid character within String: \\u0001", 1, 9},
           {"{ a .. }", "did you mean '...'", 1, 5},
       }) {
    ParseError error = ParseFails(c.source);
    EXPECT_NE(error.message.find(c.message), std::string::npos)
        << c.source << " → " << error.message;
    EXPECT_EQ(error.location.line, c.line) << c.source;
    EXPECT_EQ(error.location.column, c.column) << c.source;
  }
}

TEST(ParserTest, FullExecutableDocument) {
  ast::Document doc = ParseOk(R"(
    query Q($a: [ID!]! = ["x"], $b: Filter @dir) @op {
      alias: field(arg: $a, obj: {k: [1, 2.5, "s", true, null, ENUM]}) @include(if: true) {
        ...Frag
        ... on Dog { name }
        ... @skip(if: false) { id }
      }
    }
    fragment Frag on Thing { x }
    mutation { m }
    { shorthand }
  )");
  ASSERT_EQ(doc.operations.size(), 3u);
  ASSERT_EQ(doc.fragments.size(), 1u);
  const ast::OperationDefinition& q = doc.operations[0];
  EXPECT_EQ(q.name, "Q");
  ASSERT_EQ(q.variables.size(), 2u);
  EXPECT_EQ(q.variables[0].type.kind, ast::Type::Kind::kNonNull);
  EXPECT_EQ(q.variables[0].type.NamedType(), "ID");
  EXPECT_TRUE(q.variables[0].default_value.has_value());
  const ast::Selection& field = q.selection_set[0];
  EXPECT_EQ(field.alias, "alias");
  EXPECT_EQ(field.name, "field");
  EXPECT_EQ(field.arguments[1].value.fields[0].value.list.size(), 6u);
  EXPECT_EQ(field.selection_set[0].kind, ast::Selection::Kind::kFragmentSpread);
  EXPECT_EQ(field.selection_set[1].type_condition, "Dog");
  EXPECT_EQ(field.selection_set[2].type_condition, "");
  EXPECT_EQ(doc.operations[1].operation, ast::OperationType::kMutation);
  EXPECT_EQ(doc.operations[2].name, "");
}

TEST(ParserTest, SyntaxErrorsNameTheOffendingToken) {
  ParseError error = ParseFails("{ a(x: ) }");
  EXPECT_EQ(error.message, "offending token ')' at line 1 column 8 (expected a value)");
  EXPECT_EQ(
      ParseFails("").message,
      "offending token '<EOF>' at line 1 column 1 (expected an operation or fragment definition)");
  EXPECT_EQ(ParseFails("{ a").message,
            "offending token '<EOF>' at line 1 column 4 (expected Name)");
  EXPECT_EQ(ParseFails("{ }").message, "offending token '}' at line 1 column 3 (expected Name)");
  EXPECT_EQ(ParseFails("query ($x: Int = $y) { a }").location.column, 18u);  // const default
  EXPECT_NE(ParseFails("type Query { a: Int }").message.find("offending token 'type'"),
            std::string::npos);
  EXPECT_NE(ParseFails("fragment on on X { a }").message.find("'on'"), std::string::npos);
}

TEST(ParserTest, DeepNestingHitsTheDepthLimitNotTheStack) {
  auto repeat = [](const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
  };
  for (const std::string& source :
       {repeat("{a", 300000), "{a(x:" + repeat("[", 300000), "{a(x:" + repeat("{b:", 300000),
        "query($v:" + repeat("[", 300000)}) {
    ParseError error = ParseFails(source);
    EXPECT_TRUE(error.limit_exceeded) << error.message;
    EXPECT_NE(error.message.find("max_query_depth"), std::string::npos);
  }
}

TEST(ParserTest, TokenLimit) {
  ParseOptions options;
  options.max_tokens = 10;
  ParseError error = ParseFails("{ a b c d e f g h i j k }", options);
  EXPECT_TRUE(error.limit_exceeded);
  EXPECT_NE(error.message.find("max_tokens"), std::string::npos);
}

TEST(ParserTest, TypeSystemDocument) {
  absl::StatusOr<ast::TypeSystemDocument> doc = ParseTypeSystemDocument(R"(
    """Block description"""
    schema { query: Q mutation: M }
    "single" scalar Long @specifiedBy(url: "u")
    type A implements & B & C @d { "f" f(a: Int = 1 @deprecated, b: [In!]! = [{x: 1}]): [A!]! @deprecated(reason: "r") }
    interface B implements C { f: Int }
    union U = | A | D
    enum E { "v" V W @deprecated }
    input In { x: Int = 3 }
    extend type Q { more: Int }
    directive @d(x: Int) repeatable on | OBJECT | FIELD_DEFINITION
  )",
                                                                        ParseOptions());
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->schemas.size(), 1u);
  EXPECT_EQ(doc->schemas[0].description, "Block description");
  ASSERT_EQ(doc->types.size(), 7u);
  EXPECT_EQ(doc->types[0].description, "single");
  EXPECT_EQ(doc->types[1].interfaces, (std::vector<std::string>{"B", "C"}));
  EXPECT_EQ(doc->types[1].fields[0].arguments.size(), 2u);
  EXPECT_EQ(doc->types[3].members, (std::vector<std::string>{"A", "D"}));
  EXPECT_EQ(doc->types[4].enum_values.size(), 2u);
  EXPECT_TRUE(doc->types[6].is_extension);
  ASSERT_EQ(doc->directives.size(), 1u);
  EXPECT_TRUE(doc->directives[0].repeatable);
  EXPECT_EQ(doc->directives[0].locations, (std::vector<std::string>{"OBJECT", "FIELD_DEFINITION"}));
}

}  // namespace
}  // namespace stackhouse::graphql
