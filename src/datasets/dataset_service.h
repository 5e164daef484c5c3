#pragma once
// DatasetService: the dataset use cases with no HTTP types (SPEC §3.1) — uploads (convert, store
// atomically, register, record a dataset_upload task), reads, renames and deletes.
//
// Files: datasets live at <data_dir>/datasets/<id>.jsonl. A conversion writes
// <data_dir>/datasets/.<id>.jsonl.part, renames it into place (same directory: atomic), then
// inserts the row; any failure removes what was written, so no path leaves a row without a file
// or a visible half-written file. Temp files (zip entries) go under <data_dir>/tmp.
// Thread safety: safe from any number of threads.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "datasets/dataset_store.h"
#include "datasets/formats/formats.h"
#include "tasks/task_store.h"

namespace vectorize::datasets {

// A file as received: its name as the client sent it and where its bytes are (the caller's temp
// file; never moved or removed by the service).
struct UploadedFile {
  std::string filename;
  std::filesystem::path path;
};

// Why one file was refused: the SPEC §3 public code, the HTTP status and a message.
struct UploadFailure {
  int status = 400;
  std::string code;
  std::string message;
};

// What happened to one file (a .zip gives one outcome per entry, or one for the whole archive
// when it is refused).
struct UploadOutcome {
  std::string filename;  // as sent; for zip entries "archive.zip/entry.csv"
  std::optional<Dataset> dataset;
  std::optional<UploadFailure> failure;
  std::string task_id;  // the dataset_upload task recording it
  // The task's tag: the dataset's base name (the file's sanitised stem, before any "_2" suffix
  // a taken name gets), so that ?tag= finds every upload of a file; unset when the filename
  // gives none or it is over 100 characters.
  std::optional<std::string> tag;
};

struct DatasetServiceOptions {
  std::filesystem::path data_dir;
  formats::Limits limits;  // max_file_bytes from max_upload_bytes
};

class DatasetService {
 public:
  // REQUIRES: store and tasks outlive the service.
  DatasetService(DatasetStore& store, tasks::TaskStore& tasks, DatasetServiceOptions options);

  // Creates <data_dir>/datasets and <data_dir>/tmp, removes stale .part files.
  [[nodiscard]] Status Init();

  // Converts and registers every file; records one finished dataset_upload task per outcome
  // (D with {dataset_id, name, rows, classification}, or F with the error). Errors only for
  // infrastructure trouble before any file was looked at.
  [[nodiscard]] std::vector<UploadOutcome> Upload(const std::vector<UploadedFile>& files,
                                                  const formats::ColumnOptions& options);

  // Registers an already converted JSONL file (moved into place; on failure removed), e.g. a Hub
  // import's output. Names are unique: when `name` is taken the dataset gets the first free
  // "<name>_<n>" (n ≥ 2), so uploading a.csv twice, or a.csv and a.json, stores both.
  [[nodiscard]] Result<Dataset> StoreConverted(const std::filesystem::path& jsonl, std::string name,
                                               char classification, std::int64_t rows,
                                               DatasetSource source,
                                               std::optional<std::string> hub_tag = {},
                                               std::optional<std::string> hub_revision = {});

  [[nodiscard]] Result<Dataset> Get(std::string_view id) { return store_.Get(id); }
  [[nodiscard]] Result<DatasetPage> List(std::int64_t limit, std::int64_t offset) {
    return store_.List(limit, offset);
  }
  // Errors as DatasetStore::Rename; invalid_argument (422 on body.name) unless 1..128 chars.
  [[nodiscard]] Result<Dataset> Rename(std::string_view id, std::int64_t expected_version,
                                       std::string_view name);
  // Removes the row, then the file. Errors as DatasetStore::Delete.
  [[nodiscard]] Status Delete(std::string_view id);

  [[nodiscard]] std::filesystem::path AbsolutePath(const Dataset& d) const {
    return options_.data_dir / d.file_path;
  }
  [[nodiscard]] std::filesystem::path TempDir() const { return options_.data_dir / "tmp"; }
  [[nodiscard]] DatasetStore& store() { return store_; }
  [[nodiscard]] const formats::Limits& limits() const { return options_.limits; }

 private:
  UploadOutcome UploadOne(const std::string& filename, const std::filesystem::path& path,
                          const formats::ColumnOptions& options, const formats::Limits& limits);
  void Expand(const UploadedFile& file, const formats::ColumnOptions& options,
              std::vector<UploadOutcome>& out);

  DatasetStore& store_;
  tasks::TaskStore& tasks_;
  DatasetServiceOptions options_;
};

// The JSON text of the upload options for task inputs ({"question_name": …} for those set).
std::string OptionsJson(const formats::ColumnOptions& options);

}  // namespace vectorize::datasets
