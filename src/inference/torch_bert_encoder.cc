// TorchBertEncoder: the Encoder contract (encoder.h) on libtorch.

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include "inference/bert_model.h"
#include "inference/encoder.h"
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
    std::vector<std::vector<float>> out;
    if (batch.empty()) return out;
    int64_t longest = 0;
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
      longest = std::max<int64_t>(longest, Truncated(batch[i].size()));
    }
    const auto rows = static_cast<int64_t>(batch.size());
    try {
      c10::InferenceMode inference;
      auto ids = torch::zeros({rows, longest}, torch::kInt64);
      auto mask = torch::zeros({rows, longest}, torch::kFloat32);
      auto ids_a = ids.accessor<int64_t, 2>();
      auto mask_a = mask.accessor<float, 2>();
      for (int64_t r = 0; r < rows; ++r) {
        const auto& seq = batch[r];
        const int64_t n = Truncated(seq.size());
        for (int64_t j = 0; j < n; ++j) {
          // Truncation keeps the first n - 1 ids and the final [SEP].
          ids_a[r][j] = (j == n - 1) ? seq.back() : seq[j];
          mask_a[r][j] = 1.0f;
        }
      }
      auto pooled = Pool(model_->forward(ids, mask), mask, pooling_);
      if (normalize_) {
        pooled = torch::nn::functional::normalize(
            pooled, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
      }
      pooled = pooled.contiguous();
      const float* data = pooled.data_ptr<float>();
      out.reserve(batch.size());
      for (int64_t r = 0; r < rows; ++r) {
        out.emplace_back(data + r * dimension_, data + (r + 1) * dimension_);
      }
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
  int64_t Truncated(std::size_t n) const {
    return std::min<int64_t>(static_cast<int64_t>(n), max_seq_length_);
  }

  BertModel model_;
  modelfiles::Pooling pooling_;
  bool normalize_;
  int max_seq_length_;
  int dimension_;
  int vocab_size_;
};

}  // namespace

Result<std::unique_ptr<Encoder>> Encoder::Load(const modelfiles::ModelDirInfo& info,
                                               const EncoderOptions& options) {
  if (options.intra_op_threads > 0) at::set_num_threads(options.intra_op_threads);
  try {
    BertModel model(info.config);
    if (auto s = LoadBertWeights(*model, info); !s) return Fail(s.error());
    model->eval();
    return std::make_unique<TorchBertEncoder>(info, std::move(model));
  } catch (const std::exception& e) {
    return Fail(Error::Internal(fmt::format("building the model failed: {}", e.what())));
  }
}

Result<std::unique_ptr<Encoder>> Encoder::LoadDir(const std::filesystem::path& dir,
                                                  const EncoderOptions& options) {
  auto info = modelfiles::InspectModelDir(dir);
  if (!info) return Fail(std::move(info.error()));
  return Load(*info, options);
}

}  // namespace vectorize::inference
