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

#include <functional>
#include <vector>

#include "common/error.h"
#include "modelfiles/model_dir.h"

namespace vectorize::inference {

// One attention group of a packed batch (batch_plan.h's AttentionChunk, with its index tensors).
struct PackedChunk {
  std::int64_t offset = 0;  // packed row of the first token
  std::int64_t tokens = 0;  // real tokens (rows offset … offset + tokens - 1)
  std::int64_t rows = 0;    // sequences
  std::int64_t length = 0;  // padded length: the longest sequence
  // Short sequences (kernels.h): each sequence's first row, relative to `offset`, and
  // its length. When set, attention runs in that kernel and the tensors below are unused.
  std::vector<std::int64_t> starts, lengths;
  // Only when the lengths differ (else all three are undefined): for each padded slot
  // (rows × length), the packed row it reads (padding slots read any row of the chunk); for each
  // real token, its padded slot; the additive mask [rows, 1, 1, length] hiding the padding.
  torch::Tensor gather, valid, bias;
};

// Runs fn(0) … fn(n - 1) side by side and returns when all are done (WorkPool::Run). Each call
// runs on a thread with one intra-op thread; fn sets up its own InferenceMode.
using Spread = std::function<void(std::size_t n, const std::function<void(std::size_t)>& fn)>;

// The chunk of sequences of the given lengths, laid end to end from packed row `offset`.
// kernel: attention in kernels.h (short sequences); else libtorch's batched products, on a view
// when all lengths are equal and through the padded layout otherwise.
// REQUIRES: lengths non-empty, each ≥ 1.
PackedChunk MakePackedChunk(std::int64_t offset, const std::vector<std::int64_t>& lengths,
                            bool kernel);

class BertModelImpl : public torch::nn::Module {
 public:
  // Builds the module for `config`; parameters start with libtorch's default initialisation
  // until LoadBertWeights (weights.h) fills them.
  explicit BertModelImpl(const modelfiles::BertConfig& config);

  // ids: [B, L] int64, attention_mask: [B, L] (1 = token, 0 = padding), any numeric dtype.
  // Returns the last hidden state [B, L, hidden_size] (float32).
  // REQUIRES: L <= max_position_embeddings, ids in [0, vocab_size).
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& attention_mask);

  // The inference fast path on packed sequences (no padding in the linear layers): ids and
  // positions [T] int64 hold the sequences end to end, each position counting from 0 within its
  // sequence; `chunks` cover the T rows in order. Returns the last hidden state [T, hidden_size],
  // equal (to float rounding) to forward()'s rows for the real tokens.
  // With `spread` and ways > 1, one pass uses `ways` threads: the row-wise work (the QKV product,
  // the output projection, the feed-forward block and the norms) is split by rows and attention
  // through libtorch by heads — for a batch too small to split by sequences (one long input).
  // REQUIRES for ways > 1: FuseQkv was called.
  torch::Tensor ForwardPacked(const torch::Tensor& ids, const torch::Tensor& positions,
                              const std::vector<PackedChunk>& chunks, const Spread& spread = {},
                              int ways = 1);

  // Inference only: stores each layer's query, key and value projections as one [3·hidden,
  // hidden] matrix (the parameters become views into it, so memory does not grow), which
  // ForwardPacked then multiplies once instead of three times (one pass over the activations
  // instead of three; the three products at 4,096 × 384 rows on one core: 47 → 38 ms).
  // Call after loading the weights; do not train the model afterwards.
  void FuseQkv();

  const modelfiles::BertConfig& config() const { return config_; }

 private:
  struct Layer {
    torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, attention_dense{nullptr};
    torch::nn::LayerNorm attention_norm{nullptr};
    torch::nn::Linear intermediate{nullptr}, output{nullptr};
    torch::nn::LayerNorm output_norm{nullptr};
    torch::Tensor qkv_weight, qkv_bias;  // set by FuseQkv
  };
  torch::Tensor Activation(const torch::Tensor& x) const;
  // Token embeddings [.., L] + position embeddings `pos` (broadcast) + segment 0, normalised.
  torch::Tensor Embeddings(const torch::Tensor& ids, const torch::Tensor& pos);
  // softmax(q·kᵀ/√d + bias)·v on [n, heads, L, d] tensors; bias undefined = no mask.
  torch::Tensor Attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& bias) const;
  // The rest of a layer after attention: output projection, residual, norm, feed-forward.
  torch::Tensor Tail(Layer& layer, const torch::Tensor& context, const torch::Tensor& x) const;

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
