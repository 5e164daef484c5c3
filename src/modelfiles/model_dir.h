#pragma once
// What a model folder holds, read and checked without loading any weights (and without torch).
//
// A model folder is in Hugging Face / sentence-transformers layout (SPEC §3.2):
//   config.json                 BERT-family config (see BertConfig)
//   tokenizer.json              WordPiece tokenizer (Hugging Face `tokenizers` format)
//   model.safetensors           or model-0000N-of-0000M.safetensors + model.safetensors.index.json
//                               or pytorch_model.bin / model.bin (a torch.save'd state dict)
//   modules.json                optional: Transformer → Pooling [→ Normalize]
//   1_Pooling/config.json       optional: pooling mode (mean / cls / max); default mean
//   sentence_bert_config.json   optional: max_seq_length; default min(512, max positions)
// Thread safety: free functions, no shared state.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "modelfiles/safetensors.h"

namespace vectorize::modelfiles {

// The fields of config.json the encoder honours. Supported: model_type "bert" (BERT, MiniLM and
// the BGE / E5 / GTE models that share its architecture), absolute position embeddings.
struct BertConfig {
  std::string model_type = "bert";
  std::vector<std::string> architectures;
  int hidden_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int intermediate_size = 0;
  std::string hidden_act = "gelu";  // gelu | gelu_new | gelu_pytorch_tanh | relu | silu | swish
  double layer_norm_eps = 1e-12;
  int max_position_embeddings = 512;
  int type_vocab_size = 2;
  int vocab_size = 0;
  int pad_token_id = 0;
};

enum class Pooling { kMean, kCls, kMax };
std::string_view PoolingName(Pooling pooling);

enum class WeightsFormat {
  kSafetensors,  // one file or shards; `tensors` lists every tensor
  kPytorchBin,   // a torch.save zip archive; only loading it (src/inference) checks its content
};

struct ModelDirInfo {
  std::filesystem::path dir;
  BertConfig config;
  std::filesystem::path tokenizer_file;  // dir / "tokenizer.json"

  WeightsFormat weights_format = WeightsFormat::kSafetensors;
  std::vector<std::filesystem::path> weight_files;  // shards in order, or the one .bin
  std::uint64_t weights_bytes = 0;                  // total size of weight_files
  // Prefix of the tensor names: "" (BertModel) or "bert." (BertFor* heads). For .bin files the
  // loader finds out itself; InspectModelDir leaves it "".
  std::string tensor_prefix;
  // Safetensors only: every tensor of every shard by its full name.
  std::map<std::string, TensorInfo> tensors;

  // sentence-transformers semantics (defaults when the files are absent).
  Pooling pooling = Pooling::kMean;
  bool normalize = false;
  int max_seq_length = 512;

  [[nodiscard]] int dimension() const { return config.hidden_size; }
};

// Reads and checks a model folder: config.json parses and names a supported architecture with
// consistent sizes; tokenizer.json is present, is JSON and holds a WordPiece model; the weights
// are complete (every safetensors header checked against its file; for shards every shard present
// and every tensor of the index found in its shard; every tensor the config needs present with the
// right shape and a floating dtype); modules.json / pooling / sentence_bert_config.json are valid.
// Errors: kNotFound (folder or a required file missing), kInvalidArgument (anything malformed or
// unsupported); the message names the file and what is wrong, for the upload's error_msg.
[[nodiscard]] Result<ModelDirInfo> InspectModelDir(const std::filesystem::path& dir);

// The tensors (name without prefix → shape) a BERT encoder with this config needs. Pooler and
// position_ids buffers are optional and not listed.
std::map<std::string, std::vector<std::int64_t>> RequiredBertTensors(const BertConfig& config);

// Parses config.json text; `file` names it in errors.
[[nodiscard]] Result<BertConfig> ParseBertConfig(std::string_view json,
                                                 const std::filesystem::path& file);

}  // namespace vectorize::modelfiles
