#pragma once
// ModelService: what the /models and /uploads routes do (SPEC §3.2), without HTTP types.
//  - the registry: list, get, rename (If-Match versions), delete (files removed, the inference
//    cache told, refused while a queued or running task names the model);
//  - imports from the Hugging Face Hub and GitHub: checked synchronously (404 unknown repository
//    or revision, 409 tag taken), then a `model_upload` task does the work (ModelUploadJob);
//  - local zip uploads: validated and registered during the request, recorded as a finished
//    task.
// Thread safety: safe from any thread.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "models/model.h"
#include "models/model_files.h"
#include "models/model_registry.h"
#include "remote/github_client.h"
#include "remote/hub_client.h"
#include "storage/database.h"
#include "tasks/engine.h"
#include "tasks/task_store.h"

namespace vectorize::models {

// Called after a model is deleted so that a loaded copy is dropped (the inference cache).
using EvictHook = std::function<void(const std::string& model_id)>;

struct ModelServiceOptions {
  std::filesystem::path data_dir;
  std::uint64_t max_model_bytes = 8ull << 30;  // a download or an unpacked archive, in total
  LoadCheck load_check;                        // may be empty
  EvictHook evict;                             // may be empty
};

struct HubUploadRequest {
  std::string repo;                // "org/name"
  std::string revision = "main";   // branch, tag or commit
  std::optional<std::string> tag;  // model tag; derived from repo when absent
};

struct GitHubUploadRequest {
  std::string owner;
  std::string repo;
  std::string ref = "main";         // branch, tag or commit
  std::optional<std::string> path;  // model folder inside the repository
  std::optional<std::string> tag;   // model tag; derived when absent
};

struct LocalUploadResult {
  std::string task_id;
  std::vector<Model> created;
  std::vector<std::string> existing;  // tags already registered (skipped)
  struct Failure {
    std::string directory;
    std::string error;
  };
  std::vector<Failure> failed;
};

class ModelService {
 public:
  // REQUIRES: every reference outlives the service; engine may be null (API-only nodes).
  ModelService(ModelRegistry& registry, storage::Database& db, tasks::TaskStore& tasks,
               tasks::Engine* engine, const remote::HubClient& hub,
               const remote::GitHubClient& github, ModelServiceOptions options);

  [[nodiscard]] Result<ModelPage> List(std::int64_t page, std::int64_t size) {
    return registry_.List(page, size);
  }
  [[nodiscard]] Result<Model> Get(const std::string& tag) { return registry_.GetByTag(tag); }
  [[nodiscard]] Result<Model> GetById(const std::string& id) { return registry_.GetById(id); }
  [[nodiscard]] Result<Model> Rename(const std::string& id, const std::string& name,
                                     std::int64_t expected_version) {
    return registry_.Rename(id, name, expected_version);
  }
  // Errors: not_found; failed_precondition (CONFLICT) while a queued/running task uses it.
  [[nodiscard]] Status Delete(const std::string& id);

  // Both return the queued task. Errors: invalid_argument (malformed input, 422 fields),
  // not_found (repository, revision or ref), already_exists (MODEL_ALREADY_EXISTS), unavailable.
  [[nodiscard]] Result<tasks::TaskDetail> StartHubUpload(const HubUploadRequest& request);
  [[nodiscard]] Result<tasks::TaskDetail> StartGitHubUpload(const GitHubUploadRequest& request);

  // Imports every model folder of the zip at `zip_path` (the uploaded file on disk; not
  // consumed). model_name: optional name/tag for a single-model zip. At least one model created
  // → ok. Errors: invalid_argument (INVALID_FILE / EMPTY_FILE / PAYLOAD_TOO_LARGE),
  // already_exists when every model in it exists. Always records a finished task (D or F).
  [[nodiscard]] Result<LocalUploadResult> ImportLocalZip(const std::filesystem::path& zip_path,
                                                         const std::string& filename,
                                                         std::optional<std::string> model_name);

  // The model_upload task with this id. Errors: not_found.
  [[nodiscard]] Result<tasks::TaskDetail> GetUpload(const std::string& task_id);

  // Removes work folders of imports whose task is over (after a crash). Call at start-up.
  void SweepWorkDirs();

  // --- used by ModelUploadJob
  ModelRegistry& registry() { return registry_; }
  const remote::HubClient& hub() const { return hub_; }
  const remote::GitHubClient& github() const { return github_; }
  const ModelServiceOptions& options() const { return options_; }
  tasks::TaskStore& task_store() { return tasks_; }

 private:
  // Frees `tag` if only a dead import (its task over or gone) holds it.
  [[nodiscard]] Status ReleaseIfStale(const std::string& tag);
  [[nodiscard]] Result<tasks::TaskDetail> Submit(Model reservation, std::string inputs_json);

  ModelRegistry& registry_;
  storage::Database& db_;
  tasks::TaskStore& tasks_;
  tasks::Engine* engine_;
  const remote::HubClient& hub_;
  const remote::GitHubClient& github_;
  ModelServiceOptions options_;
};

}  // namespace vectorize::models
