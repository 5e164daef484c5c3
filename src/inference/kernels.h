#pragma once
// Hand-written CPU kernels for the inference fast path (torch-free, unit-tested against plain
// formulas). Each is built for AVX2 + FMA and for the baseline ISA, chosen at run time.
//
// Why they exist (MiniLM-sized model, sentences of 10–16 tokens, one core; see
// docs/benchmarks.md): libtorch's batched matrix products run every (sequence, head) pair as a
// BLAS call of its own, and getting rows into [sequences, heads, length, d] costs gathers and
// transposing copies — ~18 % of the forward pass for ~1 % of its arithmetic; its exact GELU
// spends ~2.5 ns per element in erf — another ~8 %.

#include <cstdint>

namespace vectorize::inference {

struct PackedRows {
  const float* q;  // [tokens, heads * d], row-major, rows `stride` floats apart
  const float* k;
  const float* v;
  std::int64_t stride;
};

// Multi-head self-attention on packed rows, for short sequences: for each sequence s (rows
// start[s] … start[s] + length[s] - 1) and head h, writes
//   out[i, h·d:(h+1)·d] = Σ_j softmax_j(scale · q_i·k_j) · v_j   (i, j within the sequence)
// reading q, k, v where the linear layers wrote them: no padding, mask or copy. For long
// sequences BLAS is faster (BertModel::ForwardPacked keeps libtorch's path for them).
// out is [tokens, heads * d] row-major with `out_stride` floats per row.
// REQUIRES: length[s] ≥ 1; every row in range; out does not overlap q, k or v.
void PackedAttention(const PackedRows& in, float* out, std::int64_t out_stride, std::int64_t heads,
                     std::int64_t d, const std::int64_t* start, const std::int64_t* length,
                     std::int64_t sequences, float scale);

// x ← x · Φ(x) = 0.5 · x · (1 + erf(x / √2)), the exact ("gelu") activation, in place. erf is a
// rational approximation good to ~1e-7 absolute (float rounding), vectorised.
void GeluInPlace(float* x, std::int64_t n);

// erf and exp as the kernels compute them, for tests. Exp: relative error ≤ ~3e-7 on
// [-87, 88]; the input is clamped to that range (exp(-87) ≈ 1.6e-38 stands in for anything
// smaller, which in a softmax is as good as 0).
float KernelErf(float x);
float KernelExp(float x);

}  // namespace vectorize::inference
