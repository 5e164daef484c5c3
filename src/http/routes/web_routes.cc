#include "http/routes/web_routes.h"

#include <string>

namespace vectorize::http {
namespace {

// Only this server: the script and style come from /static/, the API calls go to the same
// origin, and nothing inline runs (the page has no inline script or style).
constexpr char kWebPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

Response Static(std::string_view body, const char* content_type) {
  return Response::Text(200, std::string(body), content_type)
      .WithHeader("Cache-Control", "no-cache")
      .WithHeader("X-Content-Type-Options", "nosniff")
      .WithHeader("Content-Security-Policy", kWebPolicy);
}

}  // namespace

void AddWebRoutes(Router& router) {
  const auto page = [](Request&) { return Static(WebIndexHtml(), "text/html; charset=utf-8"); };
  router.Add("GET", "/", page);
  router.Add("GET", "/dashboard", page);
  router.Add("GET", "/static/app.js",
             [](Request&) { return Static(WebAppJs(), "text/javascript; charset=utf-8"); });
  router.Add("GET", "/static/style.css",
             [](Request&) { return Static(WebStyleCss(), "text/css; charset=utf-8"); });
}

}  // namespace vectorize::http
