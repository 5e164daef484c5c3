#pragma once
// Builds the embeddings service for the composition root: the libtorch encoder adapted to
// embeddings::EmbeddingModel, the model cache, the request counter and the service.
// Thread safety: build from one thread; the built objects are thread-safe.

#include <filesystem>
#include <memory>

#include "common/error.h"
#include "config/config.h"
#include "embeddings/embedding_service.h"
#include "models/model_registry.h"
#include "storage/database.h"

namespace vectorize::app {

struct EmbeddingsParts {
  std::unique_ptr<embeddings::ModelCache> cache;
  std::unique_ptr<embeddings::RequestCounter> counter;
  std::unique_ptr<embeddings::EmbeddingService> service;
};

// Loads a model folder with inference::Encoder (weights; the first load maps libtorch through
// libvectorize_inference.so, see inference/plugin.h) and tokenizer::Tokenizer (tokenizer.json).
// threads: how many threads one forward pass spreads its sequences over (EncoderOptions::threads;
// 0 = one per usable CPU).
embeddings::ModelLoader EncoderModelLoader(int threads);

// Finds ready models in the registry: id, tag, <data_dir>/<path>, created_at.
// REQUIRES: registry outlives the lookup.
embeddings::ModelLookup RegistryModelLookup(models::ModelRegistry& registry,
                                            std::filesystem::path data_dir);

// REQUIRES: database outlives the parts; migrations applied (table embedding_counter).
std::unique_ptr<EmbeddingsParts> BuildEmbeddings(const config::Config& config,
                                                 storage::Database& database,
                                                 embeddings::ModelLookup lookup);

}  // namespace vectorize::app
