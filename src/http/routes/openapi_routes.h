#pragma once
// The API's description: GET /openapi.json serves the OpenAPI 3.1 document (openapi.json beside
// this file, embedded at build time) and GET /docs a self-contained HTML page (docs.html, also
// embedded; no external resources) that fetches ./openapi.json and renders it. Both answer under
// the API prefix too (/v1/api/docs fetches /v1/api/openapi.json).
// openapi_routes_test checks that the document describes exactly the routes the router has, so a
// new route needs its entry in openapi.json.

#include <string_view>

#include "http/router.h"

namespace vectorize::http {

// The embedded files, unchanged. Static storage; safe from any thread.
std::string_view OpenApiDocument();
std::string_view DocsHtml();

// Adds GET /openapi.json and GET /docs.
void AddOpenApiRoutes(Router& router);

}  // namespace vectorize::http
