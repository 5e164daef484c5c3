// JSON, JSON Lines and XML readers.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "datasets/formats/test_support.h"

namespace vectorize::datasets::formats {
namespace {

using testing::ConvertBytes;

std::string Str(const boost::json::object& o, const char* key) {
  return std::string(o.at(key).as_string());
}

void ExpectError(const testing::Converted& c, std::string_view code, std::string_view fragment) {
  ASSERT_FALSE(c.result.has_value());
  EXPECT_EQ(c.result.error().code, code) << c.result.error().message;
  EXPECT_NE(c.result.error().message.find(fragment), std::string::npos) << c.result.error().message;
  EXPECT_FALSE(c.output_exists);
}

TEST(Json, ArrayAndDataObject) {
  auto a =
      ConvertBytes("x.json", R"([{"anchor":"q1","answer":"p1"},{"anchor":"q2","answer":"p2"}])");
  ASSERT_TRUE(a.result.has_value()) << a.result.error().message;
  EXPECT_EQ(a.result->rows, 2u);
  EXPECT_EQ(a.result->classification, 'D');
  auto d = ConvertBytes(
      "x.json", R"({"meta":{"x":[1,2]},"data":[{"question":"q","positive":"p","negative":"n"}]})");
  ASSERT_TRUE(d.result.has_value()) << d.result.error().message;
  EXPECT_EQ(d.result->classification, 'T');
  EXPECT_EQ(Str(d.rows[0], "negative"), "n");
}

TEST(Json, ScalarsBecomeTextAndEscapesAreDecoded) {
  auto c = ConvertBytes("x.json",
                        "\xEF\xBB\xBF[{\"question\":\"caf\\u00e9 \\ud83d\\ude00\",\"positive\":42,"
                        "\"negative\":true,\"extra\":{\"deep\":[1]}},"
                        "{\"question\":\"q\",\"positive\":-1.5e3,\"negative\":null}]");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(Str(c.rows[0], "question"), "café 😀");
  EXPECT_EQ(Str(c.rows[0], "positive"), "42");
  EXPECT_EQ(Str(c.rows[0], "negative"), "true");
  EXPECT_EQ(c.result->rows, 1u);  // the second has a null negative
  EXPECT_EQ(c.result->skipped_rows, 1u);
}

TEST(Json, WrongShapesAre422) {
  ExpectError(ConvertBytes("x.json", R"({"rows":[]})"), kInvalidCsvFormat, "\"data\" array");
  ExpectError(ConvertBytes("x.json", R"([{"question":"q","positive":"p"}, "text"])"),
              kInvalidCsvFormat, "item 2 of the array is a string");
  ExpectError(ConvertBytes("x.json", R"([[1,2]])"), kInvalidCsvFormat, "expected a JSON object");
  ExpectError(ConvertBytes("x.json", R"([{"question":{"a":1},"positive":"p"}])"), kInvalidCsvFormat,
              "record 1, field 'question': expected text");
}

TEST(Json, MalformedJsonIs400WithTheLine) {
  ExpectError(ConvertBytes("x.json", "[\n{\"question\":\"q\",\n\"positive\": oops}\n]"),
              kInvalidFile, "line 3");
  ExpectError(ConvertBytes("x.json", "[{\"question\":\"q\",\"positive\":\"p\"}]\n\n]"),
              kInvalidFile, "unexpected data after the JSON on line 3");
  ExpectError(ConvertBytes("x.json", "[{\"question\":\"q\",\"positive\":\"p\"}"), kInvalidFile,
              "ends too early");
  ExpectError(ConvertBytes("x.json", "[{\"question\":\"q\xFF\",\"positive\":\"p\"}]"), kInvalidFile,
              "invalid JSON");
  ExpectError(ConvertBytes("x.json", std::string("[{\"question\":\"a\0b\"}]", 21)), kInvalidFile,
              "invalid JSON");
  ExpectError(ConvertBytes("x.json", R"([{"question":"a\u0000b","positive":"p"}])"), kInvalidFile,
              "NUL byte in record 1, column 'question'");
}

TEST(Json, EmptyArraysAreEmptyFiles) {
  ExpectError(ConvertBytes("x.json", "[]"), kEmptyFile, "no rows");
  ExpectError(ConvertBytes("x.json", " {\"data\": [] }\n"), kEmptyFile, "no rows");
  ExpectError(ConvertBytes("x.jsonl", "\n\n  \n"), kEmptyFile, "no rows");
}

TEST(Json, LargeArrayStreamsAcrossChunks) {
  std::string json = "[";
  for (int i = 0; i < 60000; ++i) {
    json +=
        fmt::format(R"({}{{"question":"question number {}","positive":"answer \"{}\"","n":{}}})",
                    i ? "," : "", i, i, i);
  }
  json += "]";
  auto c = ConvertBytes("x.json", json);
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  ASSERT_EQ(c.rows.size(), 60000u);
  EXPECT_EQ(Str(c.rows[59999], "question"), "question number 59999");
  EXPECT_EQ(Str(c.rows[12345], "positive"), "answer \"12345\"");
}

TEST(Jsonl, BlankLinesCrlfAndBom) {
  auto c = ConvertBytes("x.jsonl",
                        "\xEF\xBB\xBF{\"q\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\r\n\r\n   \n"
                        "{\"q\":\"d\",\"chosen\":\"e\",\"rejected\":\"f\"}");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(Str(c.rows[1], "negative"), "f");
}

TEST(Jsonl, BadLineNamesItsNumber) {
  ExpectError(ConvertBytes("x.jsonl", "{\"question\":\"a\",\"positive\":\"b\"}\n\n{oops}\n"),
              kInvalidFile, "line 3 is not valid JSON");
  ExpectError(ConvertBytes("x.jsonl", "{\"question\":\"a\",\"positive\":\"b\"}\n[1]\n"),
              kInvalidCsvFormat, "line 2 is a JSON array");
  ExpectError(ConvertBytes("x.jsonl", "{\"question\":\"a\",\"positive\":\"b\"}\n\"s\"\n"),
              kInvalidCsvFormat, "line 2 is a string");
  ExpectError(
      ConvertBytes("x.jsonl", std::string("{\"question\":\"a\",\"positive\":\"b\"}\n{\0}\n", 37)),
      kInvalidFile, "NUL byte on line 2");
  ExpectError(ConvertBytes("x.jsonl", "{\"question\":\"a\",\"positive\":\"b\"} {}\n"), kInvalidFile,
              "line 1 is not valid JSON");
}

TEST(Jsonl, LongLinesAndTheLimit) {
  std::string v(3 << 20, 'y');
  std::string line = "{\"question\":\"" + v + "\",\"positive\":\"p\"}\n";
  auto ok = ConvertBytes("x.jsonl", line + line);
  ASSERT_TRUE(ok.result.has_value()) << ok.result.error().message;
  EXPECT_EQ(ok.rows.size(), 2u);
  Limits small;
  small.max_record_bytes = 1 << 20;
  auto refused = ConvertBytes("x.jsonl", line, {}, small);
  ASSERT_FALSE(refused.result.has_value());
  EXPECT_EQ(refused.result.error().code, kPayloadTooLarge);
}

TEST(Jsonl, ManyLinesAcrossBufferRefills) {
  std::string body;
  for (int i = 0; i < 200000; ++i) {
    body += fmt::format("{{\"question\":\"q{}\",\"positive\":\"p{}\"}}\n", i, i);
  }
  auto c = ConvertBytes("x.jsonl", body);
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  ASSERT_EQ(c.rows.size(), 200000u);
  EXPECT_EQ(Str(c.rows[199999], "positive"), "p199999");
  EXPECT_EQ(Str(c.rows[131071], "question"), "q131071");
}

TEST(Xml, ChildElementsAndAttributesAreColumns) {
  auto c =
      ConvertBytes("x.xml",
                   "<?xml version=\"1.0\"?>\n<rows>\n"
                   "  <row question=\"from attr\"><answer>a &amp; b</answer></row>\n"
                   "  <row><question><![CDATA[<raw>]]></question><answer>x<b>y</b></answer></row>\n"
                   "</rows>");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(Str(c.rows[0], "question"), "from attr");
  EXPECT_EQ(Str(c.rows[0], "positive"), "a & b");
  EXPECT_EQ(Str(c.rows[1], "question"), "<raw>");
  EXPECT_EQ(Str(c.rows[1], "positive"), "xy");
}

TEST(Xml, NamespacePrefixesAreIgnored) {
  auto c = ConvertBytes("x.xml",
                        "<d:rows xmlns:d=\"urn:x\"><d:row d:q=\"a\"><d:chosen>b</d:chosen>"
                        "</d:row></d:rows>");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(c.result->columns.question, "q");
  EXPECT_EQ(Str(c.rows[0], "positive"), "b");
}

TEST(Xml, DoctypeEntitiesAreRefused) {
  ExpectError(ConvertBytes("x.xml",
                           "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                           "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>\n"
                           "<rows><row><question>&lol2;</question><answer>a</answer></row></rows>"),
              kInvalidFile, "DOCTYPE");
}

TEST(Xml, MalformedNulAndEmpty) {
  ExpectError(ConvertBytes("x.xml", "<rows>\n<row><question>a</question>\n</rows>"), kInvalidFile,
              "invalid XML on line 3");
  ExpectError(ConvertBytes("x.xml", std::string("<rows>\n<row><q>a\0</q></row></rows>", 32)),
              kInvalidFile, "line 2");
  ExpectError(ConvertBytes("x.xml", "<rows></rows>"), kEmptyFile, "no rows");
  ExpectError(
      ConvertBytes("x.xml", "<rows><row><q>a</q><chosen>=cmd|' /C calc'!A0</chosen></row></rows>"),
      kInvalidCsvFormat, "line 1, column 'chosen'");
}

}  // namespace
}  // namespace vectorize::datasets::formats
