#pragma once
// Routes of the embeddings API (SPEC §3.3): POST /embeddings and POST /v1/embeddings (OpenAI's
// path; the API prefix /v1/api does not cover it), GET /embeddings/counter/{tag}. Route glue
// only; the logic is in embeddings::EmbeddingService.

#include "embeddings/embedding_service.h"
#include "http/router.h"

namespace vectorize::http {

// REQUIRES: service outlives the router.
void AddEmbeddingRoutes(Router& router, embeddings::EmbeddingService& service);

}  // namespace vectorize::http
