#include "inference/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace vectorize::inference {
namespace {

TEST(KernelsTest, ErfMatchesTheLibraryToFloatPrecision) {
  double worst = 0;
  for (double x = -8; x <= 8; x += 1.0 / 4096) {
    worst = std::max(worst, std::abs(KernelErf(static_cast<float>(x)) - std::erf(x)));
  }
  EXPECT_LT(worst, 5e-7);
  EXPECT_EQ(KernelErf(0.0f), 0.0f);
  EXPECT_EQ(KernelErf(100.0f), 1.0f);
  EXPECT_EQ(KernelErf(-100.0f), -1.0f);
}

TEST(KernelsTest, ExpHasSmallRelativeError) {
  double worst = 0;
  for (double x = -87; x <= 88; x += 1.0 / 1024) {
    const double want = std::exp(x);
    worst = std::max(worst, std::abs(KernelExp(static_cast<float>(x)) - want) / want);
  }
  EXPECT_LT(worst, 5e-7);
  EXPECT_EQ(KernelExp(0.0f), 1.0f);
  EXPECT_LT(KernelExp(-1000.0f), 1e-37f);
  EXPECT_GE(KernelExp(-1000.0f), 0.0f);
  EXPECT_TRUE(std::isnan(KernelExp(std::numeric_limits<float>::quiet_NaN())));
}

TEST(KernelsTest, GeluIsTheExactFormulaAndKeepsNaN) {
  std::vector<float> x;
  for (float v = -10; v <= 10; v += 0.001f) x.push_back(v);
  x.push_back(std::numeric_limits<float>::quiet_NaN());
  std::vector<float> y = x;
  GeluInPlace(y.data(), static_cast<std::int64_t>(y.size()));
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    const double want = 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0)));
    ASSERT_NEAR(y[i], want, 1e-6 * std::max(1.0, std::abs(want))) << "x = " << x[i];
  }
  EXPECT_TRUE(std::isnan(y.back()));
}

// The kernel against attention written out in doubles, on packed sequences of mixed lengths
// (1 included), q/k/v as column slices of one wider matrix (the fused QKV layout).
class PackedAttentionTest : public ::testing::TestWithParam<std::int64_t> {};

// d = 5 takes the any-width loops, 8 and 16 the vector ones (whole 8-float lanes).
INSTANTIATE_TEST_SUITE_P(HeadWidths, PackedAttentionTest, ::testing::Values(5, 8, 16));

TEST_P(PackedAttentionTest, MatchesTheFormula) {
  const std::int64_t heads = 3, d = GetParam(), hidden = heads * d, stride = 3 * hidden;
  const std::vector<std::int64_t> start = {0, 1, 8, 10, 23};
  const std::vector<std::int64_t> length = {1, 7, 2, 13, 17};
  const std::int64_t tokens = 40;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0, 2);
  std::vector<float> qkv(static_cast<std::size_t>(tokens * stride));
  for (auto& v : qkv) v = normal(rng);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  std::vector<float> out(static_cast<std::size_t>(tokens * hidden), -1.0f);
  PackedAttention(
      {.q = qkv.data(), .k = qkv.data() + hidden, .v = qkv.data() + 2 * hidden, .stride = stride},
      out.data(), hidden, heads, d, start.data(), length.data(), 5, scale);
  auto at = [&](std::int64_t row, std::int64_t part, std::int64_t col) {
    return static_cast<double>(qkv[static_cast<std::size_t>(row * stride + part * hidden + col)]);
  };
  for (std::size_t s = 0; s < start.size(); ++s) {
    for (std::int64_t h = 0; h < heads; ++h) {
      for (std::int64_t i = 0; i < length[s]; ++i) {
        std::vector<double> w(static_cast<std::size_t>(length[s]));
        double top = -1e300, sum = 0;
        for (std::int64_t j = 0; j < length[s]; ++j) {
          double dot = 0;
          for (std::int64_t e = 0; e < d; ++e) {
            dot += at(start[s] + i, 0, h * d + e) * at(start[s] + j, 1, h * d + e);
          }
          w[static_cast<std::size_t>(j)] = dot * scale;
          top = std::max(top, dot * scale);
        }
        for (auto& x : w) sum += (x = std::exp(x - top));
        for (std::int64_t e = 0; e < d; ++e) {
          double want = 0;
          for (std::int64_t j = 0; j < length[s]; ++j) {
            want += w[static_cast<std::size_t>(j)] / sum * at(start[s] + j, 2, h * d + e);
          }
          ASSERT_NEAR(out[static_cast<std::size_t>((start[s] + i) * hidden + h * d + e)], want,
                      2e-5)
              << "sequence " << s << " head " << h << " row " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace vectorize::inference
