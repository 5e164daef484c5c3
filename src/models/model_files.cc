#include "models/model_files.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace vectorize::models {
namespace fs = std::filesystem;

fs::path ModelsRoot(const fs::path& data_dir) { return data_dir / "models"; }
fs::path ModelPath(const fs::path& data_dir, const std::string& tag) {
  return ModelsRoot(data_dir) / tag;
}
fs::path ImportWorkDir(const fs::path& data_dir, const std::string& task_id) {
  return data_dir / "tmp" / ("model-" + task_id);
}

std::uint64_t DirectorySize(const fs::path& dir) {
  std::error_code ec;
  std::uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

namespace {

bool IsModuleConfig(const std::string& path) {
  // "1_Pooling/config.json", "2_Normalize/config.json": <digits>_<Name>/<file>.json
  auto slash = path.find('/');
  if (slash == std::string::npos || path.find('/', slash + 1) != std::string::npos) return false;
  std::string dir = path.substr(0, slash);
  std::size_t i = 0;
  while (i < dir.size() && std::isdigit(static_cast<unsigned char>(dir[i]))) ++i;
  return i > 0 && i < dir.size() && dir[i] == '_' && path.ends_with(".json");
}

bool IsSafetensorsShard(const std::string& p) {
  return p.find('/') == std::string::npos && p.starts_with("model-") &&
         p.ends_with(".safetensors") && p.find("-of-") != std::string::npos;
}
bool IsBinShard(const std::string& p) {
  return p.find('/') == std::string::npos && p.starts_with("pytorch_model-") &&
         p.ends_with(".bin") && p.find("-of-") != std::string::npos;
}

}  // namespace

Result<std::vector<remote::HubFile>> SelectHubModelFiles(
    const std::vector<remote::HubFile>& files) {
  static const std::set<std::string> kTopLevel = {"config.json",
                                                  "tokenizer.json",
                                                  "tokenizer_config.json",
                                                  "special_tokens_map.json",
                                                  "vocab.txt",
                                                  "added_tokens.json",
                                                  "modules.json",
                                                  "sentence_bert_config.json",
                                                  "config_sentence_transformers.json"};
  std::map<std::string, const remote::HubFile*> by_path;
  for (const auto& f : files) by_path[f.path] = &f;
  if (!by_path.count("config.json"))
    return Fail(Error::InvalidArgument(
        "the repository has no config.json at its root: not a model in Hugging Face layout"));
  std::vector<remote::HubFile> out;
  for (const auto& f : files)
    if (kTopLevel.count(f.path) || IsModuleConfig(f.path)) out.push_back(f);
  // Weights: prefer one safetensors file, then safetensors shards, then PyTorch pickles.
  if (by_path.count("model.safetensors")) {
    out.push_back(*by_path["model.safetensors"]);
  } else if (by_path.count("model.safetensors.index.json")) {
    out.push_back(*by_path["model.safetensors.index.json"]);
    for (const auto& f : files)
      if (IsSafetensorsShard(f.path)) out.push_back(f);
  } else if (by_path.count("pytorch_model.bin")) {
    out.push_back(*by_path["pytorch_model.bin"]);
  } else if (by_path.count("pytorch_model.bin.index.json")) {
    out.push_back(*by_path["pytorch_model.bin.index.json"]);
    for (const auto& f : files)
      if (IsBinShard(f.path)) out.push_back(f);
  } else if (by_path.count("model.bin")) {
    out.push_back(*by_path["model.bin"]);
  } else {
    return Fail(Error::InvalidArgument(
        "the repository has no PyTorch weights (model.safetensors, sharded safetensors with "
        "model.safetensors.index.json, pytorch_model.bin or model.bin)"));
  }
  return out;
}

std::vector<fs::path> FindModelFolders(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  auto looks_like_model = [](const fs::path& dir) {
    std::error_code e;
    if (!fs::is_regular_file(dir / "config.json", e)) return false;
    const std::string name = dir.filename().string();
    if (IsModuleConfig(name + "/config.json")) return false;  // 1_Pooling etc.
    return true;
  };
  if (looks_like_model(root)) out.push_back("");
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() >= 8) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (looks_like_model(it->path())) out.push_back(fs::relative(it->path(), root, ec));
  }
  std::sort(out.begin(), out.end());
  // A model folder nested inside another one (e.g. a copy under "onnx/") is part of it.
  std::vector<fs::path> top;
  for (const auto& p : out) {
    bool nested = false;
    for (const auto& t : top) {
      auto ts = t.string();
      if (ts.empty() || p.string().starts_with(ts + "/")) nested = true;
    }
    if (!nested) top.push_back(p);
  }
  return top;
}

std::vector<std::string> ModelFoldersFromPaths(const std::vector<std::string>& files) {
  std::set<std::string> dirs;
  for (const auto& f : files) {
    if (f == "config.json") {
      dirs.insert("");
    } else if (f.ends_with("/config.json")) {
      std::string dir = f.substr(0, f.size() - std::string("/config.json").size());
      const std::string last =
          dir.substr(dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/') + 1);
      if (!IsModuleConfig(last + "/config.json")) dirs.insert(dir);
    }
  }
  std::vector<std::string> top;
  for (const auto& d : dirs) {  // sorted: a parent comes before its children
    bool nested = false;
    for (const auto& t : top)
      if (t.empty() || d.starts_with(t + "/")) nested = true;
    if (!nested) top.push_back(d);
  }
  return top;
}

void PruneToModelFiles(const fs::path& dir) {
  static const std::set<std::string> kKeep = {".json", ".safetensors", ".bin", ".txt", ".model"};
  std::error_code ec;
  std::vector<fs::path> drop;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const auto& p = it->path();
    const std::string name = p.filename().string();
    if (name.starts_with(".")) {
      drop.push_back(p);
    } else if (it->is_directory(ec) && !it->is_symlink(ec)) {
      if (!IsModuleConfig(name + "/config.json")) {
        drop.push_back(p);
        continue;
      }
      for (auto sub = fs::directory_iterator(p, ec); !ec && sub != fs::directory_iterator();
           sub.increment(ec)) {
        if (!(sub->is_regular_file(ec) && sub->path().extension() == ".json"))
          drop.push_back(sub->path());
      }
    } else if (!(it->is_regular_file(ec) && kKeep.count(p.extension().string()))) {
      drop.push_back(p);
    }
  }
  for (const auto& p : drop) fs::remove_all(p, ec);
}

Result<Model> InstallModel(const fs::path& data_dir, const fs::path& folder, Model model,
                           bool reserved, ModelRegistry& registry, const LoadCheck& load_check) {
  auto info = modelfiles::InspectModelDir(folder);
  if (!info) {
    Error e =
        Error::InvalidArgument(fmt::format("the model is not valid: {}", info.error().message));
    e.public_code = "INVALID_FILE";
    return Fail(e);
  }
  if (load_check) {
    if (auto s = load_check(folder, *info); !s) {
      Error e =
          Error::InvalidArgument(fmt::format("the model does not load: {}", s.error().message));
      e.public_code = "INVALID_FILE";
      return Fail(e);
    }
  }
  const auto& c = info->config;
  model.architecture = c.architectures.empty() ? c.model_type : c.architectures.front();
  model.dim = info->dimension();
  model.max_seq_length = info->max_seq_length;
  model.pooling = std::string(modelfiles::PoolingName(info->pooling));
  model.normalize = info->normalize;
  model.size_bytes = std::int64_t(DirectorySize(folder));
  model.path = "models/" + model.tag;

  std::error_code ec;
  const fs::path target = ModelPath(data_dir, model.tag);
  fs::create_directories(ModelsRoot(data_dir), ec);
  if (fs::exists(target, ec)) {
    // Only a leftover of an import that died between the move and the registration can be here:
    // a registered model's folder would have made the tag unavailable before we got this far.
    auto row = registry.FindTag(model.tag);
    if (row && row->state == 'R')
      return Fail(
          Error::AlreadyExists(fmt::format("model with tag \"{}\" already exists", model.tag)));
    spdlog::warn("removing leftover folder {} of an unfinished import", target.string());
    fs::remove_all(target, ec);
  }
  fs::rename(folder, target, ec);
  if (ec)
    return Fail(Error::Internal(
        fmt::format("cannot move {} to {}: {}", folder.string(), target.string(), ec.message())));
  auto registered = reserved ? registry.Activate(model) : registry.Insert(model);
  if (!registered) {
    std::error_code ec2;
    fs::remove_all(target, ec2);
    return Fail(registered.error());
  }
  return registered;
}

}  // namespace vectorize::models
