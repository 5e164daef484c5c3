#pragma once
// ModelUploadJob: the `model_upload` task of Hub and GitHub imports (SPEC §3.2).
//   Hub:    the repository's model files (SelectHubModelFiles) from the commit resolved at
//           submission, each into <work>/files/<path>.part, resumed with Range after a dropped
//           connection or a restart, verified (sha256 for LFS files, size / git blob id
//           otherwise) and renamed to <path>.
//   GitHub: the tarball of the resolved commit into <work>/repo.tar.gz (resumable), unpacked with
//           the archive limits, the model folder located (the request's `path`, else the only
//           folder with a config.json; several → a clear error asking for `path`).
// Then InstallModel (validation, load check, atomic move to models/<tag>, registration).
// Progress: bytes downloaded of the total; cancel: at any point, the work folder and the tag's
// reservation are removed. Retryable errors (network, 5xx) keep the work folder for the retry.
// Thread safety: Run may be called from several worker threads at once (one task each).

#include "models/model_service.h"
#include "tasks/engine.h"

namespace vectorize::models {

class ModelUploadJob : public tasks::Job {
 public:
  // REQUIRES: service outlives the job.
  explicit ModelUploadJob(ModelService& service) : service_(service) {}
  [[nodiscard]] Status Run(tasks::JobContext& ctx) override;

 private:
  ModelService& service_;
};

}  // namespace vectorize::models
