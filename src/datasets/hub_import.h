#pragma once
// Hugging Face Hub dataset imports (SPEC §3.1): Submit checks the Hub synchronously and queues a
// dataset_upload task; HubImportJob runs it in the background.
//
// What the job reads (docs/datasets.md): the repository's files at the commit the revision
// resolves to. JSON, JSONL and CSV data files of every config and split are downloaded
// (/datasets/{repo}/resolve/{sha}/{path}) and converted with ConvertFile, their columns mapped
// through the 34 allowed schemas (MapHubColumns). A repository holding only Parquet is read
// through the dataset-viewer API instead (/splits, then /rows pages of 100), whose rows are
// written as JSONL and converted the same way. All files and splits form one dataset named
// after the tag ("org/name" → "org_name"), source H.
// Progress: bytes of the data files and rows converted. Cancel: checked during downloads and
// between pages; the work directory (<data_dir>/tmp/hub-<task id>) is removed on every end.
// Retries: the HTTP client retries 5xx/429/network errors with backoff; when they persist the job
// returns unavailable and the engine queues it again with backoff.
// Thread safety: both classes are safe from any number of threads.

#include <memory>
#include <string>

#include "common/error.h"
#include "datasets/dataset_service.h"
#include "remote/hub_client.h"
#include "tasks/engine.h"

namespace vectorize::datasets {

struct HubImportOptions {
  std::string datasets_server;  // dataset-viewer API base URL (config.hf_datasets_server)
  std::string token;            // HF token, sent to the dataset-viewer too (never logged)
  int rows_page = 100;          // the dataset-viewer's maximum page length
};

class HubImporter {
 public:
  // REQUIRES: every reference outlives the importer. engine may be null (API-only node: the
  // task is queued for workers elsewhere).
  HubImporter(DatasetService& service, tasks::TaskStore& tasks, tasks::Engine* engine,
              const remote::HubClient& hub, const remote::HttpClient& http,
              HubImportOptions options);

  // Validates the tag and revision (invalid_argument as a 422 on body.dataset_tag/revision),
  // asks the Hub whether the dataset exists (not_found → 404; Hub unreachable → unavailable),
  // refuses a tag already imported (already_exists, DATASET_ALREADY_EXISTS) or being imported
  // (failed_precondition, CONFLICT), else queues the task and returns it.
  [[nodiscard]] Result<tasks::TaskDetail> Submit(const std::string& tag,
                                                 const std::string& revision);

  // The dataset_upload task with this id. Errors: not_found.
  [[nodiscard]] Result<tasks::TaskDetail> Status(const std::string& task_id);

  // One run of an import task (HubImportJob delegates here).
  [[nodiscard]] vectorize::Status Run(tasks::JobContext& ctx);

 private:
  DatasetService& service_;
  tasks::TaskStore& tasks_;
  tasks::Engine* engine_;
  const remote::HubClient& hub_;
  const remote::HttpClient& http_;
  HubImportOptions options_;
};

// The tasks::Job for TaskType::kDatasetUpload. Local uploads are recorded already finished, so
// only Hub imports are ever queued; a retried local upload fails with a message saying to
// upload the file again.
class HubImportJob : public tasks::Job {
 public:
  explicit HubImportJob(HubImporter& importer) : importer_(importer) {}
  [[nodiscard]] Status Run(tasks::JobContext& ctx) override { return importer_.Run(ctx); }

 private:
  HubImporter& importer_;
};

}  // namespace vectorize::datasets
