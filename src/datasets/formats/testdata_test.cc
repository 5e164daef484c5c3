// Every file of the Python original's test data (tests/testdata/datasets, copied from
// shared/data/vectorize-test-data) with the outcome SPEC §3.1 gives it.

#include <gtest/gtest.h>

#include <map>

#include "datasets/formats/test_support.h"

namespace vectorize::datasets::formats {
namespace {

using testing::ConvertPath;
using testing::TempDir;
using testing::TestData;

constexpr const char* kFirstQuestion = "Wie kann ich mein Passwort zurücksetzen?";
constexpr const char* kFirstPositive =
    "Wie setze ich mein Passwort auf die Standardeinstellung zurück?";
constexpr const char* kFirstNegative = "Wie kann ich meine Bestellung stornieren?";

void ExpectDefaultTriples(const testing::Converted& c) {
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(c.result->rows, 5u);
  EXPECT_EQ(c.result->classification, 'T');
  ASSERT_EQ(c.rows.size(), 5u);
  EXPECT_EQ(c.rows[0].at("question").as_string(), kFirstQuestion);
  EXPECT_EQ(c.rows[0].at("positive").as_string(), kFirstPositive);
  EXPECT_EQ(c.rows[0].at("negative").as_string(), kFirstNegative);
  EXPECT_EQ(c.rows[4].at("question").as_string(), "Gibt es Rabatte für Stammkunden?");
}

void ExpectError(const testing::Converted& c, std::string_view code, int status) {
  ASSERT_FALSE(c.result.has_value());
  EXPECT_EQ(c.result.error().code, code) << c.result.error().message;
  EXPECT_EQ(c.result.error().status, status);
  EXPECT_FALSE(c.output_exists);
}

TEST(TestData, ValidFilesInEveryFormatGiveTheSameFiveTriples) {
  for (const char* name :
       {"default.csv", "default.json", "default.jsonl", "default.xml", "default.xlsx"}) {
    SCOPED_TRACE(name);
    auto c = ConvertPath(TestData(std::string("valid/") + name), name);
    ExpectDefaultTriples(c);
  }
}

TEST(TestData, DefaultCsvReportsItsDetection) {
  auto c = ConvertPath(TestData("valid/default.csv"), "default.csv");
  ASSERT_TRUE(c.result.has_value());
  EXPECT_EQ(c.result->delimiter, ',');
  EXPECT_EQ(c.result->encoding, "utf-8");
  EXPECT_EQ(c.result->columns.question, "prompt");
  EXPECT_EQ(c.result->columns.positive, "chosen");
  EXPECT_EQ(c.result->columns.negative, "rejected");
  EXPECT_EQ(c.result->format, InputFormat::kCsv);
}

TEST(TestData, AliasColumnsAreFound) {
  auto custom = ConvertPath(TestData("valid/custom_fields.csv"), "custom_fields.csv");
  ExpectDefaultTriples(custom);
  EXPECT_EQ(custom.result->columns.question, "q");
  EXPECT_EQ(custom.result->columns.positive, "answer");
  EXPECT_EQ(custom.result->columns.negative, "no_context");
  auto infer = ConvertPath(TestData("valid/infer_fields.csv"), "infer_fields.csv");
  ExpectDefaultTriples(infer);
  EXPECT_EQ(infer.result->columns.question, "query");
  EXPECT_EQ(infer.result->columns.negative, "random");
}

// Extracts a zip and converts every file; returns filename → error code ("" = ok).
std::map<std::string, std::string> ConvertZip(const char* zip, size_t* count) {
  TempDir dir;
  auto files = ExtractZip(TestData(zip), dir.path());
  EXPECT_TRUE(files.has_value()) << (files ? "" : files.error().message);
  std::map<std::string, std::string> out;
  if (!files) return out;
  *count = files->size();
  for (const auto& f : *files) {
    auto c = ConvertPath(f.path, f.filename);
    out[f.filename] = c.result ? "" : c.result.error().code;
    if (c.result) ExpectDefaultTriples(c);
  }
  return out;
}

TEST(TestData, DefaultZipGivesFiveDatasetsAndSkipsMacJunk) {
  size_t n = 0;
  auto out = ConvertZip("valid/default.zip", &n);
  EXPECT_EQ(n, 5u);
  for (const auto& [name, code] : out) EXPECT_EQ(code, "") << name;
}

TEST(TestData, BigZipGivesFourHundredDatasets) {
  size_t n = 0;
  auto out = ConvertZip("valid/big.zip", &n);
  EXPECT_EQ(n, 400u);
  for (const auto& [name, code] : out) EXPECT_EQ(code, "") << name;
}

TEST(TestData, PartialZipGivesTheGoodFilesAndNamesTheBadOnes) {
  size_t n = 0;
  auto out = ConvertZip("valid/partial.zip", &n);
  EXPECT_EQ(n, 7u);  // .DS_Store and __MACOSX skipped
  EXPECT_EQ(out["default.csv"], "");
  EXPECT_EQ(out["default.json"], "");
  EXPECT_EQ(out["default.jsonl"], "");
  EXPECT_EQ(out["default.xlsx"], "");
  EXPECT_EQ(out["invalid_format.csv"], kInvalidCsvFormat);
  EXPECT_EQ(out["invalid_format.json"], kInvalidCsvFormat);
  EXPECT_EQ(out["invalid_format.jsonl"], kInvalidCsvFormat);
}

// 10 × 25 MB of repeated rows compressed 205:1: real data, under the ratio limit.
TEST(TestData, VeryBigZipIsAcceptedAndStreamed) {
  TempDir dir;
  auto files = ExtractZip(TestData("valid/very_big.zip"), dir.path());
  ASSERT_TRUE(files.has_value()) << files.error().message;
  ASSERT_EQ(files->size(), 10u);
  for (const auto& f : *files) EXPECT_EQ(f.bytes, 25055999u);
  auto c = ConvertPath(files->front().path, files->front().filename);
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  EXPECT_EQ(c.result->classification, 'T');
  EXPECT_GT(c.result->rows, 100000u);
  EXPECT_EQ(c.rows.front().at("question").as_string(), kFirstQuestion);
}

TEST(TestData, InvalidFilesAreRefusedWithTheirCodes) {
  for (const char* name : {"invalid_format.csv", "invalid_format.json", "invalid_format.jsonl",
                           "invalid_format.xml", "invalid_format.xlsx"}) {
    SCOPED_TRACE(name);
    auto c = ConvertPath(TestData(std::string("invalid/") + name), name);
    ExpectError(c, kInvalidCsvFormat, 422);
    EXPECT_NE(c.result.error().message.find("positive"), std::string::npos)
        << c.result.error().message;
  }
  ExpectError(ConvertPath(TestData("invalid/empty.csv"), "empty.csv"), kEmptyFile, 400);
  ExpectError(ConvertPath(TestData("invalid/unsupported.txt"), "unsupported.txt"),
              kUnsupportedFormat, 422);
  auto stem = SanitizeFilename(".csv");
  ASSERT_FALSE(stem.has_value());
  EXPECT_EQ(stem.error().code, kInvalidFile);
  EXPECT_EQ(stem.error().status, 400);
}

TEST(TestData, InvalidZipHoldsOnlyBadFiles) {
  size_t n = 0;
  auto out = ConvertZip("invalid/invalid.zip", &n);
  EXPECT_EQ(n, 7u);
  EXPECT_EQ(out["empty.csv"], kEmptyFile);
  EXPECT_EQ(out["unsupported.txt"], kUnsupportedFormat);
  for (const char* bad : {"invalid_format.csv", "invalid_format.json", "invalid_format.jsonl",
                          "invalid_format.xml", "invalid_format.xlsx"}) {
    EXPECT_EQ(out[bad], kInvalidCsvFormat) << bad;
  }
}

TEST(TestData, MaliciousNamesAreSanitisedAndTheirContentAccepted) {
  EXPECT_EQ(SanitizeFilename("%00nullbyte.csv").value(), "00nullbyte");
  EXPECT_EQ(SanitizeFilename("; rm -rf %2F.csv").value(), "rm_-rf_2F");
  ExpectDefaultTriples(ConvertPath(TestData("malicious/%00nullbyte.csv"), "%00nullbyte.csv"));
  ExpectDefaultTriples(ConvertPath(TestData("malicious/; rm -rf %2F.csv"), "; rm -rf %2F.csv"));
}

TEST(TestData, QuotedSeparatorsAndNewlinesAreValidCsv) {
  auto c = ConvertPath(TestData("malicious/field_separator.csv"), "field_separator.csv");
  ASSERT_TRUE(c.result.has_value()) << c.result.error().message;
  ASSERT_EQ(c.rows.size(), 4u);
  EXPECT_EQ(c.rows[1].at("question").as_string(), "Injection");
  EXPECT_EQ(c.rows[1].at("positive").as_string(), "Field breaking attack, extra columns");
  EXPECT_EQ(c.rows[2].at("question").as_string(), "Double Quote Escape\"Injection");
  EXPECT_EQ(c.rows[2].at("positive").as_string(), "Breaking parser with quotes\"");
  EXPECT_EQ(c.rows[3].at("question").as_string(), "Newline\nInjection");
  EXPECT_EQ(c.rows[3].at("positive").as_string(), "Breaking rows by adding\nline breaks");
  EXPECT_EQ(c.rows[3].at("negative").as_string(), "400");
}

TEST(TestData, FormulaInjectionFileIsRefusedAtItsDdeRow) {
  auto c = ConvertPath(TestData("malicious/formula_injection.csv"), "formula_injection.csv");
  ExpectError(c, kInvalidCsvFormat, 422);
  EXPECT_NE(c.result.error().message.find("line 4"), std::string::npos) << c.result.error().message;
  EXPECT_NE(c.result.error().message.find("DDE"), std::string::npos);
}

}  // namespace
}  // namespace vectorize::datasets::formats
