#pragma once
// The models loaded in memory, each with its batcher, kept least-recently-used up to a capacity.
// Loading the same model from several requests at once loads it once; loads of different
// models run one at a time (memory: two half-loaded models must not coexist on a small box).
// Evict (on model delete) drops a model at once; requests already holding it finish with it.
// Thread safety: every method may be called from any thread.

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/error.h"
#include "embeddings/batcher.h"
#include "embeddings/embedding_model.h"

namespace vectorize::embeddings {

class ModelCache {
 public:
  // REQUIRES: capacity ≥ 1.
  ModelCache(ModelLoader loader, BatcherOptions batcher_options, std::size_t capacity);

  // The model's batcher, loading the model when it is not in memory (and unloading the least
  // recently used one beyond capacity). Errors: the loader's.
  [[nodiscard]] Result<std::shared_ptr<Batcher>> Get(const ModelRef& ref);

  // Unloads the model (no-op when not loaded). Returns whether it was loaded.
  bool Evict(const std::string& model_id);

  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] bool Contains(const std::string& model_id) const;
  [[nodiscard]] std::uint64_t loads() const;

 private:
  using Lru = std::list<std::pair<std::string, std::shared_ptr<Batcher>>>;

  ModelLoader loader_;
  BatcherOptions batcher_options_;
  std::size_t capacity_;
  std::mutex load_mu_;  // serialises loads; never held with mu_ waiting on it
  mutable std::mutex mu_;
  Lru lru_;  // most recently used first
  std::unordered_map<std::string, Lru::iterator> index_;
  std::uint64_t evictions_ = 0;  // bumped by Evict: a load that raced one is not cached
  std::uint64_t loads_ = 0;
};

}  // namespace vectorize::embeddings
