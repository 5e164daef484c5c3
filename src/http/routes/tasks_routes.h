#pragma once
// Routes of the Tasks module: GET /tasks, GET /tasks/stats, GET /tasks/{id},
// POST /tasks/{id}/cancel, POST /tasks/{id}/retry. Route glue only: validation of HTTP inputs,
// JSON shapes and status codes; the logic is in tasks::TaskService.

#include "http/router.h"
#include "tasks/task_service.h"

namespace vectorize::http {

// REQUIRES: service outlives the router.
void AddTaskRoutes(Router& router, tasks::TaskService& service);

}  // namespace vectorize::http
