#include "embeddings/model_cache.h"

#include <spdlog/spdlog.h>

#include <vector>

namespace vectorize::embeddings {

ModelCache::ModelCache(ModelLoader loader, BatcherOptions batcher_options, std::size_t capacity)
    : loader_(std::move(loader)),
      batcher_options_(batcher_options),
      capacity_(std::max<std::size_t>(1, capacity)) {}

Result<std::shared_ptr<Batcher>> ModelCache::Get(const ModelRef& ref) {
  auto lookup = [&]() -> std::shared_ptr<Batcher> {
    auto it = index_.find(ref.id);
    if (it == index_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  };
  {
    std::lock_guard lock(mu_);
    if (auto hit = lookup()) return hit;
  }
  std::lock_guard load_lock(load_mu_);
  std::uint64_t evictions_before;
  {
    std::lock_guard lock(mu_);
    if (auto hit = lookup()) return hit;  // another request loaded it meanwhile
    evictions_before = evictions_;
  }
  auto model = loader_(ref);
  if (!model) return Fail(model.error());
  auto batcher = std::make_shared<Batcher>(std::move(*model), batcher_options_);
  spdlog::info("embeddings: loaded model {} ({})", ref.tag, ref.id);
  std::vector<std::shared_ptr<Batcher>> unloaded;  // destroyed outside the lock
  {
    std::lock_guard lock(mu_);
    ++loads_;
    if (evictions_ != evictions_before) return batcher;  // deleted while loading: use once
    lru_.emplace_front(ref.id, batcher);
    index_[ref.id] = lru_.begin();
    while (lru_.size() > capacity_) {
      spdlog::info("embeddings: unloading least recently used model {}", lru_.back().first);
      index_.erase(lru_.back().first);
      unloaded.push_back(std::move(lru_.back().second));
      lru_.pop_back();
    }
  }
  return batcher;
}

bool ModelCache::Evict(const std::string& model_id) {
  std::shared_ptr<Batcher> unloaded;
  std::lock_guard lock(mu_);
  ++evictions_;
  auto it = index_.find(model_id);
  if (it == index_.end()) return false;
  unloaded = std::move(it->second->second);
  lru_.erase(it->second);
  index_.erase(it);
  return true;
}

std::size_t ModelCache::size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

bool ModelCache::Contains(const std::string& model_id) const {
  std::lock_guard lock(mu_);
  return index_.contains(model_id);
}

std::uint64_t ModelCache::loads() const {
  std::lock_guard lock(mu_);
  return loads_;
}

}  // namespace vectorize::embeddings
