#pragma once
// Builds the embeddings service for the composition root: the libtorch encoder adapted to
// embeddings::EmbeddingModel, the model cache, the request counter and the service.
// Thread safety: build from one thread; the built objects are thread-safe.

#include <filesystem>
#include <memory>

#include "common/error.h"
#include "config/config.h"
#include "embeddings/embedding_service.h"
#include "storage/database.h"

namespace vectorize::app {

struct EmbeddingsParts {
  std::unique_ptr<embeddings::ModelCache> cache;
  std::unique_ptr<embeddings::RequestCounter> counter;
  std::unique_ptr<embeddings::EmbeddingService> service;
};

// File name of the encoder plugin (encoder_plugin.cc), looked for beside the executable, then on
// the dynamic linker's search path.
inline constexpr const char* kEncoderPluginName = "libvectorize_encoder.so";

// Loads a model folder with inference::Encoder (weights) and tokenizer::Tokenizer
// (tokenizer.json), through the encoder plugin, which is loaded on the first call (errors:
// unavailable when it cannot be found). intra_op_threads 0 = libtorch's default (one per physical
// core; on this project's 2-vCPU machines that is 1 — a second OpenMP thread on a hyperthread
// sibling only spins against the first).
embeddings::ModelLoader EncoderModelLoader(int intra_op_threads);

// Finds models as folders <models_dir>/<tag> (the layout the model registry stores them in):
// id "dir:<tag>", created_at the folder's modification time. Used until the model registry
// provides the lookup (AppOptions::model_lookup). Tags must be [A-Za-z0-9._-] and not "." / "..".
embeddings::ModelLookup ModelFolderLookup(std::filesystem::path models_dir);

// REQUIRES: database outlives the parts; migrations applied (table embedding_counter).
std::unique_ptr<EmbeddingsParts> BuildEmbeddings(const config::Config& config,
                                                 storage::Database& database,
                                                 embeddings::ModelLookup lookup);

}  // namespace vectorize::app
