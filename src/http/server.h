#pragma once
// The HTTP/1.1 server (Boost.Beast is visible only inside http/). Keep-alive, a request body limit,
// a header limit, an idle timeout, an access log line per request, HTTP metrics, graceful stop.
// Thread safety: Start/Stop from one thread; the router runs on the server's I/O threads, except
// blocking and upload routes (Router::AddBlocking/AddUpload), which run on its blocking pool.

#include <cstdint>
#include <memory>
#include <string>

#include "common/error.h"
#include "http/http_metrics.h"
#include "http/router.h"

namespace vectorize::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;  // 0 = pick a free port
  int threads = 2;            // I/O threads that also run handlers
  // Threads that run the handlers of blocking and upload routes (Router::AddBlocking,
  // AddUpload), which may wait for seconds; more such requests at once queue for a free one.
  int blocking_threads = 64;
  // Blocking requests that may wait for a free blocking thread; beyond, they are answered 429
  // OVERLOADED (Retry-After: 1) at once instead of queueing without bound.
  int max_blocking_waiting = 1024;
  std::size_t max_body_bytes = 1 << 20;     // larger bodies are answered 413 PAYLOAD_TOO_LARGE
  std::size_t max_header_bytes = 16 << 10;  // request line + headers; larger is answered 431
  std::string api_prefix = "/v1/api";       // also served with this prefix stripped
  int idle_timeout_seconds = 60;
  // Upload routes (Router::AddUpload) spool their body to temp files in this directory (created
  // at Start; empty = no spooling, upload routes read into memory like any other). Bodies over
  // max_upload_bytes are answered 413 — at once when Content-Length says so, else as soon as the
  // stream passes the limit.
  std::string upload_dir;
  std::uint64_t max_upload_bytes = 512ull << 20;
  bool access_log = true;
};

class Server {
 public:
  // REQUIRES: router and metrics outlive the server.
  Server(ServerOptions options, const Router& router, HttpMetrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the I/O threads. Errors: unavailable when the address cannot be bound.
  [[nodiscard]] Status Start();
  // The bound port (after Start), useful when options.port was 0.
  [[nodiscard]] std::uint16_t port() const;
  // Stops accepting, closes idle keep-alive connections, lets in-flight requests finish (up to
  // ~5 s), then stops the I/O threads and joins them. Idempotent; the destructor calls it.
  // REQUIRES: not called from a handler (it joins the threads handlers run on).
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vectorize::http
