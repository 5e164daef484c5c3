#pragma once
// Where models live on disk and how a folder becomes a registered model.
//   <data_dir>/models/<tag>/          a registered model (path "models/<tag>" in the registry)
//   <data_dir>/tmp/model-<task_id>/   an import in progress (kept across retries and restarts so
//                                     downloads resume; removed when the task ends)
// Thread safety: free functions; callers serialise work on one folder (one task per folder).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "modelfiles/model_dir.h"
#include "models/model.h"
#include "models/model_registry.h"
#include "remote/hub_client.h"

namespace vectorize::models {

// Rejects a model folder that would not load (the app wires inference::VerifyLoads; the models
// library stays free of torch). Errors are shown to the user as the upload's error.
using LoadCheck =
    std::function<Status(const std::filesystem::path& dir, const modelfiles::ModelDirInfo& info)>;

std::filesystem::path ModelsRoot(const std::filesystem::path& data_dir);
std::filesystem::path ModelPath(const std::filesystem::path& data_dir, const std::string& tag);
std::filesystem::path ImportWorkDir(const std::filesystem::path& data_dir,
                                    const std::string& task_id);
// Sum of regular file sizes under dir (0 if missing).
std::uint64_t DirectorySize(const std::filesystem::path& dir);

// Of a Hub repository's files, those a model needs: config, tokenizer files, the weights (one
// safetensors file; else safetensors shards with their index; else a PyTorch .bin or its shards)
// and the sentence-transformers files (modules.json, sentence_bert_config.json,
// config_sentence_transformers.json, <module>/config.json). Errors: invalid_argument naming
// what is missing (no config.json, no weights).
[[nodiscard]] Result<std::vector<remote::HubFile>> SelectHubModelFiles(
    const std::vector<remote::HubFile>& files);

// Folders under root (root included) that hold a config.json next to weights or a tokenizer —
// model folders in HF layout, relative to root ("" = root itself), sorted. Sentence-transformers
// module folders (1_Pooling, 2_Normalize…) are not models. Depth ≤ 8.
std::vector<std::filesystem::path> FindModelFolders(const std::filesystem::path& root);

// The same rule over a list of file paths (a GitHub tree): folders ("" = root) holding a
// config.json that are not module folders and not inside another such folder, sorted.
std::vector<std::string> ModelFoldersFromPaths(const std::vector<std::string>& files);

// Removes from a model folder taken out of an archive everything a model does not use: keeps
// top-level *.json, *.safetensors, *.bin, *.txt (vocab, merges) and *.model files and the
// sentence-transformers module folders (<digits>_<Name>/*.json); drops READMEs, code, other
// formats' weights (onnx/, openvino/…), hidden files.
void PruneToModelFiles(const std::filesystem::path& dir);

// Validates `folder` (InspectModelDir, then load_check if set), moves it to
// <data_dir>/models/<model.tag> and registers it: Activate when `reserved` (the upload task's
// reservation, model.task_id set), else Insert. The summary fields of `model` are filled here.
// On any error the registry is unchanged and nothing is left under models/ (the folder itself
// stays where it was for the caller to clean up).
// Errors: invalid_argument (INVALID_FILE: not a valid model, with InspectModelDir's message),
// already_exists, and the registry's.
[[nodiscard]] Result<Model> InstallModel(const std::filesystem::path& data_dir,
                                         const std::filesystem::path& folder, Model model,
                                         bool reserved, ModelRegistry& registry,
                                         const LoadCheck& load_check);

}  // namespace vectorize::models
