// The torch module itself: Hugging Face parameter names, and the autograd path training uses.

#include "inference/bert_model.h"

#include <gtest/gtest.h>

#include <set>

#include "inference/weights.h"
#include "inference/work_pool.h"

namespace vectorize::inference {
namespace {

namespace fs = std::filesystem;

TEST(BertModelTest, ParametersCarryHuggingFaceNames) {
  auto info = modelfiles::InspectModelDir(fs::path(VZ_TEST_MODELS) / "mean_default");
  ASSERT_TRUE(info.has_value()) << info.error().message;
  BertModel model(info->config);
  std::set<std::string> names;
  for (const auto& p : model->named_parameters()) names.insert(p.key());
  std::set<std::string> expected;
  for (const auto& [name, shape] : modelfiles::RequiredBertTensors(info->config)) {
    expected.insert(name);
  }
  EXPECT_EQ(names, expected);
}

TEST(BertModelTest, TrainsWithAutogradAndMatchesTheInferencePath) {
  auto info = modelfiles::InspectModelDir(fs::path(VZ_TEST_MODELS) / "mean_default");
  ASSERT_TRUE(info.has_value());
  BertModel model(info->config);
  ASSERT_TRUE(LoadBertWeights(*model, *info).has_value());

  auto ids = torch::tensor({101, 7592, 2088, 102, 101, 2023, 102, 0}, torch::kInt64).view({2, 4});
  auto mask = torch::tensor({1, 1, 1, 1, 1, 1, 1, 0}, torch::kFloat32).view({2, 4});
  auto pooled = Pool(model->forward(ids, mask), mask, modelfiles::Pooling::kMean);
  ASSERT_TRUE(pooled.requires_grad());
  pooled.pow(2).sum().backward();
  for (const auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
  }
  const auto& named = model->named_parameters();
  EXPECT_GT(named["encoder.layer.1.attention.self.query.weight"].grad().abs().sum().item<float>(),
            0.0f);
  // The padding position (id 0) is masked out of attention and pooling, so the id-0 embedding row
  // gets exactly zero gradient.
  EXPECT_EQ(named["embeddings.word_embeddings.weight"].grad()[0].abs().sum().item<float>(), 0.0f);

  torch::Tensor fast;
  {
    c10::InferenceMode guard;
    fast = Pool(model->forward(ids, mask), mask, modelfiles::Pooling::kMean);
  }
  EXPECT_FALSE(fast.requires_grad());
  EXPECT_LT((fast - pooled.detach()).abs().max().item<float>(), 1e-6);
}

// The packed fast path against the plain forward() of each sequence alone (no padding), through
// every attention route: the kernel, libtorch on equal lengths (a view), libtorch through the
// padded layout with a mask — with separate and with fused query/key/value projections.
TEST(BertModelTest, PackedForwardMatchesThePlainForwardOnEveryPath) {
  auto info = modelfiles::InspectModelDir(fs::path(VZ_TEST_MODELS) / "wide384");
  ASSERT_TRUE(info.has_value());
  BertModel model(info->config);
  ASSERT_TRUE(LoadBertWeights(*model, *info).has_value());
  c10::InferenceMode guard;

  const std::vector<int64_t> lengths = {3, 9, 9, 70, 70, 100};
  torch::manual_seed(3);
  std::vector<torch::Tensor> seqs, truth;
  for (int64_t n : lengths) {
    auto ids = torch::randint(999, info->config.vocab_size, {n}, torch::kInt64);
    ids[0] = 101;
    ids[n - 1] = 102;
    seqs.push_back(ids);
    truth.push_back(model->forward(ids.view({1, n}), torch::ones({1, n}))[0]);
  }
  const auto ids = torch::cat(seqs);
  std::vector<torch::Tensor> pos;
  for (int64_t n : lengths) pos.push_back(torch::arange(n, torch::kInt64));
  const auto positions = torch::cat(pos);

  Spread spread;
  int ways = 1;
  auto check = [&](const std::vector<PackedChunk>& chunks, const std::string& what) {
    const auto hidden = model->ForwardPacked(ids, positions, chunks, spread, ways);
    ASSERT_EQ(hidden.size(0), ids.size(0)) << what;
    int64_t row = 0;
    for (std::size_t s = 0; s < lengths.size(); ++s) {
      const float diff = (hidden.narrow(0, row, lengths[s]) - truth[s]).abs().max().item<float>();
      EXPECT_LT(diff, 1e-4) << what << ", sequence " << s;
      row += lengths[s];
    }
  };
  auto plans = [&](const std::string& label) {
    // Kernel for the short ones, a view for the two 70s, a single dense 100.
    check({MakePackedChunk(0, {3, 9, 9}, true), MakePackedChunk(21, {70, 70}, false),
           MakePackedChunk(161, {100}, false)},
          label + " kernel + views");
    // Everything padded to 100 under a mask.
    check({MakePackedChunk(0, lengths, false)}, label + " one padded chunk");
    // Everything through the kernel, long sequences included.
    check({MakePackedChunk(0, lengths, true)}, label + " all kernel");
    // A padded chunk of unequal lengths followed by a view.
    check({MakePackedChunk(0, {3, 9}, false), MakePackedChunk(12, {9, 70, 70, 100}, true)},
          label + " mixed");
  };
  plans("separate q/k/v:");
  model->FuseQkv();
  plans("fused q/k/v:");
  // One pass spread over threads: rows split for the products, heads for libtorch's attention
  // (3 does not divide the 261 rows nor the heads evenly).
  WorkPool pool(3, nullptr);
  spread = [&](std::size_t n, const std::function<void(std::size_t)>& fn) { pool.Run(n, fn); };
  for (int w : {2, 3}) {
    ways = w;
    plans("spread over " + std::to_string(w) + ":");
  }
}

// Saved weights load back bit for bit, through the same checks an upload passes.
TEST(BertModelTest, SavedWeightsRoundTrip) {
  const fs::path src = fs::path(VZ_TEST_MODELS) / "bin_prefixed";
  const fs::path dir = fs::temp_directory_path() / ("vz_save_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(src, dir, fs::copy_options::recursive);
  fs::remove(dir / "pytorch_model.bin");
  auto info = modelfiles::InspectModelDir(src);
  ASSERT_TRUE(info.has_value());
  BertModel model(info->config);
  ASSERT_TRUE(LoadBertWeights(*model, *info).has_value());
  auto saved = SaveBertWeights(*model, dir / "model.safetensors");
  ASSERT_TRUE(saved.has_value()) << saved.error().message;
  EXPECT_FALSE(fs::exists(dir / "model.safetensors.tmp"));

  auto reread = modelfiles::InspectModelDir(dir);
  ASSERT_TRUE(reread.has_value()) << reread.error().message;
  EXPECT_EQ(reread->tensor_prefix, "");
  std::uint64_t data_start = UINT64_MAX;  // the first tensor's offset: right after the header
  for (const auto& [name, t] : reread->tensors) data_start = std::min(data_start, t.offset);
  EXPECT_EQ(data_start % 8, 0u);
  BertModel copy(reread->config);
  ASSERT_TRUE(LoadBertWeights(*copy, *reread).has_value());
  const auto& a = model->named_parameters();
  for (const auto& p : copy->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), a[p.key()])) << p.key();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vectorize::inference
