#include "inference/kernels.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace vectorize::inference {
namespace {

// Branch-free scalar formulas that the compiler vectorises inside the loops below (std::clamp
// takes references and branches, which stops the vectoriser; this is a plain select).
[[gnu::always_inline]] inline float Clamp(float x, float lo, float hi) {
  x = x < lo ? lo : x;
  return x > hi ? hi : x;
}

// erf(x) = x·P(x²)/Q(x²) on [-4, 4] (odd/even minimax polynomials, the single-precision
// approximation used by Eigen and XLA); |x| > 4 is ±1 in float.
[[gnu::always_inline]] inline float Erf(float x) {
  x = Clamp(x, -4.0f, 4.0f);
  const float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * x2 + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return x * p / q;
}

// exp(x) = 2^n · e^r with n = round(x / ln 2), r = x − n·ln 2 (ln 2 split in two for exactness),
// e^r by its Taylor polynomial to degree 6 on |r| ≤ ln2/2; 2^n built in the exponent bits.
// n is rounded by adding and removing 1.5·2^23 (its low mantissa bits then hold n), so no float
// is ever converted to an integer (NaN in gives NaN out, without undefined behaviour).
[[gnu::always_inline]] inline float Exp(float x) {
  constexpr float kShifter = 12582912.0f;  // 1.5 · 2^23
  x = Clamp(x, -87.0f, 88.0f);
  const float shifted = x * 1.44269504088896341f + kShifter;
  const float n = shifted - kShifter;
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const std::uint32_t k =
      std::bit_cast<std::uint32_t>(shifted) - std::bit_cast<std::uint32_t>(kShifter);
  return p * std::bit_cast<float>((k + 127u) << 23);
}

[[gnu::always_inline]] inline void Gelu(float* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i)
    x[i] = 0.5f * x[i] * (1.0f + Erf(x[i] * 0.70710678118654752f));
}

// Attention, plainly: any head width. Scores accumulate over j (k transposed into a buffer) and
// the output over the d channels, so nothing is reassociated.
[[gnu::always_inline]] inline void AttentionAnyWidth(const PackedRows& in, float* out,
                                                     std::int64_t out_stride, std::int64_t heads,
                                                     std::int64_t d, const std::int64_t* start,
                                                     const std::int64_t* length,
                                                     std::int64_t sequences, float scale) {
  std::int64_t longest = 0;
  for (std::int64_t s = 0; s < sequences; ++s) longest = std::max(longest, length[s]);
  std::vector<float> kt(static_cast<std::size_t>(d * longest));
  std::vector<float> scores(static_cast<std::size_t>(longest));
  std::vector<float> acc(static_cast<std::size_t>(d));
  for (std::int64_t s = 0; s < sequences; ++s) {
    const std::int64_t n = length[s];
    for (std::int64_t h = 0; h < heads; ++h) {
      const std::int64_t col = h * d;
      for (std::int64_t j = 0; j < n; ++j) {
        const float* kj = in.k + (start[s] + j) * in.stride + col;
        for (std::int64_t e = 0; e < d; ++e) kt[e * n + j] = kj[e];
      }
      for (std::int64_t i = 0; i < n; ++i) {
        const float* qi = in.q + (start[s] + i) * in.stride + col;
        float* sc = scores.data();
        std::fill(sc, sc + n, 0.0f);
        for (std::int64_t e = 0; e < d; ++e) {
          const float qe = qi[e] * scale;
          for (std::int64_t j = 0; j < n; ++j) sc[j] += qe * kt[e * n + j];
        }
        float top = sc[0];
        for (std::int64_t j = 1; j < n; ++j) top = std::max(top, sc[j]);
        float sum = 0;
        for (std::int64_t j = 0; j < n; ++j) sum += (sc[j] = Exp(sc[j] - top));
        float* a = acc.data();
        std::fill(a, a + d, 0.0f);
        for (std::int64_t j = 0; j < n; ++j) {
          const float p = sc[j] / sum;
          const float* vj = in.v + (start[s] + j) * in.stride + col;
          for (std::int64_t e = 0; e < d; ++e) a[e] += p * vj[e];
        }
        std::copy(a, a + d, out + (start[s] + i) * out_stride + col);
      }
    }
  }
}

// Head widths that are a multiple of 8 (32 in MiniLM, 64 in BERT-base): written with GCC vector
// types of 8 floats so the accumulators stay in registers. k is transposed into a buffer whose
// rows are padded with zeros to whole vectors; four query rows share every load of k and of v.
using Vec = float __attribute__((vector_size(32)));
constexpr std::int64_t kLanes = 8;
constexpr std::int64_t kRows = 4;

[[gnu::always_inline]] inline Vec Load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
[[gnu::always_inline]] inline void Store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }

[[gnu::always_inline]] inline void AttentionWide(const PackedRows& in, float* out,
                                                 std::int64_t out_stride, std::int64_t heads,
                                                 std::int64_t d, const std::int64_t* start,
                                                 const std::int64_t* length, std::int64_t sequences,
                                                 float scale) {
  std::int64_t longest = 0;
  for (std::int64_t s = 0; s < sequences; ++s) longest = std::max(longest, length[s]);
  const std::int64_t widest = (longest + kLanes - 1) / kLanes * kLanes;
  std::vector<float> kt(static_cast<std::size_t>(d * widest));  // k of one head, transposed
  std::vector<float> qs(static_cast<std::size_t>(kRows * d));   // scaled q of kRows rows
  std::vector<float> scores(static_cast<std::size_t>(kRows * widest));
  for (std::int64_t s = 0; s < sequences; ++s) {
    const std::int64_t n = length[s];
    const std::int64_t w = (n + kLanes - 1) / kLanes * kLanes;
    for (std::int64_t h = 0; h < heads; ++h) {
      const std::int64_t col = h * d;
      std::fill(kt.begin(), kt.begin() + d * w, 0.0f);
      for (std::int64_t j = 0; j < n; ++j) {
        const float* kj = in.k + (start[s] + j) * in.stride + col;
        for (std::int64_t e = 0; e < d; ++e) kt[e * w + j] = kj[e];
      }
      for (std::int64_t i0 = 0; i0 < n; i0 += kRows) {
        const std::int64_t rows = std::min(kRows, n - i0);
        std::fill(qs.begin(), qs.end(), 0.0f);
        for (std::int64_t r = 0; r < rows; ++r) {
          const float* qi = in.q + (start[s] + i0 + r) * in.stride + col;
          for (std::int64_t e = 0; e < d; ++e) qs[r * d + e] = qi[e] * scale;
        }
        float* sc = scores.data();
        for (std::int64_t jb = 0; jb < w; jb += kLanes) {
          Vec acc[kRows] = {};
          for (std::int64_t e = 0; e < d; ++e) {
            const Vec kv = Load(kt.data() + e * w + jb);
            for (std::int64_t r = 0; r < kRows; ++r) acc[r] += qs[r * d + e] * kv;
          }
          for (std::int64_t r = 0; r < kRows; ++r) Store(sc + r * w + jb, acc[r]);
        }
        for (std::int64_t r = 0; r < rows; ++r) {
          float* row = sc + r * w;
          float top = row[0];
          for (std::int64_t j = 1; j < n; ++j) top = std::max(top, row[j]);
          float sum = 0;
          for (std::int64_t j = 0; j < n; ++j) sum += (row[j] = Exp(row[j] - top));
          const float inv = 1.0f / sum;
          for (std::int64_t j = 0; j < n; ++j) row[j] *= inv;
          for (std::int64_t j = n; j < w; ++j) row[j] = 0;
        }
        for (std::int64_t r = rows; r < kRows; ++r) std::fill(sc + r * w, sc + (r + 1) * w, 0.0f);
        for (std::int64_t c = 0; c < d; c += kLanes) {
          Vec acc[kRows] = {};
          for (std::int64_t j = 0; j < n; ++j) {
            const Vec vv = Load(in.v + (start[s] + j) * in.stride + col + c);
            for (std::int64_t r = 0; r < kRows; ++r) acc[r] += sc[r * w + j] * vv;
          }
          for (std::int64_t r = 0; r < rows; ++r) {
            Store(out + (start[s] + i0 + r) * out_stride + col + c, acc[r]);
          }
        }
      }
    }
  }
}

[[gnu::always_inline]] inline void Attention(const PackedRows& in, float* out,
                                             std::int64_t out_stride, std::int64_t heads,
                                             std::int64_t d, const std::int64_t* start,
                                             const std::int64_t* length, std::int64_t sequences,
                                             float scale) {
  if (d % kLanes == 0) {
    AttentionWide(in, out, out_stride, heads, d, start, length, sequences, scale);
  } else {
    AttentionAnyWidth(in, out, out_stride, heads, d, start, length, sequences, scale);
  }
}

[[gnu::target("avx2,fma")]] void AttentionAvx2(const PackedRows& in, float* out,
                                               std::int64_t out_stride, std::int64_t heads,
                                               std::int64_t d, const std::int64_t* start,
                                               const std::int64_t* length, std::int64_t sequences,
                                               float scale) {
  Attention(in, out, out_stride, heads, d, start, length, sequences, scale);
}

void AttentionBaseline(const PackedRows& in, float* out, std::int64_t out_stride,
                       std::int64_t heads, std::int64_t d, const std::int64_t* start,
                       const std::int64_t* length, std::int64_t sequences, float scale) {
  Attention(in, out, out_stride, heads, d, start, length, sequences, scale);
}

[[gnu::target("avx2,fma")]] void GeluAvx2(float* x, std::int64_t n) { Gelu(x, n); }
void GeluBaseline(float* x, std::int64_t n) { Gelu(x, n); }

bool HasAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

}  // namespace

void PackedAttention(const PackedRows& in, float* out, std::int64_t out_stride, std::int64_t heads,
                     std::int64_t d, const std::int64_t* start, const std::int64_t* length,
                     std::int64_t sequences, float scale) {
  (HasAvx2() ? AttentionAvx2 : AttentionBaseline)(in, out, out_stride, heads, d, start, length,
                                                  sequences, scale);
}

void GeluInPlace(float* x, std::int64_t n) { (HasAvx2() ? GeluAvx2 : GeluBaseline)(x, n); }

float KernelErf(float x) { return Erf(x); }
float KernelExp(float x) { return Exp(x); }

}  // namespace vectorize::inference
