#pragma once
// Routes of model uploads (SPEC §3.2): POST /uploads/huggingface, POST /uploads/github (both
// queue a `model_upload` task after synchronous checks: 201 + Location: /uploads/{task_id}),
// POST /uploads/local (multipart `file` = a zip of model folders, spooled to disk; imported
// during the request: 201 + Location: /models/{tag}), GET /uploads/{task_id} (the task with its
// `source`). Route glue only; the logic is in models::ModelService.

#include "http/router.h"
#include "models/model_service.h"

namespace vectorize::http {

// REQUIRES: service outlives the router. temp_dir: where multipart file parts are written
// (exists, writable; same filesystem as the data dir is best).
void AddUploadRoutes(Router& router, models::ModelService& service, std::string temp_dir);

}  // namespace vectorize::http
