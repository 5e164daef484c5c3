#pragma once
// A small synchronous HTTP/1.1 client for the command-line tools: one connection per request,
// JSON bodies, a deadline for the whole exchange, optional bearer token. Plain http:// only.
// Thread safety: an HttpClient may be used by one thread at a time.

#include <chrono>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vectorize::cli {

// Where the API lives: "http://host:8000" or with a path prefix, "http://host:8000/v1/api".
struct BaseUrl {
  std::string host;
  std::string port = "80";
  std::string prefix;  // "" or "/v1/api" (no trailing slash)
};

// Errors: invalid_argument for anything but an absolute http:// URL without query or fragment.
[[nodiscard]] Result<BaseUrl> ParseBaseUrl(std::string_view url);

// `s` percent-encoded for use as one path segment (unreserved characters kept).
std::string EncodePathSegment(std::string_view s);

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

struct HttpClientOptions {
  std::string base_url = "http://127.0.0.1:8000";
  std::string api_key;  // sent as "Authorization: Bearer <key>" when not empty
  std::chrono::milliseconds timeout{10'000};
};

class HttpClient {
 public:
  // Errors: invalid_argument when options.base_url is not a usable URL.
  [[nodiscard]] static Result<HttpClient> Create(HttpClientOptions options);

  // `target` is the path below the base URL with its query, e.g. "/tasks?status=R".
  // Any HTTP status is a success here. Errors: unavailable (cannot resolve or connect, connection
  // reset), deadline_exceeded (no complete answer within the timeout), internal (bad response).
  [[nodiscard]] Result<HttpResponse> Get(std::string_view target) const;
  // POSTs `json_body` (sent with Content-Type application/json; empty = no body).
  [[nodiscard]] Result<HttpResponse> Post(std::string_view target,
                                          std::string_view json_body) const;

  const BaseUrl& base() const { return base_; }

 private:
  HttpClient(BaseUrl base, HttpClientOptions options)
      : base_(std::move(base)), options_(std::move(options)) {}
  [[nodiscard]] Result<HttpResponse> Send(std::string_view method, std::string_view target,
                                          std::string_view body) const;

  BaseUrl base_;
  HttpClientOptions options_;
};

}  // namespace vectorize::cli
