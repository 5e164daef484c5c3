#pragma once
// A small libcurl HTTP client for the remote services Vectorize imports from (Hugging Face Hub,
// GitHub): JSON GETs, HEADs and streamed downloads to disk with Range resume, progress and cancel.
//
// Behaviour common to every call:
//  - Redirects are followed here (not by curl) up to 10 hops; the Authorization header is sent
//    only to the host:port of the original URL, never to a redirect target elsewhere (the Hub
//    sends LFS files to a CDN, GitHub tarballs to a download host).
//  - Retries: 5xx, 429 and network errors are tried again up to max_retries times with
//    exponential backoff and full jitter; a Retry-After header (seconds) is honoured up to
//    retry_max. A download resumes from the bytes already on disk when it retries.
//  - Timeouts: connect_timeout for the TCP/TLS handshake; a transfer slower than
//    low_speed_bytes per second for low_speed_time is aborted as a network error.
//  - Tokens are never logged; URLs are logged without their query string.
//
// Errors: not_found (404, 410), failed_precondition (401, 403: a token is missing or lacks
// access), unavailable (5xx/429/network after the retries), cancelled (the cancel check fired),
// resource_exhausted (a buffered body over max_body_bytes), invalid_argument (other 4xx,
// malformed URL), internal (local file errors).
// Thread safety: an HttpClient is immutable after construction and safe from any thread; each
// call uses its own curl handle.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace vectorize::remote {

struct HttpOptions {
  std::string user_agent = "vectorize/0.1";
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer below low_speed_bytes/s for low_speed_time is a network error (retried).
  long low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{30};
  int max_retries = 4;  // attempts after the first
  std::chrono::milliseconds retry_base{500};
  std::chrono::milliseconds retry_max{30'000};
  std::uint64_t max_body_bytes = 64ull << 20;  // buffered bodies (JSON) only
};

struct RequestOptions {
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string bearer_token;                                  // empty = none; never logged
  // Polled during transfers and backoff sleeps; true aborts the call with Error::Cancelled.
  std::function<bool()> cancelled;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // final response, names lowercased
  std::string body;
  std::string effective_url;  // after redirects

  // Header value or "" when absent. name: lowercase.
  [[nodiscard]] std::string Header(const std::string& name) const;
};

struct DownloadOptions {
  RequestOptions request;
  // Called with bytes on disk so far and the total when known; at most ~10 times a second.
  std::function<void(std::uint64_t done, std::optional<std::uint64_t> total)> progress;
  // Called with every chunk written to the file and its offset in the file (a restart from zero
  // shows as offset 0 again), e.g. to hash while downloading.
  std::function<void(std::uint64_t offset, const char* data, std::size_t len)> on_data;
  // Refuse bodies larger than this (resource_exhausted). 0 = no limit.
  std::uint64_t max_bytes = 0;
};

struct DownloadResult {
  std::uint64_t bytes = 0;         // final file size
  std::uint64_t resumed_from = 0;  // bytes that were already on disk at the first request
  std::map<std::string, std::string> headers;  // of the first response (before redirects)
  std::map<std::string, std::string> final_headers;
  long status = 0;
  int retries = 0;
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});

  // GET with the body buffered (for JSON APIs). Non-2xx after retries → the mapped error, whose
  // message names the URL (without query) and status.
  [[nodiscard]] Result<HttpResponse> Get(const std::string& url,
                                         const RequestOptions& options = {}) const;
  // Like Get but returns any non-retryable status (e.g. 404) as a response instead of an error.
  [[nodiscard]] Result<HttpResponse> GetRaw(const std::string& url,
                                            const RequestOptions& options = {}) const;
  // One request with any method and a body, no redirects and no retries; any status is returned
  // as a response. For small control calls (tests) and APIs that take a JSON body.
  [[nodiscard]] Result<HttpResponse> Send(const std::string& method, const std::string& url,
                                          const std::string& body,
                                          const RequestOptions& options = {}) const;
  [[nodiscard]] Result<HttpResponse> Head(const std::string& url,
                                          const RequestOptions& options = {}) const;

  // Streams the body to `dest`. When `dest` already holds bytes (an earlier, interrupted try)
  // the request asks for the rest with Range and appends; a server that ignores Range restarts
  // the file. On error the partial file is left in place for a later resume (callers delete it
  // when they give up). REQUIRES: dest's directory exists.
  [[nodiscard]] Result<DownloadResult> Download(const std::string& url,
                                                const std::filesystem::path& dest,
                                                const DownloadOptions& options = {}) const;

  const HttpOptions& options() const { return options_; }

 private:
  HttpOptions options_;
};

// Maps an HTTP status to the error code used by this module (see header comment).
[[nodiscard]] Error StatusError(long status, const std::string& what);
// Percent-encodes one path segment (RFC 3986 unreserved kept).
[[nodiscard]] std::string EncodePathSegment(std::string_view s);
// Percent-encodes a path keeping '/' separators.
[[nodiscard]] std::string EncodePath(std::string_view s);
// URL without query string and fragment, for logs and messages.
[[nodiscard]] std::string UrlForLog(std::string_view url);

}  // namespace vectorize::remote
