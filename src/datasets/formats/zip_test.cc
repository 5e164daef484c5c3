// ExtractZip against hostile archives built here with libarchive: zip slip, links, bombs (ratio,
// entry size, total size, entry count), corrupt and truncated archives. Nothing may be left
// behind after a refusal.

#include <gtest/gtest.h>
#include <locale.h>

#include <memory>
#include <random>

#include "datasets/formats/test_support.h"

namespace vectorize::datasets::formats {
namespace {

using testing::TempDir;
using testing::WriteZip;
using testing::ZipEntry;

struct Extracted {
  std::shared_ptr<TempDir> dest = std::make_shared<TempDir>();
  FormatResult<std::vector<ExtractedFile>> result;
  std::vector<std::string> left;  // files in dest_dir afterwards
};

Extracted Extract(const std::vector<ZipEntry>& entries, const Limits& limits = {}) {
  TempDir src;
  WriteZip(src / "upload.zip", entries);
  Extracted e;
  e.result = ExtractZip(src / "upload.zip", e.dest->path(), limits);
  e.left = e.dest->Files();
  return e;
}

void ExpectRefused(const Extracted& e, std::string_view code, std::string_view fragment) {
  ASSERT_FALSE(e.result.has_value());
  EXPECT_EQ(e.result.error().code, code) << e.result.error().message;
  EXPECT_NE(e.result.error().message.find(fragment), std::string::npos) << e.result.error().message;
  EXPECT_TRUE(e.left.empty()) << "left behind: " << e.left.front();
}

const std::string kCsv = "question,positive\na,b\n";

std::string Noise(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

TEST(Zip, ExtractsFilesWithGeneratedNamesAndSkipsJunk) {
  auto e = Extract({{"dir/", "", 'd'},
                    {"dir/My Data;rm.CSV", kCsv},
                    {"__MACOSX/dir/._x.csv", "junk"},
                    {"dir/.DS_Store", "junk"},
                    {"empty.json", ""},
                    {"notes.txt", "hello"}});
  ASSERT_TRUE(e.result.has_value()) << e.result.error().message;
  ASSERT_EQ(e.result->size(), 3u);
  const auto& f = (*e.result)[0];
  EXPECT_EQ(f.name, "dir/My Data;rm.CSV");
  EXPECT_EQ(f.filename, "My Data;rm.CSV");
  EXPECT_EQ(f.path.filename().string(), "00001_My_Data_rm.csv");
  EXPECT_EQ(f.bytes, kCsv.size());
  EXPECT_EQ(testing::ReadFile(f.path), kCsv);
  EXPECT_EQ((*e.result)[1].bytes, 0u);
  EXPECT_EQ((*e.result)[2].filename, "notes.txt");  // ConvertFile refuses it by extension
}

TEST(Zip, NonAsciiNamesSurviveTheCLocale) {
  // The archive is written under C.UTF-8 (so libarchive stores UTF-8 names); ExtractZip runs in
  // the process's C locale, as the server does.
  TempDir src, dest;
  {
    locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    ASSERT_NE(utf8, static_cast<locale_t>(0));
    locale_t old = uselocale(utf8);
    WriteZip(src / "names.zip", {{"Grüße/Fragen für Kunden.csv", kCsv}, {"日本.json", "[]"}});
    uselocale(old);
    freelocale(utf8);
  }
  auto files = ExtractZip(src / "names.zip", dest.path());
  ASSERT_TRUE(files.has_value()) << files.error().message;
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].name, "Grüße/Fragen für Kunden.csv");
  EXPECT_EQ((*files)[0].filename, "Fragen für Kunden.csv");
  EXPECT_EQ((*files)[0].path.filename().string(), "00001_Fragen_f_r_Kunden.csv");
  EXPECT_EQ((*files)[1].filename, "日本.json");
  EXPECT_EQ((*files)[1].path.filename().string(), "00002_file.json");
}

TEST(Zip, ZipSlipIsRefused) {
  for (const char* name : {"../evil.csv", "a/../../evil.csv", "/etc/evil.csv", "..\\evil.csv",
                           "C:/evil.csv", "a\\..\\..\\evil.csv"}) {
    SCOPED_TRACE(name);
    ExpectRefused(Extract({{"good.csv", kCsv}, {name, kCsv}}), kInvalidFile, "zip slip");
  }
}

TEST(Zip, LinksAreRefused) {
  ExpectRefused(Extract({{"good.csv", kCsv}, {"link.csv", "/etc/passwd", 'l'}}), kInvalidFile,
                "is a link");
  // (Zip has no hard links: libarchive writes them as plain files; ExtractZip still checks.)
}

TEST(Zip, CompressionRatioBombIsRefused) {
  Limits limits;  // defaults: ratio 400 once 1 MiB is out
  ExpectRefused(Extract({{"a.csv", kCsv}, {"bomb.csv", std::string(64 << 20, '0')}}, limits),
                kInvalidFile, "zip bomb");
}

TEST(Zip, BombHiddenAmongIncompressibleEntriesIsRefused) {
  // 4 MB of random bytes keep the archive's overall ratio near 9, so only the per-entry ratio
  // sees the 32 MB of zeros compressed ~1000:1.
  ExpectRefused(
      Extract({{"noise.bin.csv", Noise(4 << 20, 9)}, {"bomb.csv", std::string(32 << 20, '0')}}),
      kInvalidFile, "entry 'bomb.csv' decompresses to more than 400 times");
}

TEST(Zip, EntryAndTotalSizeLimits) {
  Limits limits;
  limits.max_zip_entry_bytes = 300000;
  limits.max_zip_total_bytes = 500000;
  ExpectRefused(Extract({{"big.csv", Noise(400000, 1)}}, limits), kPayloadTooLarge,
                "'big.csv' is 400000 bytes");
  ExpectRefused(
      Extract({{"a.csv", Noise(250000, 2)}, {"b.csv", Noise(250000, 3)}, {"c.csv", "x"}}, limits),
      kPayloadTooLarge, "decompress to more than 500000 bytes");
}

TEST(Zip, TooManyEntries) {
  Limits limits;
  limits.max_zip_entries = 3;
  ExpectRefused(
      Extract({{"a.csv", kCsv}, {"b.csv", kCsv}, {"c.csv", kCsv}, {"d.csv", kCsv}}, limits),
      kPayloadTooLarge, "more than 3 entries");
}

TEST(Zip, CorruptTruncatedAndEmptyArchives) {
  TempDir dir, dest;
  testing::WriteFile(dir / "random.zip", Noise(5000, 4));
  auto r = ExtractZip(dir / "random.zip", dest.path());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, kInvalidFile);
  EXPECT_EQ(r.error().status, 400);

  WriteZip(dir / "good.zip", {{"a.csv", Noise(200000, 5)}, {"b.csv", Noise(200000, 6)}});
  std::string bytes = testing::ReadFile(dir / "good.zip");
  testing::WriteFile(dir / "cut.zip", std::string_view(bytes).substr(0, bytes.size() * 3 / 4));
  auto cut = ExtractZip(dir / "cut.zip", dest.path());
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().code, kInvalidFile);
  EXPECT_TRUE(dest.Files().empty());

  // Flip bytes inside the first entry's compressed data: inflate or the CRC check fails.
  std::string flipped = bytes;
  for (size_t i = 200; i < 400; ++i) flipped[i] = static_cast<char>(flipped[i] ^ 0x5A);
  testing::WriteFile(dir / "flipped.zip", flipped);
  auto bad = ExtractZip(dir / "flipped.zip", dest.path());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, kInvalidFile);
  EXPECT_TRUE(dest.Files().empty());

  testing::WriteFile(dir / "empty.zip", "");
  auto empty = ExtractZip(dir / "empty.zip", dest.path());
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, kEmptyFile);
}

TEST(Zip, OnlyJunkMeansNoFiles) {
  ExpectRefused(Extract({{"dir/", "", 'd'}, {"__MACOSX/._a.csv", "x"}, {".hidden.csv", kCsv}}),
                kInvalidFile, "contains no files");
}

}  // namespace
}  // namespace vectorize::datasets::formats
