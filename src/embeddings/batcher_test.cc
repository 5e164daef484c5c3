// Batcher and ModelCache mechanics. The model here is a deterministic stand-in (vectors computed
// from the ids) so that batching order, scatter, back-pressure and eviction can be asserted
// exactly; the real encoder is exercised by tests/e2e/test_embeddings.py.
#include "embeddings/batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "embeddings/model_cache.h"

namespace vectorize::embeddings {
namespace {

using Ids = std::vector<std::int32_t>;

class StandInModel : public EmbeddingModel {
 public:
  Result<std::vector<std::vector<float>>> Embed(const std::vector<Ids>& sequences) override {
    {
      std::unique_lock lock(mu_);
      batches_.push_back(sequences);
      gate_cv_.wait(lock, [&] { return open_; });
    }
    if (fail_) return Fail(Error::Internal("forward pass failed"));
    std::vector<std::vector<float>> out;
    for (const Ids& s : sequences) {
      float sum = 0;
      for (auto id : s) sum += static_cast<float>(id);
      out.push_back({static_cast<float>(s.size()), sum, static_cast<float>(s.front())});
    }
    return out;
  }
  int dimension() const override { return 3; }
  int max_seq_length() const override { return 512; }
  int vocab_size() const override { return 1000; }
  bool normalizes() const override { return false; }
  const tokenizer::Tokenizer& tokenizer() const override { std::abort(); }

  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    gate_cv_.notify_all();
  }
  std::vector<std::vector<Ids>> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::atomic<bool> fail_{false};

 private:
  std::mutex mu_;
  std::condition_variable gate_cv_;
  bool open_ = true;
  std::vector<std::vector<Ids>> batches_;
};

std::vector<float> Expected(const Ids& s) {
  float sum = 0;
  for (auto id : s) sum += static_cast<float>(id);
  return {static_cast<float>(s.size()), sum, static_cast<float>(s.front())};
}

TEST(BatcherTest, ReturnsVectorsInRequestOrder) {
  auto model = std::make_shared<StandInModel>();
  Batcher batcher(model, {.max_batch = 8, .wait = std::chrono::microseconds(0)});
  std::vector<Ids> seqs = {{101, 5, 6, 7, 102}, {101, 102}, {101, 9, 102}};
  auto out = batcher.Embed(seqs);
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->size(), 3u);
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ((*out)[i], Expected(seqs[i]));
  // One forward pass, in arrival order (the model plans its own packing).
  auto batches = model->batches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0], seqs);
}

TEST(BatcherTest, ConcurrentRequestsShareForwardPassesAndGetTheirOwnVectors) {
  auto model = std::make_shared<StandInModel>();
  Batcher batcher(model, {.max_batch = 16, .wait = std::chrono::milliseconds(50)});
  constexpr int kClients = 16;
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::vector<Ids> seqs = {{101, c, 102}};
      auto out = batcher.Embed(seqs);
      if (out && out->size() == 1 && (*out)[0] == Expected(seqs[0])) ++ok;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients);
  auto stats = batcher.stats();
  EXPECT_EQ(stats.sequences, static_cast<std::uint64_t>(kClients));
  // 16 clients within a 50 ms window: far fewer passes than requests.
  EXPECT_LE(stats.forward_passes, 4u);
}

TEST(BatcherTest, MaxBatchBoundsEachForwardPass) {
  auto model = std::make_shared<StandInModel>();
  Batcher batcher(model, {.max_batch = 4, .wait = std::chrono::microseconds(0)});
  std::vector<Ids> seqs;
  for (int i = 0; i < 10; ++i) seqs.push_back({101, i, 102});
  auto out = batcher.Embed(seqs);
  ASSERT_TRUE(out);
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ((*out)[i], Expected(seqs[i]));
  for (const auto& b : model->batches()) EXPECT_LE(b.size(), 4u);
  EXPECT_EQ(batcher.stats().forward_passes, 3u);
}

TEST(BatcherTest, MixedLengthsShareOnePass) {
  // The model packs sequences without padding, so a long one no longer needs a pass of its own.
  auto model = std::make_shared<StandInModel>();
  Batcher batcher(model, {.max_batch = 32, .wait = std::chrono::microseconds(0)});
  std::vector<Ids> seqs;
  for (int i = 0; i < 4; ++i) seqs.push_back({101, i, 102});
  seqs.push_back(Ids(256, 7));
  auto out = batcher.Embed(seqs);
  ASSERT_TRUE(out);
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ((*out)[i], Expected(seqs[i]));
  ASSERT_EQ(model->batches().size(), 1u);
  EXPECT_EQ(model->batches()[0].size(), 5u);
  auto stats = batcher.stats();
  EXPECT_EQ(stats.forward_passes, 1u);
  EXPECT_EQ(stats.tokens, 4u * 3u + 256u);
}

TEST(BatcherTest, FullQueueRefusesWholeRequestAtOnce) {
  auto model = std::make_shared<StandInModel>();
  Batcher batcher(model,
                  {.max_batch = 1, .wait = std::chrono::microseconds(0), .queue_capacity = 3});
  model->Close();  // the first pass blocks inside the model
  std::vector<Ids> one = {{101, 1, 102}};
  auto first = std::async(std::launch::async, [&] { return batcher.Embed(one); });
  while (model->batches().empty()) std::this_thread::yield();
  std::vector<Ids> three = {{101, 2, 102}, {101, 3, 102}, {101, 4, 102}};
  auto second = std::async(std::launch::async, [&] { return batcher.Embed(three); });
  while (batcher.queued() < 3) std::this_thread::yield();
  std::vector<Ids> probe = {{101, 5, 102}};
  auto refused = batcher.Embed(probe);  // a fourth sequence does not fit a queue of 3
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(batcher.queued(), 3u);  // nothing of the refused request was queued
  model->Open();
  auto r1 = first.get();
  auto r2 = second.get();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ((*r2)[2], Expected(three[2]));
}

TEST(BatcherTest, EmptyQueueAdmitsARequestLargerThanTheQueue) {
  auto model = std::make_shared<StandInModel>();
  Batcher batcher(model,
                  {.max_batch = 2, .wait = std::chrono::microseconds(0), .queue_capacity = 3});
  std::vector<Ids> seqs;
  for (int i = 0; i < 7; ++i) seqs.push_back({101, i, 102});
  auto out = batcher.Embed(seqs);
  ASSERT_TRUE(out) << out.error().message;
  for (std::size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ((*out)[i], Expected(seqs[i]));
}

TEST(BatcherTest, ModelErrorsReachEveryRequestOfThePass) {
  auto model = std::make_shared<StandInModel>();
  model->fail_ = true;
  Batcher batcher(model, {.max_batch = 8, .wait = std::chrono::microseconds(0)});
  std::vector<Ids> seqs = {{101, 102}, {101, 1, 102}};
  auto out = batcher.Embed(seqs);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kInternal);
}

TEST(BatcherTest, DestructionFailsQueuedRequests) {
  auto model = std::make_shared<StandInModel>();
  auto batcher = std::make_unique<Batcher>(
      model, BatcherOptions{.max_batch = 1, .wait = std::chrono::microseconds(0)});
  model->Close();
  std::vector<Ids> a = {{101, 1, 102}};
  std::vector<Ids> b = {{101, 2, 102}};
  auto first = std::async(std::launch::async, [&] { return batcher->Embed(a); });
  while (model->batches().empty()) std::this_thread::yield();
  auto second = std::async(std::launch::async, [&] { return batcher->Embed(b); });
  while (batcher->queued() < 1) std::this_thread::yield();
  auto destroy = std::async(std::launch::async, [&] { batcher.reset(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  model->Open();
  destroy.get();
  EXPECT_TRUE(first.get().has_value());  // the pass in progress completes
  auto r2 = second.get();
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, ErrorCode::kUnavailable);
}

// --- ModelCache -------------------------------------------------------------------------------

struct CountingLoader {
  std::shared_ptr<std::atomic<int>> loads = std::make_shared<std::atomic<int>>(0);
  ModelLoader loader() {
    auto counter = loads;
    return [counter](const ModelRef& ref) -> Result<std::shared_ptr<EmbeddingModel>> {
      if (ref.path == "missing") return Fail(Error::NotFound("no model files"));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      ++*counter;
      return std::shared_ptr<EmbeddingModel>(std::make_shared<StandInModel>());
    };
  }
};

ModelRef Ref(std::string id) { return ModelRef{id, "tag-" + id, id, 0}; }

TEST(ModelCacheTest, LeastRecentlyUsedIsUnloadedBeyondCapacity) {
  CountingLoader loader;
  ModelCache cache(loader.loader(), {}, 2);
  ASSERT_TRUE(cache.Get(Ref("a")));
  ASSERT_TRUE(cache.Get(Ref("b")));
  ASSERT_TRUE(cache.Get(Ref("a")));  // a is now the most recently used
  ASSERT_TRUE(cache.Get(Ref("c")));  // evicts b
  EXPECT_TRUE(cache.Contains("a"));
  EXPECT_FALSE(cache.Contains("b"));
  EXPECT_TRUE(cache.Contains("c"));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(loader.loads->load(), 3);
  ASSERT_TRUE(cache.Get(Ref("b")));  // loaded again
  EXPECT_EQ(loader.loads->load(), 4);
  EXPECT_FALSE(cache.Contains("a"));
}

TEST(ModelCacheTest, ConcurrentGetsLoadOnce) {
  CountingLoader loader;
  ModelCache cache(loader.loader(), {}, 2);
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<Batcher>> got(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { got[i] = *cache.Get(Ref("a")); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(loader.loads->load(), 1);
  for (const auto& g : got) EXPECT_EQ(g, got[0]);
}

TEST(ModelCacheTest, EvictUnloadsAndInFlightUsersKeepTheirModel) {
  CountingLoader loader;
  ModelCache cache(loader.loader(), {}, 2);
  auto held = cache.Get(Ref("a"));
  ASSERT_TRUE(held);
  EXPECT_TRUE(cache.Evict("a"));
  EXPECT_FALSE(cache.Contains("a"));
  EXPECT_FALSE(cache.Evict("a"));
  std::vector<Ids> seqs = {{101, 102}};
  EXPECT_TRUE((*held)->Embed(seqs));  // still usable by whoever holds it
}

TEST(ModelCacheTest, LoadErrorsPassThroughAndAreNotCached) {
  CountingLoader loader;
  ModelCache cache(loader.loader(), {}, 2);
  ModelRef bad = Ref("x");
  bad.path = "missing";
  auto r = cache.Get(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace vectorize::embeddings
