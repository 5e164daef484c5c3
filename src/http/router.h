#pragma once
// Maps (method, path) to a handler. Patterns are literal segments and {name} captures:
// "/tasks/{id}/cancel". Literal segments win over captures ("/tasks/stats" before "/tasks/{id}").
// Unknown path → 404 JSON; known path, other method → 405 JSON with an Allow header.
// The most specific pattern among those registered for the request's method wins, so
// DELETE /tasks/stats reaches "DELETE /tasks/{id}" when "/tasks/stats" only has GET. HEAD falls
// back to the GET route. A trailing slash is ignored ("/tasks/" matches "/tasks"); captures match
// one non-empty segment.
// Thread safety: add every route before the server starts; Dispatch is then safe from any thread.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"
#include "http/response.h"

namespace vectorize::http {

using Handler = std::function<Response(Request&)>;

struct RouteInfo {
  std::string method;
  std::string pattern;
};

class Router {
 public:
  // Throws std::invalid_argument for a malformed pattern (no leading '/', empty segment, stray
  // brace) or a duplicate (same method, same shape) — programming errors caught at start-up.
  void Add(std::string method, std::string pattern, Handler handler);
  // Like Add, for routes that take large bodies: the server streams their body to a temp file
  // (Request::body_file, limit ServerOptions::max_upload_bytes) instead of memory.
  void AddUpload(std::string method, std::string pattern, Handler handler);

  // Like Add, for handlers that may wait — for a model load, a forward pass — or run long: the
  // server runs them on its blocking threads (ServerOptions::blocking_threads), so that the I/O
  // threads keep answering every other request meanwhile. Upload routes are blocking too.
  void AddBlocking(std::string method, std::string pattern, Handler handler);
  // The pattern of this request's route (by method and path) when it is a blocking or upload
  // route, else null. The pointer lives as long as the router.
  [[nodiscard]] const std::string* BlockingRoute(const Request& head) const;

  // Whether the server should spool this request's body to a file: its method and path (headers
  // known, body not read) match an upload route and it passes the API-key check (so
  // unauthenticated clients cannot make the server write large files).
  [[nodiscard]] bool WantsBodyFile(const Request& head) const;

  // Fills request.route and request.path_params (route stays empty on 404/405), runs the handler.
  // Exceptions escaping a handler are caught here and answered 500 (logged).
  Response Dispatch(Request& request) const;

  // From now on every request needs one of `keys`, as `Authorization: Bearer <key>` or
  // `X-API-Key: <key>`, except GET/HEAD of the exact paths in `open_paths` (e.g. "/health");
  // otherwise 401 {"code":"UNAUTHORIZED"} (before routing, so unknown paths leak nothing).
  // Empty keys = no authentication. REQUIRES: before the server starts.
  void RequireApiKeys(std::vector<std::string> keys, std::vector<std::string> open_paths);

  // For GET of these exact paths the key may also come as the `api_key` query parameter or the
  // `vectorize_api_key` cookie: EventSource (the dashboard's event stream) cannot send headers.
  // The server never logs the query parameter's value. REQUIRES: before the server starts.
  void AllowApiKeyOutsideHeaders(std::vector<std::string> paths) {
    key_in_query_paths_ = std::move(paths);
  }

  // Every registered route (for /openapi.json completeness checks).
  [[nodiscard]] std::vector<RouteInfo> Routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    bool upload = false;
    bool blocking = false;
  };
  [[nodiscard]] bool Authorized(const Request& request) const;
  [[nodiscard]] const Route* Find(std::string_view method,
                                  const std::vector<std::string_view>& path) const;
  std::vector<Route> routes_;
  std::vector<std::string> api_keys_;
  std::vector<std::string> open_paths_;
  std::vector<std::string> key_in_query_paths_;
};

}  // namespace vectorize::http
