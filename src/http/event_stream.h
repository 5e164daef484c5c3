#pragma once
// A long-lived response body that the application writes after its handler has returned: the
// facade behind Server-Sent Events (GET /tasks/events). Beast stays inside server.cc; a handler
// sets Response::stream and the server, after sending the status line and headers (no
// Content-Length; the body ends when the connection closes), hands the starter a StreamSink.
//
// Writes are queued on the connection's strand and sent asynchronously: no thread is held per
// client. The bytes queued but not yet accepted by the client's socket are bounded: a write that
// takes them past the limit while the socket has accepted nothing for a second, or past four
// times the limit in any case, closes the connection instead (a slow or stalled client is
// dropped; it never blocks the writer or other clients, and a burst alone does not drop a
// client that keeps up).
// Thread safety: StreamSink methods may be called from any thread.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace vectorize::http {

class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Queues bytes for the client. Returns false when the stream is closed (client gone, server
  // stopping, or this write would have exceeded the buffer bound, which closes it).
  virtual bool Write(std::string bytes) = 0;
  // Closes the connection (what is still queued is dropped). Idempotent.
  virtual void Close() = 0;
  [[nodiscard]] virtual bool IsOpen() const = 0;
};

// Called once, on an I/O thread, right after the response head was queued. The callee keeps the
// sink for as long as it wants to write (holding it does not keep a closed connection alive).
using StreamStarter = std::function<void(std::shared_ptr<StreamSink>)>;

// Bytes a stream may have queued and unsent before its client is dropped.
inline constexpr std::size_t kDefaultStreamBufferLimit = 1 << 20;

}  // namespace vectorize::http
