#include <string>

#include "common/json_writer.h"
#include "graphql/json_reader.h"
#include "gtest/gtest.h"

namespace stackhouse::graphql {
namespace {

std::string Quoted(const std::string& s) {
  std::string out;
  JsonWriter::AppendQuoted(s, &out);
  return out;
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(Quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quoted("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(Quoted(std::string("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
  EXPECT_EQ(Quoted("/</script>"), "\"/</script>\"");
}

TEST(JsonWriterTest, KeepsValidUtf8) {
  const std::string s = "\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF";
  EXPECT_EQ(Quoted(s), "\"" + s + "\"");
}

TEST(JsonWriterTest, ReplacesInvalidUtf8WithReplacementCharacter) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(Quoted("a\xFF"
                   "b"),
            "\"a" + r + "b\"");                                // invalid byte
  EXPECT_EQ(Quoted("\x80"), "\"" + r + "\"");                  // lone continuation
  EXPECT_EQ(Quoted("\xE2\x82"), "\"" + r + "\"");              // truncated at end
  EXPECT_EQ(Quoted("\xE2\x82x"), "\"" + r + "x\"");            // truncated sequence: one U+FFFD
  EXPECT_EQ(Quoted("\xC0\xAF"), "\"" + r + r + "\"");          // overlong: two
  EXPECT_EQ(Quoted("\xED\xA0\x80"), "\"" + r + r + r + "\"");  // surrogate
  EXPECT_EQ(Quoted("\xF5\x80\x80\x80"), "\"" + r + r + r + r + "\"");  // > U+10FFFF
  EXPECT_EQ(Quoted("\xF0\x9F\x98"), "\"" + r + "\"");                  // truncated 4-byte at end
}

TEST(JsonWriterTest, CommasNumbersAndRewind) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Int(-9223372036854775807 - 1);
  w.Double(0.1);
  w.Double(1.0 / 0.0);
  w.Bool(false);
  w.Null();
  w.EndArray();
  w.RawKey("\"b\":");
  JsonWriter::Mark mark = w.GetMark();
  w.BeginObject();
  w.Key("deep");
  w.BeginArray();
  w.String("discarded");
  w.Rewind(mark);
  w.Null();
  w.Key("c");
  w.RawValue("[1]");
  w.EndObject();
  EXPECT_EQ(out, R"({"a":[-9223372036854775808,0.1,null,false,null],"b":null,"c":[1]})");
}

// Streaming: released text is counted by marks; a rewind into it is reported, not done.
TEST(JsonWriterTest, ReleaseKeepsMarksAndReportsARewindIntoReleasedText) {
  std::string out;
  std::string sent;
  JsonWriter w(&out);
  w.BeginArray();
  w.Int(1);
  JsonWriter::Mark kept = w.GetMark();
  sent += out;
  w.Release();
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(w.released(), 2u);
  w.String("x");
  JsonWriter::Mark after = w.GetMark();
  sent += out;
  w.Release();
  w.BeginObject();
  w.Key("gone");
  w.Rewind(after);
  EXPECT_FALSE(w.rewind_lost());
  w.Int(2);
  w.EndArray();
  EXPECT_EQ(sent + out, R"([1,"x",2])");
  w.Rewind(kept);
  EXPECT_TRUE(w.rewind_lost());
  EXPECT_TRUE(out.empty());
}

TEST(JsonReaderTest, ParsesValues) {
  absl::StatusOr<Value> v = ParseJson(
      R"({"i": 1, "big": 9223372036854775807, "huge": 18446744073709551615, "f": 1.5,
          "s": "\u00e9\n", "b": true, "n": null, "l": [1, [2]], "o": {"k": "v"}, "i": 2})",
      64);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->Find("i")->int_value(), 2);  // last duplicate wins
  EXPECT_EQ(v->Find("big")->int_value(), INT64_MAX);
  EXPECT_EQ(v->Find("huge")->kind(), Value::Kind::kFloat);
  EXPECT_EQ(v->Find("f")->float_value(), 1.5);
  EXPECT_EQ(v->Find("s")->string_value(), "\xC3\xA9\n");
  EXPECT_TRUE(v->Find("b")->bool_value());
  EXPECT_TRUE(v->Find("n")->is_null());
  EXPECT_EQ(v->Find("l")->list()[1].list()[0].int_value(), 2);
  EXPECT_EQ(v->Find("o")->Find("k")->string_value(), "v");
  EXPECT_EQ(v->members().size(), 9u);
}

TEST(JsonReaderTest, RejectsMalformedAndDeepInput) {
  for (const char* bad :
       {"", "{", "{\"a\":}", "[1,]", "tru", "\"\\x\"", "1e400", "{} x", "{\"a\":1}garbage"}) {
    absl::StatusOr<Value> v = ParseJson(bad, 64);
    EXPECT_TRUE(absl::IsInvalidArgument(v.status())) << bad << " " << v.status();
  }
  EXPECT_TRUE(absl::IsInvalidArgument(ParseJson(std::string("{}\0{}", 5), 64).status()));
  std::string deep(1000000, '[');
  absl::StatusOr<Value> v = ParseJson(deep, 64);
  EXPECT_TRUE(absl::IsResourceExhausted(v.status())) << v.status();
  EXPECT_NE(v.status().message().find("max_json_depth"), absl::string_view::npos);
}

}  // namespace
}  // namespace stackhouse::graphql
