// CSV: delimiters, encodings, RFC 4180 quoting, locations in errors, limits, and a differential
// test against a writer of properly quoted CSV.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>

#include "datasets/formats/test_support.h"

namespace vectorize::datasets::formats {
namespace {

using testing::ConvertBytes;

std::string Str(const boost::json::object& o, const char* key) {
  return std::string(o.at(key).as_string());
}

TEST(Csv, DetectsSemicolonTabAndPipe) {
  for (char d : {';', '\t', '|', ','}) {
    std::string csv = fmt::format("question{0}positive{0}negative\n\"a, b\"{0}c{0}d\n", d);
    auto c = ConvertBytes("x.csv", csv);
    ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
    EXPECT_EQ(c.result->delimiter, d);
    ASSERT_EQ(c.rows.size(), 1u);
    EXPECT_EQ(Str(c.rows[0], "question"), "a, b");
    EXPECT_EQ(Str(c.rows[0], "negative"), "d");
  }
}

TEST(Csv, DelimiterDetectionIgnoresQuotedCharacters) {
  auto c = ConvertBytes("x.csv", "\"question,a,b,c\";positive\n\"x,y\";z\n",
                        ColumnOptions{"question,a,b,c", std::nullopt, std::nullopt, 0});
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(c.result->delimiter, ';');
  EXPECT_EQ(Str(c.rows[0], "question"), "x,y");
}

TEST(Csv, QuotedDelimitersNewlinesAndDoubledQuotes) {
  auto c = ConvertBytes("x.csv",
                        "question,positive\r\n"
                        "\"a, b; c | d\",\"line1\r\nline2\nline3\"\r\n"
                        "\"say \"\"hi\"\"\",\"\"\"\"\r\n");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(Str(c.rows[0], "question"), "a, b; c | d");
  EXPECT_EQ(Str(c.rows[0], "positive"), "line1\r\nline2\nline3");
  EXPECT_EQ(Str(c.rows[1], "question"), "say \"hi\"");
  EXPECT_EQ(Str(c.rows[1], "positive"), "\"");
  EXPECT_EQ(c.result->classification, 'D');
  EXPECT_FALSE(c.rows[0].contains("negative"));
}

TEST(Csv, Utf8BomIsNotPartOfTheHeader) {
  auto c = ConvertBytes("x.csv", "\xEF\xBB\xBFquestion,positive\nä,ö\n");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(c.result->encoding, "utf-8-sig");
  EXPECT_EQ(c.result->columns.question, "question");
  EXPECT_EQ(Str(c.rows[0], "question"), "ä");
}

TEST(Csv, Latin1AndWindows1252AreTranscoded) {
  // "Grüße" in Latin-1, then the euro sign and curly quotes of Windows-1252.
  auto c = ConvertBytes("x.csv",
                        "question;positive\nGr\xFC\xDF"
                        "e;\x80 5 \x93ok\x94\n");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(c.result->encoding, "windows-1252");
  EXPECT_EQ(Str(c.rows[0], "question"), "Grüße");
  EXPECT_EQ(Str(c.rows[0], "positive"), "€ 5 “ok”");
}

TEST(Csv, Latin1AfterALongAsciiPrefixIsStillLatin1) {
  std::string csv = "question,positive\n";
  for (int i = 0; i < 50000; ++i) csv += "plain ascii question,plain ascii answer\n";
  csv += "caf\xE9,na\xEFve\n";
  auto c = ConvertBytes("x.csv", csv);
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(c.result->encoding, "windows-1252");
  EXPECT_EQ(Str(c.rows.back(), "question"), "café");
  EXPECT_EQ(c.rows.size(), 50001u);
}

std::string Utf16(std::u16string_view s, bool le) {
  std::string out = le ? "\xFF\xFE" : "\xFE\xFF";
  for (char16_t u : s) {
    char a = static_cast<char>(u & 0xFF), b = static_cast<char>(u >> 8);
    out.push_back(le ? a : b);
    out.push_back(le ? b : a);
  }
  return out;
}

TEST(Csv, Utf16WithBomBothEndians) {
  for (bool le : {true, false}) {
    auto c = ConvertBytes("x.csv", Utf16(u"question\tpositive\r\nGrüße 😀\tok\r\n", le));
    ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
    EXPECT_EQ(c.result->encoding, le ? "utf-16le" : "utf-16be");
    EXPECT_EQ(c.result->delimiter, '\t');
    EXPECT_EQ(Str(c.rows[0], "question"), "Grüße 😀");
  }
}

TEST(Csv, RaggedRowNamesItsPhysicalLine) {
  auto c = ConvertBytes("x.csv", "question,positive\n\"multi\nline\",a\nb,c,d\n");
  ASSERT_FALSE(c.result.has_value());
  EXPECT_EQ(c.result.error().code, kInvalidCsvFormat);
  EXPECT_EQ(c.result.error().status, 422);
  EXPECT_NE(c.result.error().message.find("line 4 has 3 fields; the header has 2"),
            std::string::npos)
      << c.result.error().message;
  EXPECT_FALSE(c.output_exists);
}

TEST(Csv, UnterminatedQuoteAndGarbageAfterQuote) {
  auto open = ConvertBytes("x.csv", "question,positive\n\"never closed,a\n");
  ASSERT_FALSE(open.result.has_value());
  EXPECT_EQ(open.result.error().code, kInvalidCsvFormat);
  EXPECT_NE(open.result.error().message.find("line 2"), std::string::npos);
  auto junk = ConvertBytes("x.csv", "question,positive\n\"a\"b,c\n");
  ASSERT_FALSE(junk.result.has_value());
  EXPECT_EQ(junk.result.error().code, kInvalidCsvFormat);
}

TEST(Csv, NulByteIsRefusedWithItsLine) {
  auto c = ConvertBytes("x.csv", std::string("question,positive\na,b\nc\0d,e\n", 27));
  ASSERT_FALSE(c.result.has_value());
  EXPECT_EQ(c.result.error().code, kInvalidFile);
  EXPECT_EQ(c.result.error().status, 400);
  EXPECT_NE(c.result.error().message.find("NUL byte on line 3"), std::string::npos)
      << c.result.error().message;
}

TEST(Csv, InvalidUtf8AfterUtf8IsRefused) {
  auto c = ConvertBytes("x.csv", "question,positive\nä,b\nx\xFF,y\n");
  ASSERT_FALSE(c.result.has_value());
  EXPECT_EQ(c.result.error().code, kInvalidFile);
  EXPECT_NE(c.result.error().message.find("invalid UTF-8 on line 3"), std::string::npos)
      << c.result.error().message;
}

TEST(Csv, VeryLongFieldsCrossBufferRefills) {
  std::string big(5 << 20, 'x');
  big[12345] = ',';
  big[99999] = '"';
  std::string quoted;
  for (char ch : big) {
    quoted.push_back(ch);
    if (ch == '"') quoted.push_back('"');
  }
  auto c = ConvertBytes("x.csv", "question,positive\n\"" + quoted + "\",short\n");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(Str(c.rows[0], "question"), big);

  Limits small;
  small.max_record_bytes = 1 << 20;
  auto refused = ConvertBytes("x.csv", "question,positive\n\"" + quoted + "\",short\n", {}, small);
  ASSERT_FALSE(refused.result.has_value());
  EXPECT_EQ(refused.result.error().code, kPayloadTooLarge);
  EXPECT_EQ(refused.result.error().status, 413);
}

TEST(Csv, FileOverTheSizeLimitIs413) {
  Limits small;
  small.max_file_bytes = 10;
  auto c = ConvertBytes("x.csv", "question,positive\na,b\n", {}, small);
  ASSERT_FALSE(c.result.has_value());
  EXPECT_EQ(c.result.error().code, kPayloadTooLarge);
}

TEST(Csv, BlankLinesAndEmptyCellsAreSkippedAndCounted) {
  auto c = ConvertBytes("x.csv", "question,positive\n\na,b\n,c\n  ,d\ne,\nf,g\n\n");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(c.result->rows, 2u);
  EXPECT_EQ(c.result->skipped_rows, 3u);
  auto none = ConvertBytes("x.csv", "question,positive\n,b\na,\n");
  ASSERT_FALSE(none.result.has_value());
  EXPECT_EQ(none.result.error().code, kInvalidCsvFormat);
  EXPECT_FALSE(none.output_exists);
}

TEST(Csv, EmptyAndHeaderOnlyFiles) {
  for (const char* body : {"", "\xEF\xBB\xBF", " \n\r\n", "question,positive\n"}) {
    auto c = ConvertBytes("x.csv", body);
    ASSERT_FALSE(c.result.has_value());
    EXPECT_EQ(c.result.error().code, kEmptyFile) << c.result.error().message;
    EXPECT_EQ(c.result.error().status, 400);
  }
}

TEST(Csv, ExplicitColumnNamesWinAndMustExist) {
  ColumnOptions o{"Frage", "ANTWORT", "falsch", 0};
  auto c = ConvertBytes("x.csv", "question,frage,antwort,Falsch\nq,f,a,n\n", o);
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(Str(c.rows[0], "question"), "f");
  EXPECT_EQ(Str(c.rows[0], "positive"), "a");
  EXPECT_EQ(Str(c.rows[0], "negative"), "n");
  EXPECT_EQ(c.result->columns.question, "frage");

  ColumnOptions missing{std::nullopt, std::nullopt, "nope", 0};
  auto m = ConvertBytes("x.csv", "question,positive\na,b\n", missing);
  ASSERT_FALSE(m.result.has_value());
  EXPECT_EQ(m.result.error().code, kInvalidCsvFormat);
  EXPECT_NE(m.result.error().message.find("'nope' (negative_name) not found"), std::string::npos)
      << m.result.error().message;
}

TEST(Csv, FormulasAreNeutralisedNotRefused) {
  auto c = ConvertBytes("x.csv",
                        "question,positive,negative\n"
                        "=SUM(1+1),+1,-5\n"
                        "@x,\" =1\",\"\t=1\"\n"
                        "\"=HYPERLINK(\"\"http://a\"\")\",ok,fine\n");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(Str(c.rows[0], "question"), "'=SUM(1+1)");
  EXPECT_EQ(Str(c.rows[0], "positive"), "'+1");
  EXPECT_EQ(Str(c.rows[0], "negative"), "'-5");
  EXPECT_EQ(Str(c.rows[1], "question"), "'@x");
  EXPECT_EQ(Str(c.rows[1], "positive"), "' =1");
  EXPECT_EQ(Str(c.rows[1], "negative"), "'\t=1");
  EXPECT_EQ(Str(c.rows[2], "question"), "'=HYPERLINK(\"http://a\")");
  EXPECT_EQ(Str(c.rows[2], "positive"), "ok");
}

TEST(Csv, ControlCharactersSurviveJsonEscaping) {
  auto c = ConvertBytes("x.csv", "question,positive\n\"a\x01\\b\",\"\x1f\"\n");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(Str(c.rows[0], "question"), "a\x01\\b");
  EXPECT_EQ(Str(c.rows[0], "positive"), "\x1f");  // control characters alone are no formula
}

TEST(Csv, ErrorAfterManyRowsLeavesNoOutput) {
  std::string csv = "question,positive\n";
  for (int i = 0; i < 100000; ++i) csv += "some question text,some answer text\n";
  csv += "a,b,c\n";
  auto c = ConvertBytes("x.csv", csv);
  ASSERT_FALSE(c.result.has_value());
  EXPECT_NE(c.result.error().message.find("line 100002"), std::string::npos)
      << c.result.error().message;
  EXPECT_FALSE(c.output_exists);
}

// Random values (delimiters, quotes, CR/LF, non-ASCII) written with RFC 4180 quoting come back
// unchanged, across many buffer refills.
TEST(Csv, RoundTripsRandomQuotedValues) {
  std::mt19937 rng(7);
  const std::vector<std::string> atoms = {"a",    "Z", " ", ",", ";",  "\"",   "\n",
                                          "\r\n", "ü", "😀", "|", "\t", "word", "\"\""};
  auto value = [&] {
    std::string v = "v";  // never blank, never a formula
    int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) v += atoms[rng() % atoms.size()];
    return v;
  };
  auto quote = [](const std::string& v) {
    std::string q = "\"";
    for (char ch : v) {
      q.push_back(ch);
      if (ch == '"') q.push_back('"');
    }
    return q + "\"";
  };
  std::string csv = "question,positive,negative\n";
  std::vector<std::array<std::string, 3>> expected;
  for (int i = 0; i < 30000; ++i) {
    std::array<std::string, 3> row = {value(), value(), value()};
    csv += quote(row[0]) + "," + quote(row[1]) + "," + quote(row[2]) + (i % 2 ? "\r\n" : "\n");
    expected.push_back(row);
  }
  auto c = ConvertBytes("x.csv", csv);
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  ASSERT_EQ(c.rows.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(Str(c.rows[i], "question"), expected[i][0]) << i;
    ASSERT_EQ(Str(c.rows[i], "positive"), expected[i][1]) << i;
    ASSERT_EQ(Str(c.rows[i], "negative"), expected[i][2]) << i;
  }
}

}  // namespace
}  // namespace vectorize::datasets::formats
