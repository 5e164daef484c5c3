// XLSX workbooks built here (shared and inline strings, numbers, sparse cells, several sheets)
// and the hand-built BIFF8 workbook tests/testdata/datasets/generated/questions.xls (see
// make_xls.py there).

#include <gtest/gtest.h>

#include "datasets/formats/test_support.h"

namespace vectorize::datasets::formats {
namespace {

using testing::ConvertPath;
using testing::TempDir;
using testing::TestData;
using testing::WriteXlsx;

std::string Str(const boost::json::object& o, const char* key) {
  return std::string(o.at(key).as_string());
}

TEST(Xlsx, SharedInlineNumbersAndSparseCells) {
  TempDir dir;
  WriteXlsx(dir / "w.xlsx", {{
                                {"", "", ""},  // an empty first row is skipped
                                {"Prompt", "#i:Chosen", "Rejected", "note"},
                                {"Grüße & <Tags>", "#i:inline ä", "#n:42.5"},
                                {"", "", ""},
                                {"=SUM(A1)", "#n:-3", "", "x"},
                                {"q4", "p4", "n4"},
                            }});
  auto c = ConvertPath(dir / "w.xlsx", "w.xlsx");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(c.result->classification, 'T');
  EXPECT_EQ(c.result->columns.question, "Prompt");
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(Str(c.rows[0], "question"), "Grüße & <Tags>");
  EXPECT_EQ(Str(c.rows[0], "positive"), "inline ä");
  EXPECT_EQ(Str(c.rows[0], "negative"), "42.5");
  EXPECT_EQ(Str(c.rows[1], "question"), "q4");
  EXPECT_EQ(c.result->skipped_rows, 1u);  // row 5 has no negative
}

TEST(Xlsx, SheetIndexFollowsWorkbookOrder) {
  TempDir dir;
  WriteXlsx(dir / "w.xlsx",
            {{{"question", "positive"}, {"first", "sheet"}},
             {{"query", "answer"}, {"second", "sheet"}, {"=cmd|' /C calc'!A0", "x"}}});
  auto first = ConvertPath(dir / "w.xlsx", "w.xlsx");
  ASSERT_TRUE(first.result.has_value()) << first.result.error().message;
  EXPECT_EQ(Str(first.rows[0], "question"), "first");

  auto second = ConvertPath(dir / "w.xlsx", "w.xlsx", ColumnOptions{{}, {}, {}, 1});
  ASSERT_FALSE(second.result.has_value());
  EXPECT_EQ(second.result.error().code, kInvalidCsvFormat);
  EXPECT_NE(second.result.error().message.find("row 3, column 'query'"), std::string::npos)
      << second.result.error().message;

  auto out_of_range = ConvertPath(dir / "w.xlsx", "w.xlsx", ColumnOptions{{}, {}, {}, 2});
  ASSERT_FALSE(out_of_range.result.has_value());
  EXPECT_EQ(out_of_range.result.error().code, kInvalidCsvFormat);
  EXPECT_NE(out_of_range.result.error().message.find("has 2 sheets"), std::string::npos);
}

TEST(Xlsx, NotAWorkbook) {
  TempDir dir;
  testing::WriteFile(dir / "junk.xlsx", "PK\x03\x04 this is not really a zip");
  auto junk = ConvertPath(dir / "junk.xlsx", "junk.xlsx");
  ASSERT_FALSE(junk.result.has_value());
  EXPECT_EQ(junk.result.error().code, kInvalidFile);
  EXPECT_FALSE(junk.output_exists);

  testing::WriteZip(dir / "plain.xlsx", {{"readme.txt", "hello"}});
  auto plain = ConvertPath(dir / "plain.xlsx", "plain.xlsx");
  ASSERT_FALSE(plain.result.has_value());
  EXPECT_EQ(plain.result.error().code, kInvalidFile);
  EXPECT_NE(plain.result.error().message.find("xl/workbook.xml"), std::string::npos);
}

TEST(Xlsx, SharedStringIndexIsChecked) {
  TempDir dir;
  auto sheet = [](std::string_view cell) {
    return "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" "
           "t=\"s\"><v>1</v></c></row><row r=\"2\">" +
           std::string(cell) + "<c r=\"B2\" t=\"s\"><v>1</v></c></row></sheetData></worksheet>";
  };
  const std::string workbook =
      "<workbook xmlns:r=\"r\"><sheets><sheet name=\"S\" r:id=\"rId1\"/></sheets></workbook>";
  const std::string sst = "<sst><si><t>question</t></si><si><t>positive</t></si></sst>";
  testing::WriteZip(dir / "bad.xlsx",
                    {{"xl/workbook.xml", workbook},
                     {"xl/sharedStrings.xml", sst},
                     {"xl/worksheets/sheet1.xml", sheet("<c r=\"A2\" t=\"s\"><v>7</v></c>")}});
  auto bad = ConvertPath(dir / "bad.xlsx", "bad.xlsx");
  ASSERT_FALSE(bad.result.has_value());
  EXPECT_EQ(bad.result.error().code, kInvalidFile);
  EXPECT_NE(bad.result.error().message.find("row 2: shared string '7' does not exist"),
            std::string::npos)
      << bad.result.error().message;

  // An empty cell typed as a shared string is just empty (the row is skipped, not refused).
  testing::WriteZip(dir / "empty.xlsx",
                    {{"xl/workbook.xml", workbook},
                     {"xl/sharedStrings.xml", sst},
                     {"xl/worksheets/sheet1.xml", sheet("<c r=\"A2\" t=\"s\"/>")}});
  auto empty = ConvertPath(dir / "empty.xlsx", "empty.xlsx");
  ASSERT_FALSE(empty.result.has_value());
  EXPECT_EQ(empty.result.error().code, kInvalidCsvFormat);  // its only row has no question
  EXPECT_NE(empty.result.error().message.find("none of its 1 rows"), std::string::npos)
      << empty.result.error().message;
}

TEST(Xlsx, DecompressionBombIsRefused) {
  TempDir dir;
  std::string sheet = "<?xml version=\"1.0\"?><worksheet><sheetData>" + std::string(64 << 20, ' ') +
                      "</sheetData></worksheet>";
  testing::WriteZip(
      dir / "bomb.xlsx",
      {{"xl/workbook.xml",
        "<workbook xmlns:r=\"r\"><sheets><sheet name=\"S\" r:id=\"rId1\"/></sheets></workbook>"},
       {"xl/worksheets/sheet1.xml", sheet}});
  auto c = ConvertPath(dir / "bomb.xlsx", "bomb.xlsx");
  ASSERT_FALSE(c.result.has_value());
  EXPECT_EQ(c.result.error().code, kInvalidFile);
  EXPECT_NE(c.result.error().message.find("zip bomb"), std::string::npos)
      << c.result.error().message;
}

TEST(Xls, HandBuiltBiff8Workbook) {
  auto c = ConvertPath(TestData("generated/questions.xls"), "questions.xls");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(c.result->format, InputFormat::kXls);
  EXPECT_EQ(c.result->rows, 200u);
  EXPECT_EQ(c.result->classification, 'T');
  EXPECT_EQ(Str(c.rows[0], "question"), "Grüße aus Köln – wie geht es?");
  EXPECT_EQ(Str(c.rows[0], "negative"), "1.5");
  EXPECT_EQ(Str(c.rows[1], "positive"), "'=SUM(1+1)");
  EXPECT_EQ(Str(c.rows[199], "question"), "Frage 200?");
  EXPECT_EQ(Str(c.rows[199], "negative"), "300");

  auto second = ConvertPath(TestData("generated/questions.xls"), "questions.xls",
                            ColumnOptions{{}, {}, {}, 1});
  ASSERT_TRUE(second.result.has_value()) << second.result.error().message;
  EXPECT_EQ(second.result->classification, 'D');
  ASSERT_EQ(second.rows.size(), 2u);
  EXPECT_EQ(Str(second.rows[0], "question"), "Zweite Frage");

  auto missing = ConvertPath(TestData("generated/questions.xls"), "questions.xls",
                             ColumnOptions{{}, {}, {}, 5});
  ASSERT_FALSE(missing.result.has_value());
  EXPECT_EQ(missing.result.error().code, kInvalidCsvFormat);
}

TEST(Xls, NotAnXlsFile) {
  auto c = ConvertPath(TestData("valid/default.csv"), "default.xls");
  ASSERT_FALSE(c.result.has_value());
  EXPECT_EQ(c.result.error().code, kInvalidFile);
  EXPECT_EQ(c.result.error().status, 400);
  EXPECT_FALSE(c.output_exists);
}

}  // namespace
}  // namespace vectorize::datasets::formats
