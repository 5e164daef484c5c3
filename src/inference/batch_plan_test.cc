#include "inference/batch_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

namespace vectorize::inference {
namespace {

constexpr std::int64_t kHidden = 384;

// Every index exactly once; rows ascending by length; chunks tile each part's rows and tokens.
void ExpectWellFormed(const std::vector<std::int64_t>& lengths, const std::vector<PartPlan>& plan) {
  std::multiset<std::size_t> seen;
  for (const auto& part : plan) {
    ASSERT_FALSE(part.rows.empty());
    std::int64_t tokens = 0;
    for (std::size_t k = 0; k < part.rows.size(); ++k) {
      seen.insert(part.rows[k]);
      tokens += lengths[part.rows[k]];
      if (k > 0) {
        EXPECT_LE(lengths[part.rows[k - 1]], lengths[part.rows[k]]);
      }
    }
    EXPECT_EQ(part.tokens, tokens);
    std::size_t next_row = 0;
    std::int64_t next_offset = 0;
    for (const auto& c : part.chunks) {
      EXPECT_EQ(c.first, next_row);
      EXPECT_EQ(c.offset, next_offset);
      ASSERT_GT(c.count, 0u);
      std::int64_t chunk_tokens = 0;
      for (std::size_t k = c.first; k < c.first + c.count; ++k) {
        chunk_tokens += lengths[part.rows[k]];
        EXPECT_LE(lengths[part.rows[k]], c.length);
      }
      EXPECT_EQ(c.length, lengths[part.rows[c.first + c.count - 1]]);
      EXPECT_EQ(c.tokens, chunk_tokens);
      next_row += c.count;
      next_offset += c.tokens;
    }
    EXPECT_EQ(next_row, part.rows.size());
    EXPECT_EQ(next_offset, part.tokens);
  }
  std::multiset<std::size_t> all;
  for (std::size_t i = 0; i < lengths.size(); ++i) all.insert(i);
  EXPECT_EQ(seen, all);
}

TEST(BatchPlanTest, EmptyBatchHasNoParts) { EXPECT_TRUE(PlanBatch({}, 2, kHidden).empty()); }

TEST(BatchPlanTest, NeverMorePartsThanSequences) {
  auto plan = PlanBatch({7}, 4, kHidden);
  ASSERT_EQ(plan.size(), 1u);
  ExpectWellFormed({7}, plan);
  EXPECT_EQ(PlanBatch({5, 6, 7}, 8, kHidden).size(), 3u);
  EXPECT_EQ(PlanBatch({5, 6, 7}, 0, kHidden).size(), 1u);
}

TEST(BatchPlanTest, EqualSequencesSplitEvenlyIntoDenseChunks) {
  const std::vector<std::int64_t> lengths(32, 16);
  auto plan = PlanBatch(lengths, 2, kHidden);
  ASSERT_EQ(plan.size(), 2u);
  ExpectWellFormed(lengths, plan);
  for (const auto& part : plan) {
    EXPECT_EQ(part.rows.size(), 16u);
    ASSERT_EQ(part.chunks.size(), 1u);
    EXPECT_TRUE(part.chunks[0].dense());
  }
}

TEST(BatchPlanTest, PartsBalanceTheirWork) {
  // One long document and many short sentences: the document's part gets fewer sentences.
  std::vector<std::int64_t> lengths(31, 12);
  lengths.push_back(300);
  auto plan = PlanBatch(lengths, 2, kHidden);
  ASSERT_EQ(plan.size(), 2u);
  ExpectWellFormed(lengths, plan);
  const bool first_has_doc = lengths[plan[0].rows.back()] == 300;
  const auto& with_doc = first_has_doc ? plan[0] : plan[1];
  const auto& without = first_has_doc ? plan[1] : plan[0];
  EXPECT_EQ(lengths[with_doc.rows.back()], 300);
  EXPECT_NE(lengths[without.rows.back()], 300);
  // A 300-token document costs about as much as 28 sentences of 12 (its attention grows with
  // its length): the split is far from 16/16.
  EXPECT_GE(without.rows.size(), 26u);
  EXPECT_LE(with_doc.rows.size(), 6u);
}

TEST(BatchPlanTest, SimilarLengthsShareOneChunk) {
  const std::vector<std::int64_t> lengths = {10, 16, 13, 11, 15, 12, 14, 16, 10, 13};
  auto plan = PlanBatch(lengths, 1, kHidden);
  ASSERT_EQ(plan.size(), 1u);
  ExpectWellFormed(lengths, plan);
  ASSERT_EQ(plan[0].chunks.size(), 1u);
  EXPECT_FALSE(plan[0].chunks[0].dense());
  EXPECT_EQ(plan[0].chunks[0].length, 16);
}

TEST(BatchPlanTest, ShortSentencesAreNotPaddedToADocument) {
  std::vector<std::int64_t> lengths = {9, 11, 12, 10, 500, 8, 12};
  auto plan = PlanBatch(lengths, 1, kHidden);
  ASSERT_EQ(plan.size(), 1u);
  ExpectWellFormed(lengths, plan);
  ASSERT_EQ(plan[0].chunks.size(), 2u);
  EXPECT_EQ(plan[0].chunks[0].length, 12);
  EXPECT_EQ(plan[0].chunks[1].length, 500);
  EXPECT_TRUE(plan[0].chunks[1].dense());
}

TEST(BatchPlanTest, RandomBatchesAreWellFormed) {
  std::uint64_t state = 12345;
  auto next = [&] {
    return (state = state * 6364136223846793005ULL + 1442695040888963407ULL) >> 33;
  };
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::int64_t> lengths(1 + next() % 64);
    for (auto& n : lengths) n = 1 + static_cast<std::int64_t>(next() % (trial % 2 ? 512 : 24));
    const int parts = 1 + static_cast<int>(next() % 4);
    auto plan = PlanBatch(lengths, parts, kHidden);
    EXPECT_EQ(plan.size(), std::min<std::size_t>(lengths.size(), static_cast<std::size_t>(parts)));
    ExpectWellFormed(lengths, plan);
  }
}

}  // namespace
}  // namespace vectorize::inference
