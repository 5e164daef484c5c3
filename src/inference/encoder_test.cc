// The encoder against golden vectors of the independent Python reference
// (tests/fixtures/reference_embed.py), on the random test models that fixture.bert_test_models
// generates (tests/fixtures/make_test_model.py).

#include "inference/encoder.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "inference/verify.h"

namespace vectorize::inference {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path kModels = VZ_TEST_MODELS;

json::value Golden() {
  std::ifstream in(VZ_BERT_GOLDEN);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::vector<std::vector<std::int32_t>> Inputs(const json::value& variant) {
  std::vector<std::vector<std::int32_t>> out;
  for (const auto& seq : variant.at("inputs").as_array()) {
    auto& row = out.emplace_back();
    for (const auto& id : seq.as_array()) row.push_back(static_cast<std::int32_t>(id.as_int64()));
  }
  return out;
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]));
  }
  return worst;
}

std::vector<float> Floats(const json::value& row) {
  std::vector<float> v;
  for (const auto& x : row.as_array()) v.push_back(static_cast<float>(x.to_number<double>()));
  return v;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  static const json::value& Variant(const std::string& name) {
    static const json::value golden = Golden();
    for (const auto& v : golden.at("variants").as_array()) {
      if (v.at("name").as_string() == name) return v;
    }
    ADD_FAILURE() << "no golden variant " << name;
    static const json::value none;
    return none;
  }
};

// Every component of every vector within 1e-4 of the reference, with the whole input list as one
// padded batch (mixed lengths, truncation where the inputs exceed max_seq_length).
TEST_P(GoldenTest, BatchMatchesReference) {
  const auto& v = Variant(GetParam());
  auto encoder = Encoder::LoadDir(kModels / GetParam());
  ASSERT_TRUE(encoder.has_value()) << encoder.error().message;
  EXPECT_EQ((*encoder)->normalizes(), v.at("normalize").as_bool());
  EXPECT_EQ((*encoder)->max_seq_length(), v.at("max_seq_length").as_int64());
  const auto inputs = Inputs(v);
  auto out = (*encoder)->Embed(inputs);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  const auto& expected = v.at("embeddings").as_array();
  ASSERT_EQ(out->size(), expected.size());
  double worst = 0;
  for (std::size_t i = 0; i < out->size(); ++i) {
    ASSERT_EQ(static_cast<int>((*out)[i].size()), (*encoder)->dimension());
    const double diff = MaxAbsDiff((*out)[i], Floats(expected[i]));
    EXPECT_LE(diff, 1e-4) << GetParam() << " input " << i;
    worst = std::max(worst, diff);
  }
  std::printf("%s: max abs difference to the reference %.3g\n", GetParam().c_str(), worst);
}

// Padding must not change a sentence's vector: each input alone equals its row in the batch.
TEST_P(GoldenTest, SingleEqualsBatch) {
  auto encoder = Encoder::LoadDir(kModels / GetParam());
  ASSERT_TRUE(encoder.has_value()) << encoder.error().message;
  const auto inputs = Inputs(Variant(GetParam()));
  auto batch = (*encoder)->Embed(inputs);
  ASSERT_TRUE(batch.has_value());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto single = (*encoder)->Embed({inputs[i]});
    ASSERT_TRUE(single.has_value());
    EXPECT_LE(MaxAbsDiff(single->front(), (*batch)[i]), 1e-5) << GetParam() << " input " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, GoldenTest,
                         ::testing::Values("mean_default", "cls_normalize", "max_pos64",
                                           "truncate8", "sharded", "bin_prefixed", "bin_plain_dict",
                                           "f16_gelu_new", "wide384", "relu_no_types",
                                           "long_mixed"));

TEST(EncoderTest, NormalizedVectorsHaveUnitLength) {
  auto encoder = Encoder::LoadDir(kModels / "cls_normalize");
  ASSERT_TRUE(encoder.has_value());
  auto out = (*encoder)->Embed({{101, 7592, 2088, 102}});
  ASSERT_TRUE(out.has_value());
  double sum = 0;
  for (float x : out->front()) sum += static_cast<double>(x) * x;
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

TEST(EncoderTest, RefusesBadIdsNamingTheInput) {
  auto encoder = Encoder::LoadDir(kModels / "mean_default");
  ASSERT_TRUE(encoder.has_value());
  EXPECT_EQ((*encoder)->vocab_size(), 30522);
  auto out = (*encoder)->Embed({{101, 102}, {101, 30522, 102}});
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(out.error().message.find("input 1, position 1: token id 30522"), std::string::npos)
      << out.error().message;
  out = (*encoder)->Embed({{101, -1}});
  ASSERT_FALSE(out.has_value());
  out = (*encoder)->Embed({{101, 102}, {}});
  ASSERT_FALSE(out.has_value());
  EXPECT_NE(out.error().message.find("input 1 has no tokens"), std::string::npos);
  out = (*encoder)->Embed({});
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->empty());
}

TEST(EncoderTest, TruncatesToMaxSeqLengthKeepingTheLastToken) {
  auto encoder = Encoder::LoadDir(kModels / "truncate8");
  ASSERT_TRUE(encoder.has_value());
  ASSERT_EQ((*encoder)->max_seq_length(), 8);
  std::vector<std::int32_t> long_seq{101,  2000, 2001, 2002, 2003, 2004,
                                     2005, 2006, 2007, 2008, 102};
  std::vector<std::int32_t> cut{101, 2000, 2001, 2002, 2003, 2004, 2005, 102};
  auto a = (*encoder)->Embed({long_seq});
  auto b = (*encoder)->Embed({cut});
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_LE(MaxAbsDiff(a->front(), b->front()), 1e-6);
}

// The service calls Embed from several worker threads at once.
TEST(EncoderTest, ConcurrentEmbedsGiveTheSerialResults) {
  auto encoder = Encoder::LoadDir(kModels / "mean_default");
  ASSERT_TRUE(encoder.has_value());
  std::vector<std::vector<std::vector<std::int32_t>>> batches;
  for (int t = 0; t < 4; ++t) {
    auto& b = batches.emplace_back();
    for (int i = 0; i < 8; ++i) {
      auto& seq = b.emplace_back(std::vector<std::int32_t>{101});
      for (int j = 0; j < 3 + (i * 7 + t * 5) % 20; ++j) seq.push_back(1000 + 37 * (i + j + t));
      seq.push_back(102);
    }
  }
  std::vector<std::vector<std::vector<float>>> serial;
  for (const auto& b : batches) serial.push_back(*(*encoder)->Embed(b));
  std::vector<double> worst(batches.size(), 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < batches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        auto out = (*encoder)->Embed(batches[t]);
        if (!out) {
          worst[t] = 1e9;
          return;
        }
        for (std::size_t i = 0; i < out->size(); ++i) {
          worst[t] = std::max(worst[t], MaxAbsDiff((*out)[i], serial[t][i]));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (double w : worst) EXPECT_LE(w, 1e-6);
}

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vz_verify_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::copy(kModels / "mean_default", dir_, fs::copy_options::recursive);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(VerifyTest, GoodModelsLoad) {
  EXPECT_TRUE(VerifyLoads(dir_).has_value());
  for (const char* name : {"sharded", "bin_prefixed", "bin_plain_dict", "f16_gelu_new"}) {
    auto s = VerifyLoads(kModels / name);
    EXPECT_TRUE(s.has_value()) << name << ": " << s.error().message;
  }
}

TEST_F(VerifyTest, NaNWeightsAreRefused) {
  // A NaN in a weight the forward pass uses (the pooler at the end of the file is unused).
  auto info = modelfiles::InspectModelDir(dir_);
  ASSERT_TRUE(info.has_value());
  const auto& t = info->tensors.at("encoder.layer.1.output.LayerNorm.bias");
  std::fstream f(dir_ / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(t.offset));
  const unsigned char nan[4] = {0x00, 0x00, 0xc0, 0x7f};
  f.write(reinterpret_cast<const char*>(nan), 4);
  f.close();
  auto s = VerifyLoads(dir_);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("NaN"), std::string::npos) << s.error().message;
}

TEST_F(VerifyTest, UnreadableBinIsAClearError) {
  fs::remove(dir_ / "model.safetensors");
  // A zip archive that is not a torch.save file.
  std::ofstream(dir_ / "pytorch_model.bin", std::ios::binary)
      << std::string("PK\x03\x04garbage that is no zip", 26);
  auto s = VerifyLoads(dir_);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("pytorch_model.bin: cannot read this PyTorch state dict"),
            std::string::npos)
      << s.error().message;
}

TEST_F(VerifyTest, BinWithWrongShapeNamesTheTensor) {
  // The bin_prefixed model's weights under a config that wants another intermediate size.
  fs::remove(dir_ / "model.safetensors");
  fs::copy_file(kModels / "bin_prefixed" / "pytorch_model.bin", dir_ / "pytorch_model.bin");
  std::ifstream in(dir_ / "config.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto config = json::parse(ss.str()).as_object();
  config["intermediate_size"] = 48;
  std::ofstream(dir_ / "config.json") << json::serialize(config);
  auto s = VerifyLoads(dir_);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("'bert.encoder.layer.0.intermediate.dense.weight' has shape "
                                   "[64, 32], the model needs [48, 32]"),
            std::string::npos)
      << s.error().message;
}

}  // namespace
}  // namespace vectorize::inference
