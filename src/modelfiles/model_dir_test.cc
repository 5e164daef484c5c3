#include "modelfiles/model_dir.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

namespace vectorize::modelfiles {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

struct Spec {
  std::string name;
  std::string dtype = "F32";
  std::vector<std::int64_t> shape;
};

void WriteText(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// Writes a safetensors file of zeros for `specs`, in order.
void WriteSafetensors(const fs::path& p, const std::vector<Spec>& specs) {
  json::object header;
  std::uint64_t offset = 0;
  for (const auto& s : specs) {
    std::uint64_t n = s.dtype == "I64" ? 8 : s.dtype == "F16" ? 2 : 4;
    for (auto d : s.shape) n *= static_cast<std::uint64_t>(d);
    header[s.name] = {{"dtype", s.dtype},
                      {"shape", json::value_from(s.shape)},
                      {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  const std::string h = json::serialize(header);
  std::ofstream out(p, std::ios::binary);
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((h.size() >> (8 * i)) & 0xff));
  out << h << std::string(offset, '\0');
}

class ModelDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vz_modeldir_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    config_ = {{"architectures", {"BertModel"}},
               {"model_type", "bert"},
               {"hidden_size", 4},
               {"num_hidden_layers", 1},
               {"num_attention_heads", 2},
               {"intermediate_size", 8},
               {"hidden_act", "gelu"},
               {"layer_norm_eps", 1e-12},
               {"max_position_embeddings", 16},
               {"type_vocab_size", 2},
               {"vocab_size", 30522}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The tensors a model with config_ needs (zeros, F32, in a stable order), optionally prefixed.
  std::vector<Spec> Specs(const std::string& prefix = "") {
    // Sizes from config_ even when a test made another field invalid.
    BertConfig c;
    auto get = [&](const char* key, int fallback) {
      const auto* v = config_.if_contains(key);
      return v && v->is_int64() ? static_cast<int>(v->get_int64()) : fallback;
    };
    c.hidden_size = get("hidden_size", 4);
    c.num_hidden_layers = get("num_hidden_layers", 1);
    c.intermediate_size = get("intermediate_size", 8);
    c.max_position_embeddings = get("max_position_embeddings", 16);
    c.type_vocab_size = get("type_vocab_size", 2);
    c.vocab_size = get("vocab_size", 30522);
    std::vector<Spec> specs;
    for (const auto& [name, shape] : RequiredBertTensors(c)) {
      specs.push_back({prefix + name, "F32", shape});
    }
    return specs;
  }

  // A complete, valid model folder; `edit` may change the tensor list before it is written.
  void WriteModel(const std::function<void(std::vector<Spec>&)>& edit = nullptr) {
    WriteText(dir_ / "config.json", json::serialize(config_));
    fs::copy_file(fs::path(VZ_TESTDATA_DIR) / "tokenizer.json", dir_ / "tokenizer.json",
                  fs::copy_options::overwrite_existing);
    auto specs = Specs();
    if (edit) edit(specs);
    WriteSafetensors(dir_ / "model.safetensors", specs);
  }

  Error Fails() {
    auto info = InspectModelDir(dir_);
    EXPECT_FALSE(info.has_value());
    return info.has_value() ? Error{} : info.error();
  }

  fs::path dir_;
  json::object config_;
};

#define EXPECT_MSG(err, text) \
  EXPECT_NE((err).message.find(text), std::string::npos) << "message: " << (err).message

TEST_F(ModelDirTest, ValidFolderWithDefaults) {
  WriteModel();
  auto info = InspectModelDir(dir_);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->config.hidden_size, 4);
  EXPECT_EQ(info->config.num_hidden_layers, 1);
  EXPECT_EQ(info->config.vocab_size, 30522);
  EXPECT_EQ(info->weights_format, WeightsFormat::kSafetensors);
  EXPECT_EQ(info->weight_files.size(), 1u);
  EXPECT_EQ(info->tensor_prefix, "");
  EXPECT_EQ(info->pooling, Pooling::kMean);
  EXPECT_FALSE(info->normalize);
  EXPECT_EQ(info->max_seq_length, 16);  // min(512, max_position_embeddings)
  EXPECT_EQ(info->dimension(), 4);
  EXPECT_EQ(info->tokenizer_file, dir_ / "tokenizer.json");
  EXPECT_EQ(info->weights_bytes, fs::file_size(dir_ / "model.safetensors"));
}

TEST_F(ModelDirTest, DefaultMaxSeqLengthIs512) {
  config_["max_position_embeddings"] = 1024;
  WriteModel();
  auto info = InspectModelDir(dir_);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->max_seq_length, 512);
}

TEST_F(ModelDirTest, AcceptsBertPrefixAndExtraTensors) {
  WriteText(dir_ / "config.json", json::serialize(config_));
  fs::copy_file(fs::path(VZ_TESTDATA_DIR) / "tokenizer.json", dir_ / "tokenizer.json");
  auto specs = Specs("bert.");
  specs.push_back({"bert.embeddings.position_ids", "I64", {1, 16}});
  specs.push_back({"cls.predictions.bias", "F32", {30522}});
  WriteSafetensors(dir_ / "model.safetensors", specs);
  auto info = InspectModelDir(dir_);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->tensor_prefix, "bert.");
}

TEST_F(ModelDirTest, RefusesWrongShapeNamingTheTensor) {
  WriteModel([](auto& specs) {
    for (auto& s : specs) {
      if (s.name == "encoder.layer.0.intermediate.dense.weight") s.shape = {8, 5};
    }
  });
  auto err = Fails();
  EXPECT_EQ(err.code, ErrorCode::kInvalidArgument);
  EXPECT_MSG(err, "'encoder.layer.0.intermediate.dense.weight' has shape [8, 5]");
  EXPECT_MSG(err, "needs [8, 4]");
}

TEST_F(ModelDirTest, RefusesMissingTensorAndIntegerWeights) {
  WriteModel([](auto& specs) {
    std::erase_if(specs, [](auto& s) { return s.name == "encoder.layer.0.output.LayerNorm.bias"; });
  });
  EXPECT_MSG(Fails(), "'encoder.layer.0.output.LayerNorm.bias' is missing");
  WriteModel([](auto& specs) { specs[0].dtype = "I64"; });
  EXPECT_MSG(Fails(), "expected a float type");
}

TEST_F(ModelDirTest, RefusesTruncatedAndCorruptWeights) {
  WriteModel();
  fs::resize_file(dir_ / "model.safetensors", fs::file_size(dir_ / "model.safetensors") - 100);
  auto err = Fails();
  EXPECT_EQ(err.code, ErrorCode::kInvalidArgument);
  EXPECT_MSG(err, "model.safetensors");
  EXPECT_MSG(err, "truncated");

  WriteModel();
  {
    std::fstream f(dir_ / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    f.put('#');  // the first byte of the JSON header
  }
  EXPECT_MSG(Fails(), "not valid JSON");
}

TEST_F(ModelDirTest, ShardedWeights) {
  WriteModel();
  fs::remove(dir_ / "model.safetensors");
  auto specs = Specs();
  std::vector<Spec> a(specs.begin(), specs.begin() + 5), b(specs.begin() + 5, specs.end());
  WriteSafetensors(dir_ / "model-00001-of-00002.safetensors", a);
  WriteSafetensors(dir_ / "model-00002-of-00002.safetensors", b);
  json::object map;
  for (const auto& s : a) map[s.name] = "model-00001-of-00002.safetensors";
  for (const auto& s : b) map[s.name] = "model-00002-of-00002.safetensors";
  json::object index{{"metadata", {{"total_size", 0}}}, {"weight_map", map}};
  WriteText(dir_ / "model.safetensors.index.json", json::serialize(index));
  auto info = InspectModelDir(dir_);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->weight_files.size(), 2u);
  EXPECT_EQ(info->tensors.size(), specs.size());

  // A tensor the index places in the wrong shard.
  index["weight_map"].as_object()[a[0].name] = "model-00002-of-00002.safetensors";
  WriteText(dir_ / "model.safetensors.index.json", json::serialize(index));
  EXPECT_MSG(Fails(), "is not in shard 'model-00002-of-00002.safetensors'");

  // A shard outside the folder.
  index["weight_map"].as_object()[a[0].name] = "../model-00001-of-00002.safetensors";
  WriteText(dir_ / "model.safetensors.index.json", json::serialize(index));
  EXPECT_MSG(Fails(), "invalid shard file name");

  // A missing shard.
  index["weight_map"].as_object()[a[0].name] = "model-00001-of-00002.safetensors";
  WriteText(dir_ / "model.safetensors.index.json", json::serialize(index));
  fs::remove(dir_ / "model-00002-of-00002.safetensors");
  auto err = Fails();
  EXPECT_EQ(err.code, ErrorCode::kNotFound);
  EXPECT_MSG(err, "shard 'model-00002-of-00002.safetensors'");
}

TEST_F(ModelDirTest, RefusesUnsupportedArchitectures) {
  config_["model_type"] = "mpnet";
  WriteModel();
  auto err = Fails();
  EXPECT_EQ(err.code, ErrorCode::kInvalidArgument);
  EXPECT_MSG(err, "config.json: unsupported model_type \"mpnet\"");

  config_.erase("model_type");
  config_["architectures"] = {"RobertaModel"};
  WriteModel();
  EXPECT_MSG(Fails(), "config.json");

  config_["architectures"] = {"BertModel"};
  WriteModel();
  EXPECT_TRUE(InspectModelDir(dir_).has_value());

  config_["position_embedding_type"] = "relative_key";
  WriteModel();
  EXPECT_MSG(Fails(), "position_embedding_type");
}

TEST_F(ModelDirTest, RefusesBadConfigValues) {
  config_["num_attention_heads"] = 3;
  WriteModel();
  EXPECT_MSG(Fails(), "not a multiple of num_attention_heads");
  config_["num_attention_heads"] = 2;
  config_["hidden_act"] = "mish";
  WriteModel();
  EXPECT_MSG(Fails(), "unsupported hidden_act \"mish\"");
  config_["hidden_act"] = "gelu";
  config_.erase("hidden_size");
  WriteText(dir_ / "config.json", json::serialize(config_));
  EXPECT_MSG(Fails(), "'hidden_size' is missing");
  WriteText(dir_ / "config.json", "{\"model_type\": ");
  EXPECT_MSG(Fails(), "config.json: not valid JSON");
}

TEST_F(ModelDirTest, RefusesMissingOrWrongTokenizer) {
  WriteModel();
  fs::remove(dir_ / "tokenizer.json");
  auto err = Fails();
  EXPECT_EQ(err.code, ErrorCode::kNotFound);
  EXPECT_MSG(err, "tokenizer.json is missing");
  WriteText(dir_ / "tokenizer.json", R"({"model":{"type":"BPE","vocab":{"a":0}}})");
  EXPECT_MSG(Fails(), "WordPiece");
  config_["vocab_size"] = 1000;  // the real tokenizer has ids up to 30521
  WriteModel();
  EXPECT_MSG(Fails(), "vocab_size is 1000");
}

TEST_F(ModelDirTest, RefusesMissingFolderConfigAndWeights) {
  EXPECT_EQ(InspectModelDir(dir_ / "nope").error().code, ErrorCode::kNotFound);
  EXPECT_MSG(Fails(), "config.json is missing");
  WriteModel();
  fs::remove(dir_ / "model.safetensors");
  auto err = Fails();
  EXPECT_EQ(err.code, ErrorCode::kNotFound);
  EXPECT_MSG(err, "no weights");
}

TEST_F(ModelDirTest, BinWeightsMustBeATorchZip) {
  WriteModel();
  fs::remove(dir_ / "model.safetensors");
  WriteText(dir_ / "pytorch_model.bin", std::string("\x80\x02legacy pickle", 15));
  EXPECT_MSG(Fails(), "legacy");
  WriteText(dir_ / "pytorch_model.bin", std::string("PK\x03\x04 zip", 8));
  auto info = InspectModelDir(dir_);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->weights_format, WeightsFormat::kPytorchBin);
}

TEST_F(ModelDirTest, SentenceTransformersFiles) {
  WriteModel();
  WriteText(dir_ / "modules.json",
            R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
                {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
                {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}])");
  WriteText(dir_ / "1_Pooling/config.json",
            R"({"word_embedding_dimension":4,"pooling_mode_cls_token":true,
                "pooling_mode_mean_tokens":false,"pooling_mode_max_tokens":false})");
  WriteText(dir_ / "sentence_bert_config.json", R"({"max_seq_length":8,"do_lower_case":false})");
  auto info = InspectModelDir(dir_);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->pooling, Pooling::kCls);
  EXPECT_TRUE(info->normalize);
  EXPECT_EQ(info->max_seq_length, 8);

  WriteText(dir_ / "sentence_bert_config.json", R"({"max_seq_length":4096})");
  WriteText(dir_ / "1_Pooling/config.json", R"({"pooling_mode_max_tokens":true})");
  info = InspectModelDir(dir_);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->pooling, Pooling::kMax);
  EXPECT_EQ(info->max_seq_length, 16);  // clamped to max_position_embeddings

  WriteText(dir_ / "1_Pooling/config.json",
            R"({"pooling_mode_max_tokens":true,"pooling_mode_mean_tokens":true})");
  EXPECT_MSG(Fails(), "more than one pooling mode");
  WriteText(dir_ / "1_Pooling/config.json", R"({"pooling_mode_mean_sqrt_len_tokens":true})");
  EXPECT_MSG(Fails(), "1_Pooling/config.json: pooling_mode_mean_sqrt_len_tokens is not supported");
  WriteText(dir_ / "1_Pooling/config.json", R"({"pooling_mode_mean_tokens":true})");
  WriteText(dir_ / "sentence_bert_config.json", R"({"max_seq_length":"long"})");
  EXPECT_MSG(Fails(), "sentence_bert_config.json: max_seq_length");
  WriteText(dir_ / "sentence_bert_config.json", R"({"max_seq_length":8})");
  WriteText(dir_ / "modules.json",
            R"([{"path":"","type":"sentence_transformers.models.Transformer"},
                {"path":"2_Dense","type":"sentence_transformers.models.Dense"}])");
  EXPECT_MSG(Fails(), "module 'sentence_transformers.models.Dense' is not supported");
  WriteText(dir_ / "modules.json", "{");
  EXPECT_MSG(Fails(), "modules.json: not valid JSON");
}

// The Python-generated test models (fixture.bert_test_models) all pass inspection.
TEST(GeneratedModels, EveryGoldenVariantInspects) {
  const fs::path models = VZ_TEST_MODELS;  // generated by ctest's fixture.bert_test_models
  const fs::path golden = VZ_BERT_GOLDEN;
  ASSERT_TRUE(fs::is_directory(models)) << "run through ctest (fixture.bert_test_models)";
  std::ifstream in(golden);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto doc = json::parse(ss.str());
  int checked = 0;
  for (const auto& v : doc.at("variants").as_array()) {
    const std::string name(v.at("name").as_string());
    auto info = InspectModelDir(models / name);
    ASSERT_TRUE(info.has_value()) << name << ": " << info.error().message;
    EXPECT_EQ(PoolingName(info->pooling), v.at("pooling").as_string().c_str()) << name;
    EXPECT_EQ(info->normalize, v.at("normalize").as_bool()) << name;
    EXPECT_EQ(info->max_seq_length, v.at("max_seq_length").as_int64()) << name;
    if (name == "sharded") {
      EXPECT_EQ(info->weight_files.size(), 3u);
    }
    if (name == "bin_prefixed") {
      EXPECT_EQ(info->weights_format, WeightsFormat::kPytorchBin);
    }
    ++checked;
  }
  EXPECT_GE(checked, 8);
}

}  // namespace
}  // namespace vectorize::modelfiles
