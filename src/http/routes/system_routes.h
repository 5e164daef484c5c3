#pragma once
// Operational routes: GET /health (200 when the database answers, 503 otherwise) and
// GET /metrics (Prometheus text: tasks by type and status, engine outcomes, HTTP requests).

#include "http/http_metrics.h"
#include "http/router.h"
#include "tasks/engine.h"
#include "tasks/task_service.h"

namespace vectorize::http {

// REQUIRES: everything outlives the router. engine may be null (API-only node).
void AddSystemRoutes(Router& router, tasks::TaskService& service, const tasks::Engine* engine,
                     const HttpMetrics& http_metrics);

}  // namespace vectorize::http
