// The only translation unit that includes Boost.Beast, so its compile cost is paid once.

#include "http/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/spool_body.h"

namespace vectorize::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// How long Stop() waits for in-flight requests before cutting connections.
constexpr auto kStopGrace = std::chrono::seconds(5);
// After an error answer sent before the body was read (413, 431, 400), the rest of the request is
// drained for this long so closing does not reset the connection before the client reads the
// answer.
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
constexpr std::string_view kUnmatchedRoute = "<unmatched>";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// A stream whose unsent bytes exceed its limit is dropped once its socket has taken nothing for
// this long, and at once beyond kStreamHardLimitFactor × the limit.
constexpr std::int64_t kStreamStallMicros = 1'000'000;
constexpr std::size_t kStreamHardLimitFactor = 4;

std::int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Metrics labels must stay bounded: arbitrary client methods collapse into "OTHER".
std::string MetricMethod(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",    "HEAD",    "POST", "PUT",
                                                "DELETE", "OPTIONS", "PATCH"};
  if (std::ranges::find(kKnown, method) != std::end(kKnown)) return std::string(method);
  return "OTHER";
}

Response ErrorJson(int status, std::string_view code, std::string_view message) {
  return Response::Json(status, boost::json::object{{"code", code}, {"message", message}});
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool BodyForbidden(int status) { return status < 200 || status == 204 || status == 304; }

// The request target as the access log shows it: the value of an `api_key` query parameter (the
// event stream accepts the key there, since EventSource cannot send headers) is never logged.
std::string LoggedTarget(std::string_view target) {
  std::string out(target);
  for (std::size_t pos = out.find("api_key="); pos != std::string::npos;
       pos = out.find("api_key=", pos)) {
    const bool starts_param = pos > 0 && (out[pos - 1] == '?' || out[pos - 1] == '&');
    pos += 8;
    if (!starts_param) continue;
    const std::size_t end = out.find('&', pos);
    out.replace(pos, (end == std::string::npos ? out.size() : end) - pos, "***");
  }
  return out;
}

// A target whose path is well formed but whose query is not (a stray '%', a byte a URL may not
// hold): the first bad parameter's name (as sent, or "" when the name itself is the problem),
// so that the answer can be a 422 naming it like every other bad parameter. nullopt when the
// path is the problem, or nothing is.
std::optional<std::string> BadQueryParam(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos || !boost::urls::parse_origin_form(target.substr(0, q))) {
    return std::nullopt;
  }
  std::string_view query = target.substr(q + 1);
  while (true) {
    const auto amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    const auto eq = piece.find('=');
    const std::string_view key = piece.substr(0, eq);
    // One parameter is well formed when "?<it>" parses on its own.
    if (!boost::urls::parse_origin_form("/?" + std::string(piece))) {
      const bool key_ok =
          static_cast<bool>(boost::urls::parse_origin_form("/?" + std::string(key)));
      return key_ok ? std::string(key) : std::string();
    }
    if (amp == std::string_view::npos) return std::nullopt;
    query.remove_prefix(amp + 1);
  }
}

// "/v1/api" → "/", "/v1/api/tasks" → "/tasks", "/v1/apix" unchanged.
void StripPrefix(std::string& path, std::string_view prefix) {
  if (prefix.empty() || prefix == "/" || !path.starts_with(prefix)) return;
  if (path.size() == prefix.size()) {
    path = "/";
  } else if (path[prefix.size()] == '/') {
    path.erase(0, prefix.size());
  }
}

}  // namespace

struct Server::Impl {
  class Session;

  Impl(ServerOptions o, const Router& r, HttpMetrics& m)
      : options(std::move(o)), router(r), metrics(m) {}

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void Unregister(Session* session);

  ServerOptions options;
  const Router& router;
  HttpMetrics& metrics;

  std::mutex mu;
  std::condition_variable sessions_done;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // guarded by mu
  std::atomic<bool> stopping = false;                             // written under mu

  // Declared after the members above so that destroying it (which destroys sessions still
  // queued in it) happens while mu and sessions are alive.
  asio::io_context ioc;
  // Keeps run() from returning when no connection is open, so work posted by Stop() (closing
  // the acceptor, shutting sessions down) always has a thread to run on.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{asio::make_strand(ioc)};
  // Runs the handlers of blocking routes (Router::AddBlocking, AddUpload); in_flight counts
  // those running or waiting for a thread.
  std::atomic<std::int64_t> blocking_in_flight = 0;
  asio::thread_pool blocking_pool{static_cast<std::size_t>(std::max(1, options.blocking_threads))};
  asio::steady_timer accept_retry{acceptor.get_executor()};
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  bool started = false;
  bool stopped = false;
};

// One connection. All members are touched only on the connection's strand; the session lives as
// long as an asynchronous operation holds a shared_ptr to it.
class Server::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {
    beast::error_code ec;
    const tcp::endpoint remote = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      remote_ip_ = remote.address().to_string();
      remote_ = remote_ip_ + ":" + std::to_string(remote.port());
    }
  }
  ~Session() { server_.Unregister(this); }

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::DoReadHeader, shared_from_this()));
  }

  // The connection's strand, for posting Shutdown from another thread.
  [[nodiscard]] auto executor() { return stream_.get_executor(); }

  // Runs on the strand (posted by Stop). Idle connections are closed at once; a request already
  // arriving or being answered finishes and then the connection closes (no keep-alive).
  void Shutdown() {
    if (state_ == State::kStreaming) return CloseSocket();  // streams never end on their own
    const bool idle_read = state_ == State::kReading && (!parser_ || !parser_->got_some());
    if (idle_read || state_ == State::kLingering) CloseSocket();
  }

  // Any thread: queue bytes of a streaming response (see event_stream.h).
  bool StreamWrite(std::string bytes);
  void StreamClose() {
    stream_open_ = false;
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->CloseSocket(); });
  }
  [[nodiscard]] bool StreamOpen() const { return stream_open_.load(); }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kLingering, kStreaming, kClosed };

  // What the access log and metrics need about the request being answered.
  struct Exchange {
    std::string method;
    std::string target;
    std::string route;
    Clock::time_point started;
    std::size_t bytes = 0;
    int status = 0;
  };

  void DoReadHeader() {
    if (server_.stopping) return CloseSocket();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(server_.options.max_header_bytes, UINT32_MAX)));
    // The limit is set once the route is known (PrepareBody, before any body byte is parsed).
    parser_->body_limit(boost::none);
    body_limit_ = server_.options.max_body_bytes;
    exchange_ = Exchange{};
    state_ = State::kReading;
    stream_.expires_after(std::chrono::seconds(server_.options.idle_timeout_seconds));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::OnReadHeader, shared_from_this()));
  }

  void OnReadHeader(beast::error_code ec, std::size_t) {
    if (ec) return OnReadError(ec);
    exchange_.started = Clock::now();
    if (parser_->is_done()) return Handle();
    if (!PrepareBody()) return;
    const auto& header = parser_->get();
    if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
      state_ = State::kWriting;
      stream_.expires_after(std::chrono::seconds(server_.options.idle_timeout_seconds));
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          if (ec) return self->CloseSocket();
                          self->DoReadBody();
                        });
      return;
    }
    DoReadBody();
  }

  void DoReadBody() {
    state_ = State::kReading;
    stream_.expires_after(std::chrono::seconds(server_.options.idle_timeout_seconds));
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnReadBody, shared_from_this()));
  }

  void OnReadBody(beast::error_code ec, std::size_t) {
    if (ec) return OnReadError(ec);
    Handle();
  }

  void OnReadError(beast::error_code ec) {
    state_ = State::kIdle;
    if (parser_ && parser_->is_header_done()) {
      exchange_.method = std::string(parser_->get().method_string());
      exchange_.target = std::string(parser_->get().target());
    }
    if (exchange_.started == Clock::time_point{}) exchange_.started = Clock::now();
    exchange_.route = kUnmatchedRoute;
    // The request was not read to its end, so these answers close the connection.
    if (ec == bhttp::error::body_limit) {
      parser_->get().body().Remove();
      return Send(TooLarge(), /*keep_alive=*/false, /*head=*/false);
    }
    if (parser_ && parser_->get().body().spooled()) {
      // Nothing half-written stays behind, whatever ended the upload (dropped, timed out,
      // disk full).
      parser_->get().body().Remove();
      if (ec.category() == boost::system::generic_category()) {
        spdlog::error("http: cannot spool upload: {}", ec.message());
        return Send(ErrorResponse(Error::Internal("cannot store the upload: " + ec.message())),
                    false, false);
      }
    }
    if (ec == bhttp::error::header_limit) {
      return Send(ErrorJson(431, "BAD_REQUEST", "request headers too large"), false, false);
    }
    const bool parse_error =
        ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
    if (parse_error && parser_ && parser_->got_some()) {
      return Send(ErrorJson(400, "BAD_REQUEST", "malformed HTTP request: " + ec.message()), false,
                  false);
    }
    // End of stream between requests, idle timeout, reset, or Stop(): nothing to answer.
    CloseSocket();
  }

  void Handle() {
    auto& message = parser_->get();
    const bool keep_alive = message.keep_alive();
    const bool head = message.method() == bhttp::verb::head;
    exchange_.method = std::string(message.method_string());
    exchange_.target = std::string(message.target());
    exchange_.route = kUnmatchedRoute;

    const auto url = boost::urls::parse_origin_form(message.target());
    if (!url) {
      if (auto param = BadQueryParam(message.target())) {
        exchange_.route = kUnmatchedRoute;
        return Send(ValidationError({FieldError{
                        {"query", *param},
                        "not a valid URL query value: percent-encode '%' as %25 (and other "
                        "reserved characters)",
                        "value_error"}}),
                    keep_alive, head);
      }
      return Send(ErrorJson(400, "BAD_REQUEST", "malformed request target"), keep_alive, head);
    }
    Request request;
    request.method = exchange_.method;
    // Segments are decoded as a whole, so an encoded "/" (%2F) splits a segment; identifiers in
    // this API never contain one.
    request.path = url->encoded_path().decode();
    if (request.path.empty()) request.path = "/";
    StripPrefix(request.path, server_.options.api_prefix);
    for (const auto& param : url->params()) {  // decoded, '+' as space
      request.query.emplace_back(param.key, param.has_value ? param.value : std::string());
    }
    for (const auto& field : message) {
      request.headers.emplace_back(Lower(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body().text);
    message.body().CloseFile();
    request.body_file = message.body().path();
    request.body_file_size = message.body().size();
    request.remote_address = remote_ip_;

    state_ = State::kHandling;
    const std::string* blocking_route = server_.router.BlockingRoute(request);
    if (blocking_route == nullptr) {
      Response response = Run(request);
      return Complete(request, std::move(response), keep_alive, head);
    }
    // A handler that may wait (a forward pass, a conversion) runs on the blocking pool, so the
    // I/O threads go on serving other requests; the answer comes back to this connection's
    // strand. The work guard keeps the I/O threads running until it has. Beyond the pool's
    // threads, at most max_blocking_waiting requests wait for one; more are refused at once.
    const auto limit = static_cast<std::int64_t>(std::max(1, server_.options.blocking_threads)) +
                       std::max(0, server_.options.max_blocking_waiting);
    if (server_.blocking_in_flight.fetch_add(1) >= limit) {
      server_.blocking_in_flight.fetch_sub(1);
      Response busy =
          ErrorJson(429, "OVERLOADED", "the server is busy with requests that wait; retry shortly");
      busy.WithHeader("Retry-After", "1");
      request.route = *blocking_route;  // counted under its route, though no handler ran
      return Complete(request, std::move(busy), keep_alive, head);
    }
    asio::post(server_.blocking_pool,
               [self = shared_from_this(), request = std::move(request), keep_alive, head,
                guard = asio::make_work_guard(stream_.get_executor())]() mutable {
                 Response response = self->Run(request);
                 self->server_.blocking_in_flight.fetch_sub(1);
                 asio::post(self->stream_.get_executor(),
                            [self, request = std::move(request), response = std::move(response),
                             keep_alive, head]() mutable {
                              self->Complete(request, std::move(response), keep_alive, head);
                            });
               });
  }

  Response Run(Request& request) const {
    try {
      return server_.router.Dispatch(request);
    } catch (const std::exception& e) {
      return ErrorResponse(Error::Internal(e.what()));
    } catch (...) {
      return ErrorResponse(Error::Internal("unknown exception in Router::Dispatch"));
    }
  }

  // On the strand, once the handler has answered.
  void Complete(const Request& request, Response response, bool keep_alive, bool head) {
    parser_->get().body().Remove();
    if (!request.route.empty()) exchange_.route = request.route;
    if (response.stream && !head && response.status == 200) return StartStream(std::move(response));
    Send(std::move(response), keep_alive, head);
  }

  // --- request bodies: memory or a spooled temp file (upload routes)

  Response TooLarge() const {
    return ErrorJson(413, "PAYLOAD_TOO_LARGE",
                     "request body exceeds " + std::to_string(body_limit_) + " bytes");
  }

  // Once the header is read and a body follows: picks memory or a temp file by route, sets the
  // body limit, and answers 413 at once when Content-Length is over it. False when answered.
  bool PrepareBody() {
    auto& message = parser_->get();
    bool upload = false;
    if (!server_.options.upload_dir.empty()) {
      if (const auto url = boost::urls::parse_origin_form(message.target())) {
        Request head;
        head.method = std::string(message.method_string());
        head.path = url->encoded_path().decode();
        if (head.path.empty()) head.path = "/";
        StripPrefix(head.path, server_.options.api_prefix);
        for (const auto& field : message) {
          head.headers.emplace_back(Lower(field.name_string()), std::string(field.value()));
        }
        upload = server_.router.WantsBodyFile(head);
      }
    }
    body_limit_ = upload ? server_.options.max_upload_bytes : server_.options.max_body_bytes;
    const auto length = parser_->content_length();
    if (length && *length > body_limit_) {
      exchange_.method = std::string(message.method_string());
      exchange_.target = std::string(message.target());
      exchange_.route = kUnmatchedRoute;
      Send(TooLarge(), /*keep_alive=*/false, /*head=*/false);
      return false;
    }
    parser_->body_limit(body_limit_);
    if (upload) {
      // Beast reads into the free capacity of the buffer (at least 512 bytes): without room,
      // a large body arrives in a great many small reads, each a strand hop and a syscall.
      buffer_.reserve(buffer_.size() + (1 << 20));
      if (auto ec = message.body().SpoolTo(server_.options.upload_dir)) {
        spdlog::error("http: cannot create a temp file in {}: {}", server_.options.upload_dir,
                      ec.message());
        exchange_.method = std::string(message.method_string());
        exchange_.target = std::string(message.target());
        exchange_.route = kUnmatchedRoute;
        Send(ErrorResponse(Error::Internal("cannot store the upload: " + ec.message())), false,
             false);
        return false;
      }
    }
    return true;
  }

  void Send(Response response, bool keep_alive, bool head) {
    if (response.status < 100 || response.status > 999) {
      response = ErrorResponse(
          Error::Internal("handler returned status " + std::to_string(response.status)));
    }
    const bool reached_end = parser_ && parser_->is_done();
    response_ = {};
    response_.version(parser_ && parser_->is_header_done() ? parser_->get().version() : 11);
    response_.result(static_cast<unsigned>(response.status));
    if (response.status == 499) response_.reason("Client Closed Request");
    response_.set(bhttp::field::server, "vectorize");
    for (auto& [name, value] : response.headers) response_.insert(name, value);
    if (BodyForbidden(response.status)) {
      response.body.clear();
    } else if (!response.content_type.empty()) {
      response_.set(bhttp::field::content_type, response.content_type);
    }
    exchange_.status = response.status;
    exchange_.bytes = response.body.size();
    response_.body() = std::move(response.body);
    response_.keep_alive(keep_alive && reached_end && !server_.stopping);
    response_.prepare_payload();
    // HEAD: the same headers (Content-Length included) as GET, without the body.
    if (head) response_.body().clear();

    state_ = State::kWriting;
    stream_.expires_after(std::chrono::seconds(server_.options.idle_timeout_seconds));
    bhttp::async_write(stream_, response_,
                       beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    Finish();
    if (ec) return CloseSocket();
    if (!response_.keep_alive()) {
      if (parser_ && !parser_->is_done()) return Linger();
      return CloseSocket();
    }
    DoReadHeader();
  }

  // One access-log line and one metrics sample per answered request.
  void Finish() {
    const double seconds = std::chrono::duration<double>(Clock::now() - exchange_.started).count();
    server_.metrics.Record(MetricMethod(exchange_.method), exchange_.route, exchange_.status,
                           seconds);
    if (server_.options.access_log) {
      spdlog::info(
          "http {} {} {} {}B {:.2f}ms {}", exchange_.method.empty() ? "-" : exchange_.method,
          exchange_.target.empty() ? "-" : LoggedTarget(exchange_.target), exchange_.status,
          exchange_.bytes, seconds * 1000.0, remote_.empty() ? "-" : remote_);
    }
  }

  void Linger() {
    state_ = State::kLingering;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return CloseSocket();
    buffer_.consume(buffer_.size());
    stream_.expires_after(kLingerTimeout);
    DoDrain();
  }

  void DoDrain() {
    stream_.async_read_some(buffer_.prepare(16 << 10),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->buffer_.consume(self->buffer_.size());
                              if (ec) return self->CloseSocket();
                              self->DoDrain();
                            });
  }

  // --- Streaming responses (event_stream.h). The head is written like any other queued bytes;
  // the body has no length and ends when the connection closes. While streaming, a read stays
  // pending only to notice the client going away; tcp_stream's timeouts are off (a stream is
  // idle between events by design) and slow clients are bounded by the unsent-byte limit.
  void StartStream(Response response) {
    state_ = State::kStreaming;
    stream_.expires_never();
    std::string head = fmt::format(
        "HTTP/1.1 {} {}\r\nServer: vectorize\r\nContent-Type: {}\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\nX-Accel-Buffering: no\r\n",
        response.status,
        std::string_view(bhttp::obsolete_reason(static_cast<bhttp::status>(response.status))),
        response.content_type);
    for (auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
    head += "\r\n";
    exchange_.status = response.status;
    Finish();  // the access log records the stream when it opens
    stream_limit_ = response.stream_buffer_limit;
    stream_open_ = true;
    stream_pending_ += head.size();
    stream_queue_.push_back(std::move(head));
    // The starter runs before the head is sent, so a client that has seen the head knows the
    // application already holds its sink (whatever it writes is posted behind the head).
    try {
      response.stream(MakeStreamSink(weak_from_this()));
    } catch (const std::exception& e) {
      spdlog::error("http: event stream failed to start: {}", e.what());
      return CloseSocket();
    }
    DoStreamWrite();
    DoStreamRead();
  }

  void DoStreamWrite() {
    if (state_ == State::kClosed) {
      stream_queue_.clear();
      return;
    }
    if (stream_writing_ || stream_queue_.empty()) return;
    stream_writing_ = true;
    // Everything queued goes out in one gathered write.
    stream_inflight_.clear();
    while (!stream_queue_.empty()) {
      stream_inflight_.push_back(std::move(stream_queue_.front()));
      stream_queue_.pop_front();
    }
    std::vector<asio::const_buffer> buffers;
    for (const auto& b : stream_inflight_) buffers.push_back(asio::buffer(b));
    stream_write_started_ = SteadyMicros();
    asio::async_write(stream_.socket(), buffers,
                      [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                        self->stream_write_started_ = 0;
                        self->stream_pending_ -= n;
                        self->stream_inflight_.clear();
                        self->stream_writing_ = false;
                        if (ec) return self->CloseSocket();
                        self->DoStreamWrite();
                      });
  }

  void DoStreamRead() {
    stream_.socket().async_read_some(
        asio::buffer(stream_read_buf_),
        [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) return self->CloseSocket();  // the client went away (or Stop closed it)
          self->DoStreamRead();                // a client has nothing to say on a stream: ignored
        });
  }

  void CloseSocket() {
    stream_open_ = false;
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<SpoolBody>> parser_;
  std::uint64_t body_limit_ = 0;  // of the request being read
  bhttp::response<bhttp::string_body> response_;
  Exchange exchange_;
  State state_ = State::kIdle;
  std::string remote_ip_;
  std::string remote_;  // ip:port, for the access log

  // Streaming state: the queue and buffers on the strand; the byte count and the open flag are
  // read by writers on other threads.
  class SessionSink;
  static std::shared_ptr<StreamSink> MakeStreamSink(std::weak_ptr<Session> session);
  std::deque<std::string> stream_queue_;
  std::vector<std::string> stream_inflight_;
  bool stream_writing_ = false;
  std::size_t stream_limit_ = kDefaultStreamBufferLimit;
  std::atomic<std::size_t> stream_pending_{0};
  std::atomic<std::int64_t> stream_write_started_{0};  // steady µs; 0 = no write in flight
  std::atomic<bool> stream_open_{false};
  std::array<char, 256> stream_read_buf_{};
};

// The StreamSink handed to the application: a weak reference, so a closed connection is freed
// even while the application still holds its sink.
class Server::Impl::Session::SessionSink final : public StreamSink {
 public:
  explicit SessionSink(std::weak_ptr<Session> session) : session_(std::move(session)) {}
  bool Write(std::string bytes) override {
    auto s = session_.lock();
    return s && s->StreamWrite(std::move(bytes));
  }
  void Close() override {
    if (auto s = session_.lock()) s->StreamClose();
  }
  bool IsOpen() const override {
    auto s = session_.lock();
    return s && s->StreamOpen();
  }

 private:
  std::weak_ptr<Session> session_;
};

std::shared_ptr<StreamSink> Server::Impl::Session::MakeStreamSink(std::weak_ptr<Session> session) {
  return std::make_shared<SessionSink>(std::move(session));
}

bool Server::Impl::Session::StreamWrite(std::string bytes) {
  if (!stream_open_.load()) return false;
  const std::size_t n = bytes.size();
  // Over the limit while the client has accepted nothing for a while, or far over it: too slow.
  // (A burst written faster than the I/O thread drains it is not a slow client by itself.)
  const std::size_t pending = stream_pending_.fetch_add(n) + n;
  const std::int64_t started = stream_write_started_.load();
  const bool stalled = started != 0 && SteadyMicros() - started > kStreamStallMicros;
  if (pending > kStreamHardLimitFactor * stream_limit_ || (pending > stream_limit_ && stalled)) {
    if (stream_open_.exchange(false)) {
      spdlog::warn("http: event stream to {} dropped: client too slow ({} bytes unsent)", remote_,
                   stream_pending_.load());
    }
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->CloseSocket(); });
    return false;
  }
  asio::post(stream_.get_executor(), [self = shared_from_this(), b = std::move(bytes)]() mutable {
    if (self->state_ == State::kClosed) return;
    self->stream_queue_.push_back(std::move(b));
    self->DoStreamWrite();
  });
  return true;
}

void Server::Impl::DoAccept() {
  acceptor.async_accept(asio::make_strand(ioc), beast::bind_front_handler(&Impl::OnAccept, this));
}

void Server::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Typically EMFILE; retrying at once would spin.
    spdlog::warn("http: accept failed: {}", ec.message());
    accept_retry.expires_after(kAcceptRetryDelay);
    accept_retry.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && acceptor.is_open()) DoAccept();
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mu);
    if (stopping) return;  // the socket closes as it goes out of scope
    session = std::make_shared<Session>(*this, std::move(socket));
    sessions.emplace(session.get(), session);
  }
  session->Start();
  DoAccept();
}

void Server::Impl::Unregister(Session* session) {
  std::lock_guard lock(mu);
  sessions.erase(session);
  if (sessions.empty()) sessions_done.notify_all();
}

Server::Server(ServerOptions options, const Router& router, HttpMetrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics)) {}

Server::~Server() { Stop(); }

namespace {

// Each connection (an event stream stays open for hours) takes a file descriptor; distributions
// often start processes with a soft limit of 1,024. Raise it to the hard limit (capped).
void RaiseOpenFileLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const rlim_t want = std::min<rlim_t>(lim.rlim_max, 65'536);
  if (lim.rlim_cur >= want) return;
  lim.rlim_cur = want;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    spdlog::warn("http: cannot raise the open-file limit to {}", static_cast<unsigned long>(want));
  }
}

}  // namespace

Status Server::Start() {
  Impl& impl = *impl_;
  RaiseOpenFileLimit();
  if (impl.started) return Fail(Error::FailedPrecondition("HTTP server already started"));
  const std::string where = impl.options.host + ":" + std::to_string(impl.options.port);
  beast::error_code ec;
  tcp::resolver resolver(impl.ioc);
  const auto results =
      resolver.resolve(impl.options.host, std::to_string(impl.options.port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Fail(Error::Unavailable("cannot resolve " + where + ": " + ec.message()));
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  auto fail = [&](std::string_view step) {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    return Fail(
        Error::Unavailable("cannot " + std::string(step) + " " + where + ": " + ec.message()));
  };
  if (impl.acceptor.open(endpoint.protocol(), ec); ec) return fail("open socket for");
  if (impl.acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) {
    return fail("set SO_REUSEADDR on");
  }
  if (impl.acceptor.bind(endpoint, ec); ec) return fail("bind");
  if (impl.acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return fail("listen on");
  }
  impl.port = impl.acceptor.local_endpoint(ec).port();
  if (!impl.options.upload_dir.empty()) {
    std::error_code dir_ec;
    std::filesystem::create_directories(impl.options.upload_dir, dir_ec);
    if (dir_ec) {
      beast::error_code ignored;
      impl.acceptor.close(ignored);
      return Fail(Error::Unavailable("cannot create upload directory " + impl.options.upload_dir +
                                     ": " + dir_ec.message()));
    }
  }
  impl.started = true;
  impl.work.emplace(impl.ioc.get_executor());
  impl.DoAccept();
  const int threads = std::max(1, impl.options.threads);
  for (int i = 0; i < threads; ++i) {
    impl.threads.emplace_back([&impl] {
      while (true) {
        try {
          impl.ioc.run();
          return;
        } catch (const std::exception& e) {
          // Handlers are not expected to throw (the router catches); keep serving if one does.
          spdlog::error("http: exception on I/O thread: {}", e.what());
        }
      }
    });
  }
  spdlog::info("http: listening on {}:{} ({} threads)", endpoint.address().to_string(), impl.port,
               threads);
  return {};
}

std::uint16_t Server::port() const { return impl_->port; }

void Server::Stop() {
  Impl& impl = *impl_;
  if (!impl.started || impl.stopped) return;
  impl.stopped = true;

  std::vector<std::shared_ptr<Impl::Session>> open;
  {
    std::lock_guard lock(impl.mu);
    impl.stopping = true;
    for (auto& [raw, weak] : impl.sessions) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  }
  // Closed on the acceptor's strand (an accept may be in progress); wait for it so the port is
  // released before Stop returns even when no connection is open.
  std::promise<void> acceptor_closed;
  asio::post(impl.acceptor.get_executor(), [&impl, &acceptor_closed] {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    impl.accept_retry.cancel();
    acceptor_closed.set_value();
  });
  acceptor_closed.get_future().wait();
  for (auto& session : open) {
    auto* raw = session.get();
    asio::post(raw->executor(), [session = std::move(session)] { session->Shutdown(); });
  }
  open.clear();

  {
    std::unique_lock lock(impl.mu);
    if (!impl.sessions_done.wait_for(lock, kStopGrace, [&] { return impl.sessions.empty(); })) {
      spdlog::warn("http: {} connection(s) still busy after {}s; closing them",
                   impl.sessions.size(), kStopGrace.count());
    }
  }
  impl.work.reset();
  impl.ioc.stop();
  for (std::thread& thread : impl.threads) thread.join();
  impl.threads.clear();
  // Handlers still queued answer nobody now; running ones finish.
  impl.blocking_pool.stop();
  impl.blocking_pool.join();
  spdlog::info("http: stopped");
}

}  // namespace vectorize::http
