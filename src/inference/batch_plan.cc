#include "inference/batch_plan.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace vectorize::inference {
namespace {

// Estimated work of one sequence of length n, per layer, in multiply-adds: the linear layers
// (≈ 12·h² per token with the usual 4·h feed-forward) plus attention (2·n·h per token).
double SequenceCost(std::int64_t n, std::int64_t h) {
  return static_cast<double>(n) * static_cast<double>(h) *
         (12.0 * static_cast<double>(h) + 2.0 * n);
}

// Per layer, a chunk costs a dozen small operator calls (~5 µs each, ~0.5 M multiply-adds at the
// rate these shapes reach) plus its padded attention and, when lengths differ, the copies into
// and out of the padded layout.
constexpr double kChunkOverhead = 3e6;

double ChunkCost(std::int64_t count, std::int64_t longest, bool dense, std::int64_t h) {
  const auto rows = static_cast<double>(count * longest);
  return kChunkOverhead +
         rows * static_cast<double>(h) * (2.0 * static_cast<double>(longest) + (dense ? 0 : 4));
}

std::vector<AttentionChunk> PlanChunks(const std::vector<std::int64_t>& lengths,
                                       const std::vector<std::size_t>& rows, std::int64_t h) {
  const std::size_t n = rows.size();
  auto len = [&](std::size_t k) { return lengths[rows[k]]; };
  // best[j]: cheapest grouping of rows[0..j); cut[j]: where its last chunk starts.
  std::vector<double> best(n + 1, 0);
  std::vector<std::size_t> cut(n + 1, 0);
  for (std::size_t j = 1; j <= n; ++j) {
    best[j] = std::numeric_limits<double>::max();
    for (std::size_t i = 0; i < j; ++i) {
      const double cost = best[i] + ChunkCost(static_cast<std::int64_t>(j - i), len(j - 1),
                                              len(i) == len(j - 1), h);
      if (cost < best[j]) {
        best[j] = cost;
        cut[j] = i;
      }
    }
  }
  std::vector<AttentionChunk> chunks;
  for (std::size_t j = n; j > 0; j = cut[j]) {
    chunks.push_back({.first = cut[j], .count = j - cut[j], .length = len(j - 1)});
  }
  std::reverse(chunks.begin(), chunks.end());
  std::int64_t offset = 0;
  for (auto& c : chunks) {
    c.offset = offset;
    for (std::size_t k = c.first; k < c.first + c.count; ++k) c.tokens += len(k);
    offset += c.tokens;
  }
  return chunks;
}

}  // namespace

std::vector<PartPlan> PlanBatch(const std::vector<std::int64_t>& lengths, int parts,
                                std::int64_t hidden) {
  const std::size_t n = lengths.size();
  if (n == 0) return {};
  const std::size_t k = std::clamp<std::size_t>(static_cast<std::size_t>(std::max(parts, 1)), 1, n);
  // Longest processing time first: each sequence, costliest first, goes to the least loaded part.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return lengths[a] > lengths[b]; });
  std::vector<PartPlan> plans(k);
  std::vector<double> load(k, 0);
  for (std::size_t i : order) {
    const auto part =
        static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[part] += SequenceCost(lengths[i], hidden);
    plans[part].rows.push_back(i);
  }
  for (auto& plan : plans) {
    std::stable_sort(plan.rows.begin(), plan.rows.end(), [&](std::size_t a, std::size_t b) {
      return lengths[a] != lengths[b] ? lengths[a] < lengths[b] : a < b;
    });
    for (std::size_t r : plan.rows) plan.tokens += lengths[r];
    plan.chunks = PlanChunks(lengths, plan.rows, hidden);
  }
  return plans;
}

}  // namespace vectorize::inference
