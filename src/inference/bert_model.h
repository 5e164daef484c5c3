#pragma once
// The BERT encoder as a torch::nn::Module built from plain ops. Includes torch: only code under
// src/inference (and src/training) may include this header.
//
// Parameters are registered under Hugging Face's BertModel names
// ("embeddings.word_embeddings.weight", "encoder.layer.3.attention.self.query.weight", ...), so
// named_parameters() is a state dict that Hugging Face and sentence-transformers load, and training
// can save it as is. The forward pass works both under c10::InferenceMode (fast path) and with
// autograd (training). There is no dropout: inference only needs eval mode; training adds its own
// if it wants it. Thread safety: forward() may run concurrently on several threads; parameter
// updates may not.

#include <torch/torch.h>

#include <vector>

#include "common/error.h"
#include "modelfiles/model_dir.h"

namespace vectorize::inference {

class BertModelImpl : public torch::nn::Module {
 public:
  // Builds the module for `config`; parameters start with libtorch's default initialisation
  // until LoadBertWeights (weights.h) fills them.
  explicit BertModelImpl(const modelfiles::BertConfig& config);

  // ids: [B, L] int64, attention_mask: [B, L] (1 = token, 0 = padding), any numeric dtype.
  // Returns the last hidden state [B, L, hidden_size] (float32).
  // REQUIRES: L <= max_position_embeddings, ids in [0, vocab_size).
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& attention_mask);

  const modelfiles::BertConfig& config() const { return config_; }

 private:
  struct Layer {
    torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, attention_dense{nullptr};
    torch::nn::LayerNorm attention_norm{nullptr};
    torch::nn::Linear intermediate{nullptr}, output{nullptr};
    torch::nn::LayerNorm output_norm{nullptr};
  };
  torch::Tensor Activation(const torch::Tensor& x) const;

  modelfiles::BertConfig config_;
  torch::nn::Embedding word_embeddings_{nullptr}, position_embeddings_{nullptr},
      token_type_embeddings_{nullptr};
  torch::nn::LayerNorm embeddings_norm_{nullptr};
  std::vector<Layer> layers_;
};
TORCH_MODULE(BertModel);

// Sentence-transformers pooling of hidden [B, L, H] over attention_mask [B, L] → [B, H].
torch::Tensor Pool(const torch::Tensor& hidden, const torch::Tensor& attention_mask,
                   modelfiles::Pooling pooling);

}  // namespace vectorize::inference
