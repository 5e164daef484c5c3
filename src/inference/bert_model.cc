#include "inference/bert_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "inference/kernels.h"

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
  if (act == "gelu") {
    // Inference: the vectorised kernel, in place (x is the fresh output of the linear layer).
    if (c10::InferenceMode::is_enabled() && x.scalar_type() == torch::kFloat32 &&
        x.is_contiguous()) {
      GeluInPlace(x.data_ptr<float>(), x.numel());
      return x;
    }
    return torch::gelu(x);
  }
  if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast") {
    return torch::gelu(x, "tanh");
  }
  if (act == "relu") return torch::relu(x);
  if (act == "silu" || act == "swish") return torch::silu(x);
  return torch::tanh(x);  // "tanh"; InspectModelDir refuses anything else
}

torch::Tensor BertModelImpl::Embeddings(const torch::Tensor& ids, const torch::Tensor& pos) {
  auto x = word_embeddings_(ids) + pos;
  if (token_type_embeddings_) x = x + token_type_embeddings_->weight[0];  // all segment 0
  return embeddings_norm_(x);
}

torch::Tensor BertModelImpl::Attend(const torch::Tensor& q, const torch::Tensor& k,
                                    const torch::Tensor& v, const torch::Tensor& bias) const {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  auto scores = torch::matmul(q, k.transpose(-1, -2)).mul_(scale);
  if (bias.defined()) scores.add_(bias);
  return torch::matmul(torch::softmax(scores, -1), v);
}

torch::Tensor BertModelImpl::Tail(Layer& layer, const torch::Tensor& context,
                                  const torch::Tensor& x) const {
  auto y = layer.attention_norm(layer.attention_dense(context) + x);
  auto inner = Activation(layer.intermediate(y));
  return layer.output_norm(layer.output(inner) + y);
}

torch::Tensor BertModelImpl::forward(const torch::Tensor& ids,
                                     const torch::Tensor& attention_mask) {
  const int64_t batch = ids.size(0);
  const int64_t len = ids.size(1);
  const int64_t heads = config_.num_attention_heads;
  const int64_t head_dim = config_.hidden_size / heads;

  auto x = Embeddings(ids, position_embeddings_->weight.slice(0, 0, len).unsqueeze(0));
  // Additive mask [B, 1, 1, L]: 0 for tokens, the lowest float for padding (as transformers).
  const auto mask = attention_mask.to(x.scalar_type());
  const auto bias = ((1.0 - mask) * std::numeric_limits<float>::lowest()).view({batch, 1, 1, len});
  auto split = [&](const torch::Tensor& t) {
    return t.view({batch, len, heads, head_dim}).transpose(1, 2);  // [B, heads, L, d]
  };
  for (auto& layer : layers_) {
    auto context = Attend(split(layer.query(x)), split(layer.key(x)), split(layer.value(x)), bias);
    x = Tail(layer, context.transpose(1, 2).reshape({batch, len, -1}), x);
  }
  return x;
}

PackedChunk MakePackedChunk(int64_t offset, const std::vector<int64_t>& lengths, bool kernel) {
  PackedChunk pc;
  pc.offset = offset;
  pc.rows = static_cast<int64_t>(lengths.size());
  for (int64_t n : lengths) {
    pc.tokens += n;
    pc.length = std::max(pc.length, n);
  }
  if (kernel) {
    int64_t start = 0;
    for (int64_t n : lengths) {
      pc.starts.push_back(start);
      pc.lengths.push_back(n);
      start += n;
    }
    return pc;
  }
  if (pc.tokens == pc.rows * pc.length) return pc;  // all equal: a view, no mask
  // Padding slots read the chunk's first row: finite values the mask then hides.
  pc.gather = torch::full({pc.rows * pc.length}, offset, torch::kInt64);
  pc.valid = torch::empty({pc.tokens}, torch::kInt64);
  pc.bias = torch::full({pc.rows, 1, 1, pc.length}, std::numeric_limits<float>::lowest());
  auto gather_a = pc.gather.accessor<int64_t, 1>();
  auto valid_a = pc.valid.accessor<int64_t, 1>();
  auto bias_a = pc.bias.accessor<float, 4>();
  int64_t row = offset;
  int64_t v = 0;
  for (int64_t r = 0; r < pc.rows; ++r) {
    for (int64_t j = 0; j < lengths[static_cast<std::size_t>(r)]; ++j) {
      gather_a[r * pc.length + j] = row++;
      valid_a[v++] = r * pc.length + j;
      bias_a[r][0][0][j] = 0;
    }
  }
  return pc;
}

void BertModelImpl::FuseQkv() {
  torch::NoGradGuard no_grad;
  const int64_t h = config_.hidden_size;
  for (auto& layer : layers_) {
    if (layer.qkv_weight.defined()) continue;
    layer.qkv_weight =
        torch::cat({layer.query->weight, layer.key->weight, layer.value->weight}).contiguous();
    layer.qkv_bias = torch::cat({layer.query->bias, layer.key->bias, layer.value->bias});
    torch::nn::Linear* parts[] = {&layer.query, &layer.key, &layer.value};
    for (int64_t i = 0; i < 3; ++i) {
      (*parts[i])->weight.set_data(layer.qkv_weight.narrow(0, i * h, h));
      (*parts[i])->bias.set_data(layer.qkv_bias.narrow(0, i * h, h));
    }
  }
}

torch::Tensor BertModelImpl::ForwardPacked(const torch::Tensor& ids, const torch::Tensor& positions,
                                           const std::vector<PackedChunk>& chunks,
                                           const Spread& spread, int ways) {
  const int64_t heads = config_.num_attention_heads;
  const int64_t hidden = config_.hidden_size;
  const int64_t head_dim = hidden / heads;
  const auto scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
  const int64_t total = ids.size(0);
  const bool split = spread && ways > 1 && layers_.front().qkv_weight.defined();
  ways = split ? static_cast<int>(std::min<int64_t>(ways, total)) : 1;
  // Part i of n equal ranges of `count` (rows or heads).
  auto range = [](int64_t count, std::size_t i, int n) {
    const int64_t first = count * static_cast<int64_t>(i) / n;
    return std::pair{first, count * static_cast<int64_t>(i + 1) / n - first};
  };
  // Runs fn(i) for i < ways on the spread's threads (or fn(0) here when not split).
  auto each = [&](int n, const std::function<void(std::size_t)>& fn) {
    if (n <= 1) return fn(0);
    spread(static_cast<std::size_t>(n), [&](std::size_t i) {
      c10::InferenceMode inference;
      fn(i);
    });
  };
  auto x = Embeddings(ids, position_embeddings_->weight.index_select(0, positions));
  std::vector<torch::Tensor> contexts(chunks.size());
  for (auto& layer : layers_) {
    torch::Tensor q, k, v;  // [T, hidden] each; with FuseQkv, column slices of one product
    if (layer.qkv_weight.defined()) {
      torch::Tensor qkv;
      if (split) {
        qkv = torch::empty({total, 3 * hidden}, x.options());
        each(ways, [&](std::size_t i) {
          const auto [first, n] = range(total, i, ways);
          auto rows = qkv.narrow(0, first, n);
          torch::addmm_out(rows, layer.qkv_bias, x.narrow(0, first, n), layer.qkv_weight.t());
        });
      } else {
        qkv = torch::addmm(layer.qkv_bias, x, layer.qkv_weight.t());
      }
      q = qkv.narrow(1, 0, hidden);
      k = qkv.narrow(1, hidden, hidden);
      v = qkv.narrow(1, 2 * hidden, hidden);
    } else {
      q = layer.query(x);
      k = layer.key(x);
      v = layer.value(x);
    }
    const int64_t stride = q.stride(0);
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      const PackedChunk& chunk = chunks[c];
      if (!chunk.lengths.empty()) {
        auto context = torch::empty({chunk.tokens, hidden}, x.options());
        const int64_t base = chunk.offset * stride;
        PackedAttention({.q = q.data_ptr<float>() + base,
                         .k = k.data_ptr<float>() + base,
                         .v = v.data_ptr<float>() + base,
                         .stride = stride},
                        context.data_ptr<float>(), hidden, heads, head_dim, chunk.starts.data(),
                        chunk.lengths.data(), chunk.rows, scale);
        contexts[c] = std::move(context);
        continue;
      }
      const bool dense = !chunk.gather.defined();
      // The chunk's rows as [rows, heads, length, d]: a view when all lengths are equal, else
      // gathered into the padded layout.
      auto part = [&](const torch::Tensor& t) {
        auto rows =
            dense ? t.narrow(0, chunk.offset, chunk.tokens) : t.index_select(0, chunk.gather);
        return rows.view({chunk.rows, chunk.length, heads, head_dim}).transpose(1, 2);
      };
      torch::Tensor attended;  // [rows, heads, length, d]
      const int head_ways = static_cast<int>(std::min<int64_t>(ways, heads));
      if (head_ways > 1) {
        const auto pq = part(q), pk = part(k), pv = part(v);
        attended = torch::empty({chunk.rows, heads, chunk.length, head_dim}, x.options());
        each(head_ways, [&](std::size_t i) {
          const auto [first, n] = range(heads, i, head_ways);
          attended.narrow(1, first, n)
              .copy_(Attend(pq.narrow(1, first, n), pk.narrow(1, first, n), pv.narrow(1, first, n),
                            chunk.bias));
        });
      } else {
        attended = Attend(part(q), part(k), part(v), chunk.bias);
      }
      auto context = attended.transpose(1, 2).reshape({chunk.rows * chunk.length, -1});
      contexts[c] = dense ? context : context.index_select(0, chunk.valid);
    }
    const auto context = contexts.size() == 1 ? contexts[0] : torch::cat(contexts);
    if (split) {
      auto next = torch::empty_like(x);
      each(ways, [&](std::size_t i) {
        const auto [first, n] = range(total, i, ways);
        next.narrow(0, first, n)
            .copy_(Tail(layer, context.narrow(0, first, n), x.narrow(0, first, n)));
      });
      x = std::move(next);
    } else {
      x = Tail(layer, context, x);
    }
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
