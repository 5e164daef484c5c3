#include "http/routes/openapi_routes.h"

#include <string>

namespace vectorize::http {
namespace {

constexpr char kDocsPolicy[] =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

}  // namespace

void AddOpenApiRoutes(Router& router) {
  router.Add("GET", "/openapi.json", [](Request&) {
    return Response::Text(200, std::string(OpenApiDocument()), "application/json");
  });
  router.Add("GET", "/docs", [](Request&) {
    // The page is self-contained: the policy keeps it from loading anything from elsewhere, and
    // its "try it" requests from leaving this server.
    return Response::Text(200, std::string(DocsHtml()), "text/html; charset=utf-8")
        .WithHeader("Content-Security-Policy", kDocsPolicy);
  });
}

}  // namespace vectorize::http
