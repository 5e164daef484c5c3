#pragma once
// ModelRegistry: the ai_model table (migration 0003) on storage::Database, either backend.
// A tag is claimed either by a ready model or by the reservation of the upload task importing it
// (state 'I'), so two imports never race for one tag; only ready models are listed and found.
// Errors: not_found, already_exists (tag taken: message says whether registered or importing),
// failed_precondition with public code VERSION_MISMATCH (stale If-Match), unavailable/internal
// from the database.
// Thread safety: safe from any thread (the Database is).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "models/model.h"
#include "storage/database.h"

namespace vectorize::models {

struct ModelPage {
  std::vector<Model> items;
  std::int64_t total = 0;
};

class ModelRegistry {
 public:
  // REQUIRES: db outlives the registry; migrations applied.
  explicit ModelRegistry(storage::Database& db) : db_(db) {}

  // Claims model.tag for the upload task model.task_id (state 'I'). Errors: already_exists.
  [[nodiscard]] Status Reserve(const Model& model);
  // The row holding this tag, ready or reserved. Errors: not_found.
  [[nodiscard]] Result<Model> FindTag(const std::string& tag);
  // Drops the reservation of `tag` if `task_id` still holds it (no-op otherwise).
  [[nodiscard]] Status Release(const std::string& tag, const std::string& task_id);
  // Turns the reservation into a ready model with the fields of `model` (summary, size, path,
  // source details). Errors: aborted when the reservation is gone.
  [[nodiscard]] Result<Model> Activate(const Model& model);
  // Inserts a ready model at once (local uploads). Errors: already_exists.
  [[nodiscard]] Result<Model> Insert(Model model);

  // Ready models, newest first. REQUIRES: page ≥ 1, size ≥ 1.
  [[nodiscard]] Result<ModelPage> List(std::int64_t page, std::int64_t size);
  [[nodiscard]] Result<Model> GetByTag(const std::string& tag);
  [[nodiscard]] Result<Model> GetById(const std::string& id);
  // name ← new_name when the version is still expected_version; version + 1.
  [[nodiscard]] Result<Model> Rename(const std::string& id, const std::string& new_name,
                                     std::int64_t expected_version);
  // Removes the row of a ready model. Errors: not_found.
  [[nodiscard]] Status Remove(const std::string& id);

 private:
  storage::Database& db_;
};

}  // namespace vectorize::models
