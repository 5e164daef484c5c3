// config.json of a BERT-family model, and the tensors such a model needs.

#include <fmt/format.h>

#include <boost/json.hpp>

#include "modelfiles/model_dir.h"

namespace vectorize::modelfiles {
namespace {

namespace json = boost::json;

constexpr std::string_view kActivations[] = {
    "gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "silu", "swish", "tanh"};

Error Bad(const std::filesystem::path& file, const std::string& what) {
  return Error::InvalidArgument(fmt::format("{}: {}", file.filename().string(), what));
}

// Reads an integer field in [lo, hi]; absent → `fallback` (or an error if fallback < 0).
Result<int> IntField(const json::object& obj, std::string_view key, int fallback, int lo, int hi,
                     const std::filesystem::path& file) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (fallback < 0) return Fail(Bad(file, fmt::format("'{}' is missing", key)));
    return fallback;
  }
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64()) {
    n = static_cast<std::int64_t>(std::min<std::uint64_t>(v->get_uint64(), 1ull << 40));
  } else {
    return Fail(Bad(file, fmt::format("'{}' must be an integer", key)));
  }
  if (n < lo || n > hi) {
    return Fail(Bad(file, fmt::format("'{}' is {}, must be between {} and {}", key, n, lo, hi)));
  }
  return static_cast<int>(n);
}

}  // namespace

std::string_view PoolingName(Pooling pooling) {
  switch (pooling) {
    case Pooling::kMean: return "mean";
    case Pooling::kCls: return "cls";
    case Pooling::kMax: return "max";
  }
  return "mean";
}

Result<BertConfig> ParseBertConfig(std::string_view text, const std::filesystem::path& file) {
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) return Fail(Bad(file, fmt::format("not valid JSON ({})", ec.message())));
  const auto* obj = root.if_object();
  if (obj == nullptr) return Fail(Bad(file, "not a JSON object"));

  BertConfig c;
  if (const auto* archs = obj->if_contains("architectures"); archs && archs->is_array()) {
    for (const auto& a : archs->get_array()) {
      if (a.is_string()) c.architectures.emplace_back(a.get_string());
    }
  }
  if (const auto* mt = obj->if_contains("model_type"); mt && !mt->is_null()) {
    if (!mt->is_string()) return Fail(Bad(file, "'model_type' must be a string"));
    c.model_type = std::string(mt->get_string());
  } else {
    bool bert = false;
    for (const auto& a : c.architectures) bert = bert || a.starts_with("Bert");
    if (!bert) {
      return Fail(Bad(file,
                      "neither 'model_type' nor a Bert* entry in 'architectures'; "
                      "supported: BERT-family models (model_type \"bert\")"));
    }
  }
  if (c.model_type != "bert") {
    return Fail(Bad(file, fmt::format("unsupported model_type \"{}\"; supported: \"bert\" (BERT, "
                                      "MiniLM and BERT-architecture BGE/E5/GTE models)",
                                      c.model_type)));
  }
  if (const auto* pe = obj->if_contains("position_embedding_type");
      pe && !pe->is_null() && !(pe->is_string() && pe->get_string() == "absolute")) {
    return Fail(Bad(file, "unsupported 'position_embedding_type'; only \"absolute\" is supported"));
  }

  auto field = [&](std::string_view key, int fallback, int lo, int hi, int* out) -> Status {
    auto v = IntField(*obj, key, fallback, lo, hi, file);
    if (!v) return Fail(std::move(v.error()));
    *out = *v;
    return {};
  };
  if (auto s = field("hidden_size", -1, 1, 65536, &c.hidden_size); !s) return Fail(s.error());
  if (auto s = field("num_hidden_layers", -1, 1, 1024, &c.num_hidden_layers); !s) {
    return Fail(s.error());
  }
  if (auto s = field("num_attention_heads", -1, 1, 4096, &c.num_attention_heads); !s) {
    return Fail(s.error());
  }
  if (auto s = field("intermediate_size", -1, 1, 1 << 20, &c.intermediate_size); !s) {
    return Fail(s.error());
  }
  if (auto s = field("vocab_size", -1, 1, 1 << 24, &c.vocab_size); !s) return Fail(s.error());
  if (auto s = field("max_position_embeddings", 512, 1, 1 << 20, &c.max_position_embeddings); !s) {
    return Fail(s.error());
  }
  if (auto s = field("type_vocab_size", 2, 0, 1 << 16, &c.type_vocab_size); !s) {
    return Fail(s.error());
  }
  if (auto s = field("pad_token_id", 0, 0, 1 << 24, &c.pad_token_id); !s) return Fail(s.error());
  if (c.hidden_size % c.num_attention_heads != 0) {
    return Fail(Bad(file, fmt::format("hidden_size {} is not a multiple of num_attention_heads {}",
                                      c.hidden_size, c.num_attention_heads)));
  }

  if (const auto* act = obj->if_contains("hidden_act"); act && !act->is_null()) {
    if (!act->is_string()) return Fail(Bad(file, "'hidden_act' must be a string"));
    c.hidden_act = std::string(act->get_string());
    bool known = false;
    for (auto a : kActivations) known = known || a == c.hidden_act;
    if (!known) {
      return Fail(Bad(file, fmt::format("unsupported hidden_act \"{}\"; supported: {}",
                                        c.hidden_act, fmt::join(kActivations, ", "))));
    }
  }
  if (const auto* eps = obj->if_contains("layer_norm_eps"); eps && !eps->is_null()) {
    if (!eps->is_number()) return Fail(Bad(file, "'layer_norm_eps' must be a number"));
    c.layer_norm_eps = eps->to_number<double>();
    if (!(c.layer_norm_eps > 0 && c.layer_norm_eps < 1)) {
      return Fail(Bad(file, "'layer_norm_eps' must be between 0 and 1"));
    }
  }
  return c;
}

std::map<std::string, std::vector<std::int64_t>> RequiredBertTensors(const BertConfig& c) {
  const std::int64_t h = c.hidden_size;
  const std::int64_t i = c.intermediate_size;
  std::map<std::string, std::vector<std::int64_t>> out{
      {"embeddings.word_embeddings.weight", {c.vocab_size, h}},
      {"embeddings.position_embeddings.weight", {c.max_position_embeddings, h}},
      {"embeddings.LayerNorm.weight", {h}},
      {"embeddings.LayerNorm.bias", {h}},
  };
  if (c.type_vocab_size > 0) {
    out["embeddings.token_type_embeddings.weight"] = {c.type_vocab_size, h};
  }
  for (int n = 0; n < c.num_hidden_layers; ++n) {
    const std::string p = fmt::format("encoder.layer.{}.", n);
    for (const char* proj : {"query", "key", "value"}) {
      out[p + "attention.self." + proj + ".weight"] = {h, h};
      out[p + "attention.self." + proj + ".bias"] = {h};
    }
    out[p + "attention.output.dense.weight"] = {h, h};
    out[p + "attention.output.dense.bias"] = {h};
    out[p + "attention.output.LayerNorm.weight"] = {h};
    out[p + "attention.output.LayerNorm.bias"] = {h};
    out[p + "intermediate.dense.weight"] = {i, h};
    out[p + "intermediate.dense.bias"] = {i};
    out[p + "output.dense.weight"] = {h, i};
    out[p + "output.dense.bias"] = {h};
    out[p + "output.LayerNorm.weight"] = {h};
    out[p + "output.LayerNorm.bias"] = {h};
  }
  return out;
}

}  // namespace vectorize::modelfiles
