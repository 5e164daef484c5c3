#pragma once
// The dataset registry (SPEC §3.1): one row per stored dataset, over storage::Database so the
// same statements run on SQLite and PostgreSQL (schema: storage/migrations/*/0002_datasets.sql).
// The store knows rows only; files under the data dir are DatasetService's.
// Thread safety: safe from any number of threads (the Database is).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "storage/database.h"

namespace vectorize::datasets {

// Where a dataset came from.
enum class DatasetSource : char { kUpload = 'U', kHub = 'H', kSynthesis = 'S' };

struct Dataset {
  std::string id;             // UUIDv7
  std::string name;           // unique, 1..128 characters
  char classification = 'D';  // 'D' duples (question, positive) or 'T' triples (+ negative)
  std::int64_t version = 1;   // +1 on every change; the ETag is "<version>"
  std::int64_t rows = 0;      // JSONL lines in the file
  std::string file_path;      // relative to the data dir, e.g. "datasets/<id>.jsonl"
  DatasetSource source = DatasetSource::kUpload;
  std::optional<std::string> synthesis_id;
  std::optional<std::string> hub_tag;       // Hub imports: "org/name"
  std::optional<std::string> hub_revision;  // Hub imports: "main" or a commit
  Micros created_at = 0;
  Micros updated_at = 0;
};

struct DatasetPage {
  std::vector<Dataset> items;  // newest first (created_at, then id, descending)
  std::int64_t total = 0;
};

class DatasetStore {
 public:
  // REQUIRES: db outlives the store and is migrated to 0002 or later.
  explicit DatasetStore(storage::Database& db) : db_(db) {}

  // Errors: already_exists with public code DATASET_ALREADY_EXISTS when the name is taken.
  [[nodiscard]] Status Insert(const Dataset& dataset);
  // Errors: not_found.
  [[nodiscard]] Result<Dataset> Get(std::string_view id);
  [[nodiscard]] Result<DatasetPage> List(std::int64_t limit, std::int64_t offset);
  [[nodiscard]] Result<bool> NameTaken(std::string_view name);
  // Names starting with `prefix` (to pick a free "<stem>_<n>").
  [[nodiscard]] Result<std::vector<std::string>> NamesWithPrefix(std::string_view prefix);
  // Sets the name when the row is still at `expected_version`; returns the row after the change.
  // Errors: not_found; failed_precondition (public VERSION_MISMATCH) when the version moved on —
  // the message carries the current version; already_exists (DATASET_ALREADY_EXISTS).
  [[nodiscard]] Result<Dataset> Rename(std::string_view id, std::int64_t expected_version,
                                       std::string_view name);
  // Deletes the row unless a queued or running task of any type names the id in its inputs
  // (checked in the same transaction). Returns the deleted row (its file is the caller's).
  // Errors: not_found; failed_precondition (public CONFLICT) when a task uses it.
  [[nodiscard]] Result<Dataset> Delete(std::string_view id);
  // The dataset imported from this Hub tag, if any.
  [[nodiscard]] Result<std::optional<Dataset>> FindByHubTag(std::string_view tag);

  // --- Hub import reservations (one import of a tag at a time)
  // Reserves `tag` for `task_id` (whose task row may not exist yet). A holder whose
  // dataset_upload task is still queued or running keeps it (returns false), and so does one
  // whose task row is missing for a minute after it reserved (it is about to queue it); a
  // finished holder, or one missing for longer (crashed before queueing), is replaced. One
  // transaction: concurrent callers for one tag get true at most once while the winner's task is
  // active.
  [[nodiscard]] Result<bool> ReserveHubTag(std::string_view tag, std::string_view task_id);
  // Frees the reservation if `task_id` still holds it.
  [[nodiscard]] Status ReleaseHubTag(std::string_view tag, std::string_view task_id);

 private:
  storage::Database& db_;
};

}  // namespace vectorize::datasets
