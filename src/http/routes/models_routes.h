#pragma once
// Routes of the model registry (SPEC §3.2): GET /models, GET /models/{model_tag},
// PUT /models/{id} (rename; If-Match protocol), DELETE /models/{id}. Route glue only: input
// validation, JSON shapes and status codes; the logic is in models::ModelService.

#include <boost/json/object.hpp>

#include "http/router.h"
#include "models/model_service.h"

namespace vectorize::http {

// REQUIRES: service outlives the router.
void AddModelRoutes(Router& router, models::ModelService& service);

// id, name, model_tag, source, version, created_at, updated_at, architecture, dimensions,
// max_seq_length, pooling, normalize, size_bytes and the source's details (hub_repo…).
boost::json::object ModelJson(const models::Model& model);

// ErrorResponse, except PAYLOAD_TOO_LARGE → 413 and VERSION_MISMATCH → 412.
Response ModelErrorResponse(const Error& error);

}  // namespace vectorize::http
