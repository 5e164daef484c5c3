#pragma once
// What a route handler sees of an HTTP request: no Beast types. Value type; not shared between
// threads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vectorize::http {

struct Request {
  std::string method;  // "GET", "POST", ... (upper case)
  // Percent-decoded path without the query string, with the API prefix (e.g. "/v1/api")
  // already stripped, so "/v1/api/tasks" and "/tasks" both arrive as "/tasks".
  std::string path;
  // The route pattern that matched, e.g. "/tasks/{id}" (for metrics and logs).
  std::string route;
  // Query parameters in their order, percent-decoded ('+' is a space); repeated keys repeat.
  std::vector<std::pair<std::string, std::string>> query;
  // Values of {name} segments of the matched pattern.
  std::vector<std::pair<std::string, std::string>> path_params;
  // Header names lower-cased.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // empty when the body was spooled to body_file
  // Upload routes (Router::AddUpload): the body was streamed to this temp file (under the
  // server's upload_dir) instead of `body`; empty otherwise. The server unlinks it when the
  // handler returns, so a handler that keeps the content must rename (or copy) it away.
  std::string body_file;
  std::uint64_t body_file_size = 0;
  std::string remote_address;

  // First value of a header (name in any case), nullopt when absent.
  [[nodiscard]] std::optional<std::string_view> Header(std::string_view name) const;
  // Value of a path parameter; empty when absent.
  [[nodiscard]] std::string_view PathParam(std::string_view name) const;
  // Every value of a query parameter, in order.
  [[nodiscard]] std::vector<std::string_view> QueryAll(std::string_view name) const;
};

}  // namespace vectorize::http
