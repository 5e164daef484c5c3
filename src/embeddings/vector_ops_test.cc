#include "embeddings/vector_ops.h"

#include <gtest/gtest.h>

#include <cmath>

namespace vectorize::embeddings {
namespace {

TEST(VectorOpsTest, TruncateKeepsPrefixAndRenormalises) {
  std::vector<float> v = {0.6f, 0.0f, 0.8f, 0.0f};
  auto raw = v;
  TruncateDimensions(raw, 2, false);
  EXPECT_EQ(raw, (std::vector<float>{0.6f, 0.0f}));
  TruncateDimensions(v, 2, true);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_FLOAT_EQ(v[0], 1.0f);
  EXPECT_FLOAT_EQ(v[1], 0.0f);
  std::vector<float> w = {3, 4, 12};
  TruncateDimensions(w, 2, true);
  EXPECT_FLOAT_EQ(w[0], 0.6f);
  EXPECT_FLOAT_EQ(w[1], 0.8f);
  std::vector<float> zero = {0, 0, 1};
  TruncateDimensions(zero, 2, true);
  EXPECT_EQ(zero, (std::vector<float>{0, 0}));
  std::vector<float> same = {1, 2};
  TruncateDimensions(same, 5, false);
  EXPECT_EQ(same, (std::vector<float>{1, 2}));
}

TEST(VectorOpsTest, Base64IsLittleEndianFloat32) {
  // 1.0f = 0x3F800000 → bytes 00 00 80 3F → "AACAPw=="; -2.0f = 0xC0000000 → 00 00 00 C0.
  EXPECT_EQ(Base64Float32({1.0f}), "AACAPw==");
  EXPECT_EQ(Base64Float32({1.0f, -2.0f}), "AACAPwAAAMA=");
  EXPECT_EQ(Base64Float32({}), "");
  // Three floats = 12 bytes: no padding. 0.5f = 0x3F000000.
  EXPECT_EQ(Base64Float32({0.5f, 0.5f, 0.5f}), "AAAAPwAAAD8AAAA/");
}

}  // namespace
}  // namespace vectorize::embeddings
