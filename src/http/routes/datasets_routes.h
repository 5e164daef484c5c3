#pragma once
// Routes of the Datasets module (SPEC §3.1): GET/POST /datasets, GET/PUT/DELETE /datasets/{id},
// POST /datasets/huggingface, GET /datasets/huggingface/status/{task_id}. Route glue only: HTTP
// inputs, JSON shapes, status codes, ETags; the logic is in datasets::DatasetService and
// datasets::HubImporter. POST /datasets is an upload route (body spooled to a temp file).

#include "datasets/dataset_service.h"
#include "http/router.h"

namespace vectorize::datasets {
class HubImporter;
}

namespace vectorize::http {

// REQUIRES: service (and hub, when given) outlive the router. Without hub the Hub routes are not
// registered.
void AddDatasetRoutes(Router& router, datasets::DatasetService& service,
                      datasets::HubImporter* hub = nullptr);

}  // namespace vectorize::http
