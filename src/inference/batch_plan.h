#pragma once
// How one Embed call runs its batch (torch-free, so it is unit-tested without libtorch).
//
// 1. Parts: the sequences are dealt to `parts` independent forward passes that run side by side,
//    one core each (data parallelism). Each pass is single-threaded, so no operation of the model
//    ever waits for another thread; on small batches this is ~2× faster than splitting every
//    matrix product across cores (the GEMMs are too small to share well, and the elementwise
//    ops, softmax and the many small attention products do not share at all).
// 2. Packing: inside a part, the sequences are laid end to end without padding (ascending
//    length), so the linear layers, which are nearly all of the work, multiply only real tokens.
// 3. Attention chunks: attention must stay within a sequence. Consecutive sequences are grouped
//    into chunks padded to the chunk's longest (a chunk of equal lengths needs no padding, no
//    mask and no copy); the grouping minimises an estimate of attention cost plus a fixed cost
//    per chunk, so ten sentences of 10–16 tokens share one chunk while a 500-token document does
//    not make them pay its length.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vectorize::inference {

struct AttentionChunk {
  std::size_t first = 0;    // index into PartPlan::rows of the chunk's first sequence
  std::size_t count = 0;    // sequences in the chunk
  std::int64_t offset = 0;  // packed row of the chunk's first token
  std::int64_t tokens = 0;  // real tokens in the chunk
  std::int64_t length = 0;  // the chunk's longest sequence (its padded length)
  [[nodiscard]] bool dense() const { return tokens == static_cast<std::int64_t>(count) * length; }
};

struct PartPlan {
  std::vector<std::size_t> rows;  // input indices, by ascending length
  std::vector<AttentionChunk> chunks;
  std::int64_t tokens = 0;  // Σ lengths of rows
};

// Splits sequences of the given lengths (after truncation, each ≥ 1) into at most `parts` parts
// of balanced cost (never an empty part), each packed and chunked as described above. `hidden`
// is the model width (it weighs attention against the per-chunk overhead).
// Every index appears in exactly one part.
[[nodiscard]] std::vector<PartPlan> PlanBatch(const std::vector<std::int64_t>& lengths, int parts,
                                              std::int64_t hidden);

}  // namespace vectorize::inference
