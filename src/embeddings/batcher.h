#pragma once
// Dynamic batching for one model: concurrent requests queue their sequences; one thread takes up
// to max_batch of them (waiting up to `wait` after the oldest arrived for more to join), runs the
// model on them in one call (the model packs them without padding and spreads them over its
// threads) and hands every request its vectors in its own order.
//
// The queue is bounded: a request whose sequences do not all fit is refused at once
// (resource_exhausted → 429) and nothing of it is queued — except into an empty queue, which
// takes any request (else one larger than the queue could never succeed).
// Thread safety: Embed may be called from any number of threads. The destructor fails queued
// requests with unavailable and waits for the forward pass in progress.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/error.h"
#include "embeddings/embedding_model.h"

namespace vectorize::embeddings {

struct BatcherOptions {
  int max_batch = 32;                    // sequences per forward pass
  std::chrono::microseconds wait{2000};  // extra wait for company once a sequence is queued
  int queue_capacity = 1024;             // queued sequences at most
};

class Batcher {
 public:
  Batcher(std::shared_ptr<EmbeddingModel> model, BatcherOptions options);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Blocks until every sequence is embedded; vectors come back in the order given.
  // REQUIRES: the sequences satisfy EmbeddingModel::Embed's preconditions; not empty.
  // Errors: resource_exhausted (queue full), unavailable (shutting down), the model's errors.
  [[nodiscard]] Result<std::vector<std::vector<float>>> Embed(
      const std::vector<std::vector<std::int32_t>>& sequences);

  struct Stats {
    std::uint64_t forward_passes = 0;
    std::uint64_t sequences = 0;
    std::uint64_t tokens = 0;
  };
  [[nodiscard]] Stats stats() const;
  // Sequences waiting for a forward pass now.
  [[nodiscard]] std::size_t queued() const;
  [[nodiscard]] const std::shared_ptr<EmbeddingModel>& model() const { return model_; }

 private:
  struct Request {
    const std::vector<std::vector<std::int32_t>>* sequences = nullptr;
    std::vector<std::vector<float>> vectors;
    std::size_t remaining = 0;
    std::optional<Error> error;
    std::condition_variable done;
  };
  struct Item {
    Request* request;
    std::size_t index;
    std::chrono::steady_clock::time_point queued_at;
  };

  void Run();
  void RunBatch(std::vector<Item>& batch);

  std::shared_ptr<EmbeddingModel> model_;
  BatcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace vectorize::embeddings
