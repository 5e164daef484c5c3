#pragma once
// Routes of the embeddings API (SPEC §3.3): POST /embeddings and POST /v1/embeddings (OpenAI's
// path; the API prefix /v1/api does not cover it), GET /embeddings/counter/{tag}. Route glue
// only; the logic is in embeddings::EmbeddingService.

#include <string>

#include "embeddings/embedding_service.h"
#include "http/router.h"

namespace vectorize::http {

// REQUIRES: service outlives the router.
void AddEmbeddingRoutes(Router& router, embeddings::EmbeddingService& service);

// Appends the embeddings' Prometheus metrics: vectorize_embeddings_requests_total,
// _inputs_total and _tokens_total by model (tag), since the process started, and
// vectorize_embeddings_models_loaded.
void RenderEmbeddingMetrics(const embeddings::EmbeddingService& service, std::string& out);

}  // namespace vectorize::http
