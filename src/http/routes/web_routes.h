#pragma once
// The web dashboard: a static page (src/web/index.html, app.js, style.css, embedded into the
// binary at build time; no build step, no external resources) that watches and steers tasks
// through the HTTP API with relative URLs, so it works at / and under the API prefix
// (/v1/api/). GET / and GET /dashboard serve the same page; GET /static/app.js and
// GET /static/style.css its script and style. All four are open paths when API keys are
// required: the page asks the browser for the key and sends it with every API call.
// openapi_routes_test checks that these routes are described in openapi.json (tag "web").

#include <string_view>

#include "http/router.h"

namespace vectorize::http {

// The embedded files, unchanged. Static storage; safe from any thread.
std::string_view WebIndexHtml();
std::string_view WebAppJs();
std::string_view WebStyleCss();

// Adds GET /, GET /dashboard, GET /static/app.js and GET /static/style.css.
void AddWebRoutes(Router& router);

}  // namespace vectorize::http
