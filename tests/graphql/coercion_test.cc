#include "graphql/coercion.h"

#include "common/json_writer.h"
#include "graphql/json_reader.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace stackhouse::graphql {
namespace {

using testing::TestSchema;

// Coerces JSON `json` to the type of Query.echo's argument `arg`.
absl::StatusOr<std::string> Coerce(absl::string_view arg, absl::string_view json) {
  const InputValueDef* def = TestSchema()->query_type()->FindField("echo")->FindArg(arg);
  absl::StatusOr<Value> value = ParseJson(json, 64);
  if (!value.ok()) return value.status();
  absl::StatusOr<Value> coerced = CoerceInputValue(*value, *def->type);
  if (!coerced.ok()) return coerced.status();
  return coerced->ToLiteral();
}

TEST(CoercionTest, Scalars) {
  EXPECT_EQ(*Coerce("int", "7"), "7");
  EXPECT_EQ(*Coerce("int", "7.0"), "7");
  EXPECT_FALSE(Coerce("int", "7.5").ok());
  EXPECT_FALSE(Coerce("int", "2147483648").ok());
  EXPECT_FALSE(Coerce("int", "\"7\"").ok());
  EXPECT_EQ(*Coerce("float", "7"), "7");
  EXPECT_EQ(*Coerce("long", "9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(*Coerce("long", "\"-42\""), "-42");
  EXPECT_EQ(*Coerce("long", "1e3"), "1000");
  EXPECT_FALSE(Coerce("long", "\"4x\"").ok());
  EXPECT_FALSE(Coerce("long", "1e19").ok());
  EXPECT_EQ(*Coerce("id", "12"), "\"12\"");
  EXPECT_EQ(*Coerce("id", "\"ab\""), "\"ab\"");
  EXPECT_FALSE(Coerce("id", "1.5").ok());
  EXPECT_FALSE(Coerce("boolean", "1").ok());
  EXPECT_EQ(*Coerce("step", "\"HOUR\""), "HOUR");
  EXPECT_EQ(Coerce("step", "\"YEAR\"").status().message(),
            "Invalid input for enum 'Step'. No value found for name 'YEAR'");
  EXPECT_EQ(*Coerce("json", R"j({"any": [1, "x"]})j"), R"j({any: [1, "x"]})j");
}

TEST(CoercionTest, ListsAndInputObjects) {
  EXPECT_EQ(*Coerce("ids", "\"a\""), R"(["a"])");  // single value to list
  EXPECT_EQ(*Coerce("ids", "[1, \"b\"]"), R"(["1", "b"])");
  EXPECT_EQ(Coerce("ids", "[\"a\", null]").status().message(),
            "Expected a non-null value of type 'ID!' at '[1]'");
  EXPECT_EQ(*Coerce("matrix", "[[1], 2, null]"), "[[1], [2], null]");
  EXPECT_EQ(*Coerce("filter", R"({"when": "5", "nested": {"ids": 3}})"),
            R"({limit: 10, nested: {ids: ["3"], limit: 10}, when: 5})");
  EXPECT_EQ(Coerce("filter", R"({"bogus": 1})").status().message(),
            "Field 'bogus' is not defined in input type 'Filter'");
  EXPECT_EQ(Coerce("duration", R"({"start": "a", "step": "DAY"})").status().message(),
            "Field 'end' of required type 'String!' was not provided");
  EXPECT_EQ(Coerce("filter", R"({"duration": {"start": 1, "end": "b", "step": "DAY"}})")
                .status()
                .message(),
            "Expected type 'String' but was '1' at 'duration.start'");
  EXPECT_EQ(Coerce("filter", "[]").status().message(),
            "Expected an object of type 'Filter' but was '[]'");
}

std::string Serialize(absl::string_view type, const Result& result) {
  std::string out;
  JsonWriter writer(&out);
  absl::Status status = SerializeLeaf(*TestSchema()->FindType(type), result, &writer);
  return status.ok() ? out : "error: " + std::string(status.message());
}

// A borrowed string is a string like an owned one, and not copied.
TEST(CoercionTest, ABorrowedStringIsAString) {
  const std::string stored = "com.example.Service.call(\"x\")";
  const Result borrowed = Result::BorrowedString(&stored);
  EXPECT_EQ(borrowed.kind(), Result::Kind::kString);
  EXPECT_EQ(&borrowed.string_value(), &stored);
  EXPECT_EQ(Serialize("String", borrowed), R"json("com.example.Service.call(\"x\")")json");
  EXPECT_EQ(Serialize("Long", Result::BorrowedString(&stored)),
            "error: Expected a value that can be converted to type 'Long' but it was a 'String'");
  EXPECT_TRUE(Result::BorrowedString(nullptr).is_null());
}

TEST(CoercionTest, SerializeLeaf) {
  EXPECT_EQ(Serialize("Int", Result::Int(5)), "5");
  EXPECT_EQ(Serialize("Int", Result::Float(5.0)), "5");
  EXPECT_EQ(Serialize("Int", Result::Int(int64_t{1} << 31)),
            "error: Expected a value that can be converted to type 'Int' but it was "
            "'2147483648' (outside the 32-bit range)");
  EXPECT_EQ(Serialize("Long", Result::Int(INT64_MIN)), "-9223372036854775808");
  EXPECT_EQ(Serialize("Long", Result::String("12")), "12");
  EXPECT_EQ(Serialize("ID", Result::Int(1)), "\"1\"");
  EXPECT_EQ(Serialize("String", Result::Int(1)), "\"1\"");
  EXPECT_EQ(Serialize("String", Result::Bool(true)), "\"true\"");
  EXPECT_EQ(Serialize("Float", Result::Int(2)), "2");
  EXPECT_EQ(Serialize("Boolean", Result::Int(1)),
            "error: Expected a value that can be converted to type 'Boolean' but it was '1'");
  EXPECT_EQ(Serialize("Step", Result::String("DAY")), "\"DAY\"");
  EXPECT_EQ(Serialize("Step", Result::String("day")), "error: Invalid value 'day' for enum 'Step'");
  EXPECT_EQ(Serialize("JSON", Result::Float(0.5)), "0.5");
}

}  // namespace
}  // namespace stackhouse::graphql
