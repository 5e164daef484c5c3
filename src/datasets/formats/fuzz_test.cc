// Mutated inputs (flipped, inserted, deleted bytes; truncation) in every format and mutated zips
// never crash and never leave output behind: each either converts or fails with a 4xx.

#include <gtest/gtest.h>

#include <random>

#include "datasets/formats/test_support.h"

namespace vectorize::datasets::formats {
namespace {

using testing::TempDir;
using testing::TestData;

std::string Mutate(std::string s, std::mt19937& rng) {
  int edits = 1 + static_cast<int>(rng() % 8);
  static const char kInteresting[] = {'"', ',', ';', '\n', '\r', '\0', '{',    '}',    '[',
                                      ']', '<', '>', '&',  '\\', '=',  '\xC3', '\xFF', '\xEF'};
  for (int i = 0; i < edits && !s.empty(); ++i) {
    size_t at = rng() % s.size();
    switch (rng() % 4) {
      case 0: s[at] = static_cast<char>(rng() & 0xFF); break;
      case 1:
        s.insert(s.begin() + static_cast<long>(at), kInteresting[rng() % sizeof kInteresting]);
        break;
      case 2: s.erase(at, 1 + rng() % 4); break;
      case 3: s.resize(at); break;
    }
  }
  return s;
}

void CheckOutcome(const testing::Converted& c) {
  if (c.result) {
    EXPECT_TRUE(c.output_exists);
    EXPECT_GT(c.result->rows, 0u);
    return;
  }
  EXPECT_FALSE(c.output_exists) << c.result.error().message;
  int status = c.result.error().status;
  EXPECT_TRUE(status == 400 || status == 413 || status == 422)
      << status << " " << c.result.error().message;
  EXPECT_FALSE(c.result.error().message.empty());
}

TEST(Fuzz, MutatedFilesInEveryFormat) {
  std::mt19937 rng(20261129);
  for (const char* name :
       {"default.csv", "default.json", "default.jsonl", "default.xml", "default.xlsx"}) {
    SCOPED_TRACE(name);
    std::string original = testing::ReadFile(TestData(std::string("valid/") + name));
    for (int i = 0; i < 80; ++i) {
      CheckOutcome(testing::ConvertBytes(name, Mutate(original, rng)));
    }
  }
  std::string xls = testing::ReadFile(TestData("generated/questions.xls"));
  for (int i = 0; i < 60; ++i) CheckOutcome(testing::ConvertBytes("q.xls", Mutate(xls, rng)));
}

TEST(Fuzz, MutatedZips) {
  std::mt19937 rng(7);
  std::string zip = testing::ReadFile(TestData("valid/default.zip"));
  for (int i = 0; i < 150; ++i) {
    TempDir src, dest;
    testing::WriteFile(src / "m.zip", Mutate(zip, rng));
    auto r = ExtractZip(src / "m.zip", dest.path());
    if (!r) {
      EXPECT_TRUE(dest.Files().empty()) << r.error().message;
      EXPECT_TRUE(r.error().status == 400 || r.error().status == 413) << r.error().message;
    } else {
      EXPECT_EQ(dest.Files().size(), r->size());
    }
  }
}

}  // namespace
}  // namespace vectorize::datasets::formats
