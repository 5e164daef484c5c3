// The torch module itself: Hugging Face parameter names, and the autograd path training uses.

#include "inference/bert_model.h"

#include <gtest/gtest.h>

#include <set>

#include "inference/weights.h"

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

}  // namespace
}  // namespace vectorize::inference
