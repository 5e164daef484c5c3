#include "inference/bert_model.h"

#include <cmath>
#include <limits>
#include <string>

namespace vectorize::inference {
namespace {

namespace nn = torch::nn;

// A plain Module used as a named container, so parameter names follow Hugging Face's layout.
std::shared_ptr<nn::Module> Container(nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<nn::Module>());
}

nn::LayerNorm Norm(nn::Module& parent, const std::string& name, int64_t h, double eps) {
  return parent.register_module(name, nn::LayerNorm(nn::LayerNormOptions({h}).eps(eps)));
}

nn::Linear Dense(nn::Module& parent, const std::string& name, int64_t in, int64_t out) {
  return parent.register_module(name, nn::Linear(in, out));
}

}  // namespace

BertModelImpl::BertModelImpl(const modelfiles::BertConfig& config) : config_(config) {
  const int64_t h = config.hidden_size;
  const double eps = config.layer_norm_eps;
  auto embeddings = Container(*this, "embeddings");
  word_embeddings_ =
      embeddings->register_module("word_embeddings", nn::Embedding(config.vocab_size, h));
  position_embeddings_ = embeddings->register_module(
      "position_embeddings", nn::Embedding(config.max_position_embeddings, h));
  if (config.type_vocab_size > 0) {
    token_type_embeddings_ = embeddings->register_module("token_type_embeddings",
                                                         nn::Embedding(config.type_vocab_size, h));
  }
  embeddings_norm_ = Norm(*embeddings, "LayerNorm", h, eps);

  auto encoder = Container(*this, "encoder");
  auto list = Container(*encoder, "layer");
  for (int n = 0; n < config.num_hidden_layers; ++n) {
    auto block = Container(*list, std::to_string(n));
    auto attention = Container(*block, "attention");
    auto self = Container(*attention, "self");
    auto attention_out = Container(*attention, "output");
    auto intermediate = Container(*block, "intermediate");
    auto output = Container(*block, "output");
    Layer layer;
    layer.query = Dense(*self, "query", h, h);
    layer.key = Dense(*self, "key", h, h);
    layer.value = Dense(*self, "value", h, h);
    layer.attention_dense = Dense(*attention_out, "dense", h, h);
    layer.attention_norm = Norm(*attention_out, "LayerNorm", h, eps);
    layer.intermediate = Dense(*intermediate, "dense", h, config.intermediate_size);
    layer.output = Dense(*output, "dense", config.intermediate_size, h);
    layer.output_norm = Norm(*output, "LayerNorm", h, eps);
    layers_.push_back(std::move(layer));
  }
}

torch::Tensor BertModelImpl::Activation(const torch::Tensor& x) const {
  const std::string& act = config_.hidden_act;
  if (act == "gelu") return torch::gelu(x);
  if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast") {
    return torch::gelu(x, "tanh");
  }
  if (act == "relu") return torch::relu(x);
  if (act == "silu" || act == "swish") return torch::silu(x);
  return torch::tanh(x);  // "tanh"; InspectModelDir refuses anything else
}

torch::Tensor BertModelImpl::forward(const torch::Tensor& ids,
                                     const torch::Tensor& attention_mask) {
  const int64_t batch = ids.size(0);
  const int64_t len = ids.size(1);
  const int64_t heads = config_.num_attention_heads;
  const int64_t head_dim = config_.hidden_size / heads;

  auto x = word_embeddings_(ids) + position_embeddings_->weight.slice(0, 0, len).unsqueeze(0);
  if (token_type_embeddings_) x = x + token_type_embeddings_->weight[0];  // all segment 0
  x = embeddings_norm_(x);

  // Additive mask [B, 1, 1, L]: 0 for tokens, the lowest float for padding (as transformers).
  const auto mask = attention_mask.to(x.scalar_type());
  const auto bias = ((1.0 - mask) * std::numeric_limits<float>::lowest()).view({batch, 1, 1, len});
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  auto split = [&](const torch::Tensor& t) {
    return t.view({batch, len, heads, head_dim}).transpose(1, 2);  // [B, heads, L, d]
  };
  for (auto& layer : layers_) {
    auto q = split(layer.query(x));
    auto k = split(layer.key(x));
    auto v = split(layer.value(x));
    auto scores = torch::matmul(q, k.transpose(-1, -2)).mul_(scale).add_(bias);
    auto probs = torch::softmax(scores, -1);
    auto context = torch::matmul(probs, v).transpose(1, 2).reshape({batch, len, -1});
    x = layer.attention_norm(layer.attention_dense(context) + x);
    auto inner = Activation(layer.intermediate(x));
    x = layer.output_norm(layer.output(inner) + x);
  }
  return x;
}

torch::Tensor Pool(const torch::Tensor& hidden, const torch::Tensor& attention_mask,
                   modelfiles::Pooling pooling) {
  using modelfiles::Pooling;
  const auto mask = attention_mask.to(hidden.scalar_type()).unsqueeze(-1);  // [B, L, 1]
  switch (pooling) {
    case Pooling::kCls: return hidden.select(1, 0);
    case Pooling::kMax:
      // Padding must never win the max (sentence-transformers sets it to -1e9).
      return hidden.masked_fill(mask == 0, -1e9).amax(1);
    case Pooling::kMean: break;
  }
  return (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9);
}

}  // namespace vectorize::inference
