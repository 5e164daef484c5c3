// TorchBertEncoder: the Encoder contract (encoder.h) on libtorch.

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "inference/bert_model.h"
#include "inference/encoder.h"
#include "inference/plugin.h"
#include "inference/weights.h"

namespace vectorize::inference {
namespace {

class TorchBertEncoder final : public Encoder {
 public:
  TorchBertEncoder(const modelfiles::ModelDirInfo& info, BertModel model)
      : model_(std::move(model)),
        pooling_(info.pooling),
        normalize_(info.normalize),
        max_seq_length_(info.max_seq_length),
        dimension_(info.config.hidden_size),
        vocab_size_(info.config.vocab_size) {}

  Result<std::vector<std::vector<float>>> Embed(
      const std::vector<std::vector<std::int32_t>>& batch) override {
    std::vector<std::vector<float>> out(batch.size());
    if (batch.empty()) return out;
    std::vector<int64_t> lengths(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].empty()) {
        return Fail(Error::InvalidArgument(fmt::format("input {} has no tokens", i)));
      }
      for (std::size_t j = 0; j < batch[i].size(); ++j) {
        if (batch[i][j] < 0 || batch[i][j] >= vocab_size_) {
          return Fail(Error::InvalidArgument(
              fmt::format("input {}, position {}: token id {} is outside the vocabulary (0..{})", i,
                          j, batch[i][j], vocab_size_ - 1)));
        }
      }
      lengths[i] = std::min<int64_t>(static_cast<int64_t>(batch[i].size()), max_seq_length_);
    }
    try {
      c10::InferenceMode inference;
      for (const auto& chunk : PlanChunks(lengths)) RunChunk(batch, lengths, chunk, out);
    } catch (const std::exception& e) {
      return Fail(Error::Internal(fmt::format("inference failed: {}", e.what())));
    }
    return out;
  }

  int dimension() const override { return dimension_; }
  int max_seq_length() const override { return max_seq_length_; }
  bool normalizes() const override { return normalize_; }
  int vocab_size() const override { return vocab_size_; }

 private:
  // Splits the batch, sorted by length, into runs padded to their own longest sequence, choosing
  // the split points (dynamic programming) that minimise padded tokens plus a fixed cost per
  // forward call. One long input then no longer makes 31 short ones pay for its length.
  static std::vector<std::vector<std::size_t>> PlanChunks(const std::vector<int64_t>& lengths) {
    constexpr int64_t kCallCost = 64;  // a forward call's overhead, in token-equivalents
    std::vector<std::size_t> order(lengths.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return lengths[a] < lengths[b]; });
    const std::size_t n = order.size();
    std::vector<int64_t> best(n + 1, 0);
    std::vector<std::size_t> cut(n + 1, 0);
    for (std::size_t j = 1; j <= n; ++j) {
      best[j] = std::numeric_limits<int64_t>::max();
      for (std::size_t i = 0; i < j; ++i) {  // rows order[i..j-1], padded to lengths[order[j-1]]
        const int64_t cost =
            best[i] + static_cast<int64_t>(j - i) * lengths[order[j - 1]] + kCallCost;
        if (cost < best[j]) {
          best[j] = cost;
          cut[j] = i;
        }
      }
    }
    std::vector<std::vector<std::size_t>> chunks;
    for (std::size_t j = n; j > 0; j = cut[j]) {
      chunks.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(cut[j]),
                          order.begin() + static_cast<std::ptrdiff_t>(j));
    }
    return chunks;
  }

  // Embeds batch[rows] (padded to the chunk's longest) into out[rows].
  void RunChunk(const std::vector<std::vector<std::int32_t>>& batch,
                const std::vector<int64_t>& lengths, const std::vector<std::size_t>& rows,
                std::vector<std::vector<float>>& out) {
    int64_t longest = 0;
    for (auto r : rows) longest = std::max(longest, lengths[r]);
    const auto n_rows = static_cast<int64_t>(rows.size());
    auto ids = torch::zeros({n_rows, longest}, torch::kInt64);
    auto mask = torch::zeros({n_rows, longest}, torch::kFloat32);
    auto ids_a = ids.accessor<int64_t, 2>();
    auto mask_a = mask.accessor<float, 2>();
    for (int64_t k = 0; k < n_rows; ++k) {
      const auto& seq = batch[rows[k]];
      const int64_t n = lengths[rows[k]];
      for (int64_t j = 0; j < n; ++j) {
        // Truncation keeps the first n - 1 ids and the final [SEP].
        ids_a[k][j] = (j == n - 1) ? seq.back() : seq[j];
        mask_a[k][j] = 1.0f;
      }
    }
    auto pooled = Pool(model_->forward(ids, mask), mask, pooling_);
    if (normalize_) {
      pooled = torch::nn::functional::normalize(
          pooled, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
    }
    pooled = pooled.contiguous();
    const float* data = pooled.data_ptr<float>();
    for (int64_t k = 0; k < n_rows; ++k) {
      out[rows[k]].assign(data + k * dimension_, data + (k + 1) * dimension_);
    }
  }

  BertModel model_;
  modelfiles::Pooling pooling_;
  bool normalize_;
  int max_seq_length_;
  int dimension_;
  int vocab_size_;
};

// libtorch's at::set_num_threads sizes its OpenMP pool, but the GEMMs run in OpenBLAS (pthread
// build, through libblas.so.3), which keeps its own pool sized to every core. Size both, or the
// two pools oversubscribe the CPU.
void SetThreads(int n) {
  at::set_num_threads(n);
  // This code runs in a dlopen'ed module whose libraries may be outside the global symbol scope:
  // look OpenBLAS up by its handle (already loaded through libblas.so.3; RTLD_NOLOAD).
  using SetFn = void (*)(int);
  void* blas = ::dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
  void* sym = ::dlsym(blas != nullptr ? blas : RTLD_DEFAULT, "openblas_set_num_threads");
  if (sym != nullptr) reinterpret_cast<SetFn>(sym)(n);
  if (blas != nullptr) ::dlclose(blas);
}

}  // namespace

Result<std::unique_ptr<Encoder>> LoadTorchEncoder(const modelfiles::ModelDirInfo& info,
                                                  const EncoderOptions& options) {
  // 0 keeps libtorch's choice (one thread per physical core) but still sizes OpenBLAS's pool to
  // it: left at its default (every vCPU), its spare threads spin against the forward pass
  // (encoder_bench, MiniLM 32 × 16 tokens on 2 vCPUs: 63–126 → 146–159 sentences/s).
  SetThreads(options.intra_op_threads > 0 ? options.intra_op_threads : at::get_num_threads());
  try {
    BertModel model(info.config);
    if (auto s = LoadBertWeights(*model, info); !s) return Fail(s.error());
    model->eval();
    return std::make_unique<TorchBertEncoder>(info, std::move(model));
  } catch (const std::exception& e) {
    return Fail(Error::Internal(fmt::format("building the model failed: {}", e.what())));
  }
}

}  // namespace vectorize::inference
