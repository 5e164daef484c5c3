#pragma once
// A registered model (SPEC §3.2) and the rules for model tags. Value types.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/time.h"

namespace vectorize::models {

// Where a model came from: 'H' Hugging Face Hub, 'G' GitHub, 'L' local zip, 'T' trained here.
enum class ModelSource : char { kHub = 'H', kGitHub = 'G', kLocal = 'L', kTrained = 'T' };

struct Model {
  std::string id;   // UUID
  std::string tag;  // unique, [A-Za-z0-9._-], used in every endpoint
  std::string name;
  std::string path;  // relative to the data dir: "models/<tag>"
  ModelSource source = ModelSource::kLocal;
  std::optional<std::string> hub_repo, hub_revision, hub_commit;
  std::optional<std::string> github_owner, github_repo, github_ref, github_path;
  std::optional<std::string> trained_from_id;
  std::int64_t version = 0;  // ETag; bumped by every change
  // Summary of the folder, from modelfiles::InspectModelDir.
  std::optional<std::string> architecture;
  std::optional<int> dim;
  std::optional<int> max_seq_length;
  std::optional<std::string> pooling;
  std::optional<bool> normalize;
  std::int64_t size_bytes = 0;
  Micros created_at = 0;
  Micros updated_at = 0;
  // Reservation bookkeeping ('I' = being imported by task_id; 'R' = ready).
  char state = 'R';
  std::optional<std::string> task_id;
};

inline constexpr std::size_t kMaxTagLength = 100;

// 1..100 characters of [A-Za-z0-9._-], not "." or "..", not starting with '.' or '-'.
// Errors: invalid_argument saying what is wrong.
[[nodiscard]] Status ValidateTag(std::string_view tag);
// A valid tag made from any name: "org/name" → "org--name", other characters outside the
// allowed set → '_', trimmed to 100 characters; "model" if nothing usable is left.
[[nodiscard]] std::string DeriveTag(std::string_view name);

}  // namespace vectorize::models
