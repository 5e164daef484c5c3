#pragma once
// Operational routes: GET /health (200 when the database answers, 503 otherwise) and
// GET /metrics (Prometheus text: tasks by type and status, engine outcomes, HTTP requests, and
// what other modules add, such as embeddings served).

#include <functional>
#include <string>
#include <vector>

#include "http/http_metrics.h"
#include "http/router.h"
#include "tasks/engine.h"
#include "tasks/task_service.h"

namespace vectorize::http {

// Appends more Prometheus text (# HELP / # TYPE and samples) to /metrics.
using MetricsSource = std::function<void(std::string& out)>;

// REQUIRES: everything outlives the router. engine may be null (API-only node). `more` are
// rendered after the tasks' and HTTP metrics (e.g. RenderEmbeddingMetrics).
void AddSystemRoutes(Router& router, tasks::TaskService& service, const tasks::Engine* engine,
                     const HttpMetrics& http_metrics, std::vector<MetricsSource> more = {});

}  // namespace vectorize::http
