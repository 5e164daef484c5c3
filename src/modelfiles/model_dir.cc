// InspectModelDir: a model folder's config, tokenizer, weights and sentence-transformers files.

#include "modelfiles/model_dir.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <fstream>
#include <set>
#include <sstream>

namespace vectorize::modelfiles {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::uint64_t kMaxJsonFile = 64ull << 20;

Error Bad(const fs::path& file, const std::string& what) {
  return Error::InvalidArgument(fmt::format("{}: {}", file.filename().string(), what));
}

bool IsFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

Result<std::string> ReadText(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (ec) return Fail(Error::NotFound(fmt::format("{}: not found", p.filename().string())));
  if (size > kMaxJsonFile) return Fail(Bad(p, "file is too large"));
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in) return Fail(Bad(p, "cannot read"));
  return ss.str();
}

Result<json::value> ReadJson(const fs::path& p) {
  auto text = ReadText(p);
  if (!text) return Fail(std::move(text.error()));
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec) return Fail(Bad(p, fmt::format("not valid JSON ({})", ec.message())));
  return v;
}

// tokenizer.json must hold a WordPiece model whose ids fit the embedding matrix.
Status CheckTokenizer(const fs::path& file, const BertConfig& config) {
  auto root = ReadJson(file);
  if (!root) return Fail(std::move(root.error()));
  const auto* model = root->is_object() ? root->get_object().if_contains("model") : nullptr;
  if (model == nullptr || !model->is_object()) return Fail(Bad(file, "no 'model' object"));
  const auto* type = model->get_object().if_contains("type");
  if (type == nullptr || !type->is_string() || type->get_string() != "WordPiece") {
    return Fail(Bad(file, "tokenizer model must be WordPiece (BERT-family tokenizers)"));
  }
  const auto* vocab = model->get_object().if_contains("vocab");
  if (vocab == nullptr || !vocab->is_object() || vocab->get_object().empty()) {
    return Fail(Bad(file, "WordPiece 'vocab' is missing or empty"));
  }
  std::int64_t max_id = -1;
  for (const auto& [token, id] : vocab->get_object()) {
    if (!id.is_int64() || id.get_int64() < 0) {
      return Fail(Bad(file, fmt::format("vocab entry '{}' has no valid id", std::string(token))));
    }
    max_id = std::max(max_id, id.get_int64());
  }
  if (max_id >= config.vocab_size) {
    return Fail(Bad(file, fmt::format("token ids go up to {} but config.json vocab_size is {}",
                                      max_id, config.vocab_size)));
  }
  return {};
}

Status AddShard(const fs::path& path, ModelDirInfo* info) {
  auto st = ReadSafetensorsHeader(path);
  if (!st) return Fail(std::move(st.error()));
  info->weight_files.push_back(path);
  info->weights_bytes += st->file_size;
  for (auto& t : st->tensors) {
    auto name = t.name;
    if (!info->tensors.emplace(name, std::move(t)).second) {
      return Fail(Bad(path, fmt::format("tensor '{}' appears in more than one shard", name)));
    }
  }
  return {};
}

Status ReadShardedIndex(const fs::path& index_file, ModelDirInfo* info) {
  auto root = ReadJson(index_file);
  if (!root) return Fail(std::move(root.error()));
  const auto* map = root->is_object() ? root->get_object().if_contains("weight_map") : nullptr;
  if (map == nullptr || !map->is_object() || map->get_object().empty()) {
    return Fail(Bad(index_file, "no 'weight_map' object"));
  }
  std::vector<std::string> shards;  // in first-seen order
  std::set<std::string> seen;
  for (const auto& [tensor, shard] : map->get_object()) {
    if (!shard.is_string()) {
      return Fail(
          Bad(index_file, fmt::format("shard of '{}' is not a string", std::string(tensor))));
    }
    std::string name(shard.get_string());
    // Shards are plain file names beside the index: no paths out of the folder.
    if (name.empty() || name.find('/') != std::string::npos ||
        name.find('\\') != std::string::npos || name == "." || name == ".." ||
        !name.ends_with(".safetensors")) {
      return Fail(Bad(index_file, fmt::format("invalid shard file name '{}'", name)));
    }
    if (seen.insert(name).second) shards.push_back(name);
  }
  std::sort(shards.begin(), shards.end());
  for (const auto& name : shards) {
    const fs::path p = info->dir / name;
    if (!IsFile(p)) {
      return Fail(Error::NotFound(fmt::format("{}: shard '{}' listed in {} is missing",
                                              info->dir.filename().string(), name,
                                              index_file.filename().string())));
    }
    if (auto s = AddShard(p, info); !s) return s;
  }
  for (const auto& [tensor, shard] : map->get_object()) {
    auto it = info->tensors.find(std::string(tensor));
    if (it == info->tensors.end() ||
        it->second.file.filename() != std::string(shard.get_string())) {
      return Fail(
          Bad(index_file, fmt::format("tensor '{}' is not in shard '{}'", std::string(tensor),
                                      std::string(shard.get_string()))));
    }
  }
  return {};
}

Status CheckBin(const fs::path& p, ModelDirInfo* info) {
  std::ifstream in(p, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  if (!in) return Fail(Bad(p, "file is empty or unreadable"));
  if (!(magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4)) {
    return Fail(Bad(p,
                    "not a torch.save zip archive (the legacy pre-1.6 format is not supported;"
                    " convert the weights to safetensors)"));
  }
  info->weights_format = WeightsFormat::kPytorchBin;
  info->weight_files.push_back(p);
  info->weights_bytes = fs::file_size(p);
  return {};
}

Status FindWeights(ModelDirInfo* info) {
  const fs::path& dir = info->dir;
  if (IsFile(dir / "model.safetensors")) return AddShard(dir / "model.safetensors", info);
  if (IsFile(dir / "model.safetensors.index.json")) {
    return ReadShardedIndex(dir / "model.safetensors.index.json", info);
  }
  for (const char* name : {"pytorch_model.bin", "model.bin"}) {
    if (IsFile(dir / name)) return CheckBin(dir / name, info);
  }
  if (IsFile(dir / "pytorch_model.bin.index.json")) {
    return Fail(Bad(dir / "pytorch_model.bin.index.json",
                    "sharded .bin weights are not supported; use safetensors"));
  }
  return Fail(Error::NotFound(fmt::format(
      "{}: no weights (expected model.safetensors, model.safetensors.index.json with its shards, "
      "pytorch_model.bin or model.bin)",
      dir.filename().string())));
}

Status CheckTensors(ModelDirInfo* info) {
  if (info->tensors.contains("embeddings.word_embeddings.weight")) {
    info->tensor_prefix = "";
  } else if (info->tensors.contains("bert.embeddings.word_embeddings.weight")) {
    info->tensor_prefix = "bert.";
  } else {
    return Fail(Bad(info->weight_files.front(),
                    "no BERT weights (tensor 'embeddings.word_embeddings.weight' not found)"));
  }
  for (const auto& [name, shape] : RequiredBertTensors(info->config)) {
    auto it = info->tensors.find(info->tensor_prefix + name);
    if (it == info->tensors.end()) {
      return Fail(Bad(info->weight_files.front(),
                      fmt::format("tensor '{}' is missing", info->tensor_prefix + name)));
    }
    const auto& t = it->second;
    if (t.shape != shape) {
      return Fail(
          Bad(t.file, fmt::format("tensor '{}' has shape [{}], config.json needs [{}]", t.name,
                                  fmt::join(t.shape, ", "), fmt::join(shape, ", "))));
    }
    if (!IsFloating(t.dtype)) {
      return Fail(Bad(t.file, fmt::format("tensor '{}' has dtype {}, expected a float type", t.name,
                                          DTypeName(t.dtype))));
    }
  }
  return {};
}

}  // namespace

// Defined in st_config.cc.
Status ReadSentenceTransformersConfig(ModelDirInfo* info);

Result<ModelDirInfo> InspectModelDir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Fail(Error::NotFound(fmt::format("model folder '{}' not found", dir.string())));
  }
  ModelDirInfo info;
  info.dir = dir;
  const fs::path config_file = dir / "config.json";
  if (!IsFile(config_file)) return Fail(Error::NotFound("config.json is missing"));
  auto text = ReadText(config_file);
  if (!text) return Fail(std::move(text.error()));
  auto config = ParseBertConfig(*text, config_file);
  if (!config) return Fail(std::move(config.error()));
  info.config = std::move(*config);

  info.tokenizer_file = dir / "tokenizer.json";
  if (!IsFile(info.tokenizer_file)) {
    return Fail(Error::NotFound("tokenizer.json is missing (a WordPiece tokenizer is required)"));
  }
  if (auto s = CheckTokenizer(info.tokenizer_file, info.config); !s) return Fail(s.error());

  if (auto s = FindWeights(&info); !s) return Fail(s.error());
  if (info.weights_format == WeightsFormat::kSafetensors) {
    if (auto s = CheckTensors(&info); !s) return Fail(s.error());
  }
  if (auto s = ReadSentenceTransformersConfig(&info); !s) return Fail(s.error());
  return info;
}

}  // namespace vectorize::modelfiles
