#pragma once
// What the embeddings service needs from a loaded model, and how it finds and loads one. The
// service never sees torch: src/inference adapts its encoder to EmbeddingModel, and app wires
// the loader (model folder → EmbeddingModel) and the lookup (tag → ModelRef, the model registry).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "tokenizer/tokenizer.h"

namespace vectorize::embeddings {

// A registered model, as the registry describes it.
struct ModelRef {
  std::string id;
  std::string tag;
  std::filesystem::path path;  // the model folder (config.json, tokenizer.json, weights, ...)
  std::int64_t created_at_us = 0;
};

// A model ready to embed. Thread safety: Embed is called by one batcher thread at a time; the
// accessors are immutable and safe from any thread.
class EmbeddingModel {
 public:
  virtual ~EmbeddingModel() = default;

  // One pooled (and, when normalizes(), L2-normalised) vector of dimension() floats per
  // sequence, in order. Sequences already hold the special tokens and may differ in length (the
  // model pads them). REQUIRES: every sequence non-empty, at most max_seq_length() ids, each id
  // in [0, vocab_size()). Errors: internal (the forward pass failed).
  [[nodiscard]] virtual Result<std::vector<std::vector<float>>> Embed(
      const std::vector<std::vector<std::int32_t>>& sequences) = 0;

  [[nodiscard]] virtual int dimension() const = 0;
  [[nodiscard]] virtual int max_seq_length() const = 0;  // specials included
  [[nodiscard]] virtual int vocab_size() const = 0;      // rows of the embedding table
  [[nodiscard]] virtual bool normalizes() const = 0;
  [[nodiscard]] virtual const tokenizer::Tokenizer& tokenizer() const = 0;
};

// Loads the model of a registry entry. Errors: not_found / invalid_argument (files missing or
// malformed), internal. Called without locks held; may take seconds.
using ModelLoader = std::function<Result<std::shared_ptr<EmbeddingModel>>(const ModelRef&)>;

// Finds a registered model by tag. Errors: not_found when no such model.
using ModelLookup = std::function<Result<ModelRef>(std::string_view tag)>;

}  // namespace vectorize::embeddings
