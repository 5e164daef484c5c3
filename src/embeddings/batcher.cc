#include "embeddings/batcher.h"

#include <algorithm>

namespace vectorize::embeddings {

Batcher::Batcher(std::shared_ptr<EmbeddingModel> model, BatcherOptions options)
    : model_(std::move(model)), options_(options) {
  options_.max_batch = std::max(1, options_.max_batch);
  options_.queue_capacity = std::max(1, options_.queue_capacity);
  thread_ = std::thread([this] { Run(); });
}

Batcher::~Batcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (Item& item : queue_) {
      Request* r = item.request;
      if (!r->error) r->error = Error::Unavailable("the model is being unloaded; try again");
      if (--r->remaining == 0) r->done.notify_all();
    }
    queue_.clear();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<std::vector<std::vector<float>>> Batcher::Embed(
    const std::vector<std::vector<std::int32_t>>& sequences) {
  Request request;
  request.sequences = &sequences;
  request.vectors.resize(sequences.size());
  request.remaining = sequences.size();
  if (sequences.empty()) return std::move(request.vectors);
  std::unique_lock lock(mu_);
  if (stopping_) return Fail(Error::Unavailable("the model is being unloaded; try again"));
  // A request larger than the whole queue is still admitted into an empty one (the request
  // limits bound it): refusing it would send the client into retries that can never succeed.
  if (!queue_.empty() &&
      queue_.size() + sequences.size() > static_cast<std::size_t>(options_.queue_capacity)) {
    return Fail(Error::ResourceExhausted(
        "the embedding queue of this model is full; retry after a short wait"));
  }
  const auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < sequences.size(); ++i) queue_.push_back({&request, i, now});
  lock.unlock();
  wake_.notify_one();
  lock.lock();
  request.done.wait(lock, [&] { return request.remaining == 0; });
  if (request.error) return Fail(*request.error);
  return std::move(request.vectors);
}

Batcher::Stats Batcher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::size_t Batcher::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Batcher::Run() {
  std::unique_lock lock(mu_);
  const auto max_batch = static_cast<std::size_t>(options_.max_batch);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    // Wait for company, counted from when the oldest sequence arrived: sequences that queued
    // during the previous forward pass have waited already.
    if (queue_.size() < max_batch && options_.wait.count() > 0) {
      auto deadline = queue_.front().queued_at + options_.wait;
      wake_.wait_until(lock, deadline, [&] { return stopping_ || queue_.size() >= max_batch; });
      if (stopping_) return;
    }
    std::vector<Item> batch;
    const std::size_t n = std::min(max_batch, queue_.size());
    batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    RunBatch(batch);
    lock.lock();
  }
}

void Batcher::RunBatch(std::vector<Item>& batch) {
  // One forward pass for the whole batch: the model packs the sequences without padding and
  // spreads them over its threads itself (inference/batch_plan.h).
  std::vector<std::vector<std::int32_t>> sequences;
  sequences.reserve(batch.size());
  std::size_t tokens = 0;
  for (const Item& item : batch) {
    sequences.push_back((*item.request->sequences)[item.index]);
    tokens += sequences.back().size();
  }
  auto vectors = model_->Embed(sequences);
  if (vectors && vectors->size() != sequences.size()) {
    vectors = Fail(Error::Internal("the model returned a wrong number of vectors"));
  }
  std::lock_guard lock(mu_);
  ++stats_.forward_passes;
  stats_.sequences += sequences.size();
  stats_.tokens += tokens;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Request* r = batch[i].request;
    if (vectors) {
      r->vectors[batch[i].index] = std::move((*vectors)[i]);
    } else if (!r->error) {
      r->error = vectors.error();
    }
    if (--r->remaining == 0) r->done.notify_all();
  }
}

}  // namespace vectorize::embeddings
