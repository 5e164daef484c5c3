#include "remote/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

namespace vectorize::remote {
namespace {

constexpr int kMaxRedirects = 10;
constexpr std::size_t kMaxErrorBody = 64 * 1024;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// scheme://host:port of a URL, lowercased, with the default port filled in; "" if unparsable.
std::string Origin(const std::string& url) {
  CURLU* u = curl_url();
  std::string out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char *scheme = nullptr, *host = nullptr, *port = nullptr;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    if (scheme && host) out = Lower(fmt::format("{}://{}:{}", scheme, host, port ? port : ""));
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

// Resolves a Location header against the URL that answered it.
std::optional<std::string> ResolveLocation(const std::string& base, const std::string& location) {
  CURLU* u = curl_url();
  std::optional<std::string> out;
  if (curl_url_set(u, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_URL, location.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
    char* full = nullptr;
    if (curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK && full) out = full;
    curl_free(full);
  }
  curl_url_cleanup(u);
  if (out && !(out->starts_with("http://") || out->starts_with("https://"))) return std::nullopt;
  return out;
}

bool IsRetryableStatus(long status) { return status == 429 || (status >= 500 && status <= 599); }

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// The sink of one request: headers of the current response, and either a buffer or a file.
struct Exchange {
  std::map<std::string, std::string> headers;
  long status = 0;
  // Buffered mode.
  std::string* body = nullptr;
  std::uint64_t max_body = 0;
  bool body_too_large = false;
  // File mode.
  FILE* file = nullptr;
  std::uint64_t offset = 0;  // bytes already in the file when the request started
  std::uint64_t written = 0;
  bool decided = false;  // whether the status of this response was examined
  bool to_file = false;  // this response's body goes to the file
  std::uint64_t max_bytes = 0;
  bool file_error = false;
  std::string error_body;
  std::optional<std::uint64_t> total;
  const DownloadOptions* dl = nullptr;
  std::chrono::steady_clock::time_point last_progress{};
  const std::function<bool()>* cancelled = nullptr;
  CURL* curl = nullptr;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    ex->headers.clear();  // a new response (after 100 Continue)
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    ex->headers[Lower(std::string(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  return size * n;
}

void Decide(Exchange* ex) {
  ex->decided = true;
  curl_easy_getinfo(ex->curl, CURLINFO_RESPONSE_CODE, &ex->status);
  if (!ex->file) return;
  if (ex->status == 206) {
    ex->to_file = true;
    auto it = ex->headers.find("content-range");  // bytes a-b/total
    if (it != ex->headers.end()) {
      auto slash = it->second.rfind('/');
      if (slash != std::string::npos && it->second.substr(slash + 1) != "*") {
        try {
          ex->total = std::stoull(it->second.substr(slash + 1));
        } catch (...) {
        }
      }
      auto sp = it->second.find(' ');
      auto dash = it->second.find('-');
      std::uint64_t start = 0;
      try {
        if (sp != std::string::npos && dash != std::string::npos)
          start = std::stoull(it->second.substr(sp + 1, dash - sp - 1));
      } catch (...) {
        start = ~0ull;
      }
      if (start != ex->offset) {
        ex->to_file = false;  // not the range we asked for: refuse it
        ex->file_error = true;
      }
    }
  } else if (ex->status >= 200 && ex->status < 300) {
    ex->to_file = true;
    if (ex->offset > 0) {  // the server ignored Range: start over
      if (ftruncate(fileno(ex->file), 0) != 0 || fseek(ex->file, 0, SEEK_SET) != 0)
        ex->file_error = true;
      ex->offset = 0;
    }
    auto it = ex->headers.find("content-length");
    if (it != ex->headers.end()) {
      try {
        ex->total = std::stoull(it->second);
      } catch (...) {
      }
    }
  }
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t len = size * n;
  if (!ex->decided) Decide(ex);
  if (ex->file) {
    if (!ex->to_file) {
      if (ex->file_error) return 0;
      if (ex->error_body.size() < kMaxErrorBody)
        ex->error_body.append(data, std::min(len, kMaxErrorBody - ex->error_body.size()));
      return len;
    }
    if (ex->max_bytes && ex->offset + ex->written + len > ex->max_bytes) {
      ex->body_too_large = true;
      return 0;
    }
    if (std::fwrite(data, 1, len, ex->file) != len) {
      ex->file_error = true;
      return 0;
    }
    if (ex->dl && ex->dl->on_data) ex->dl->on_data(ex->offset + ex->written, data, len);
    ex->written += len;
    return len;
  }
  if (ex->body->size() + len > ex->max_body) {
    ex->body_too_large = true;
    return 0;
  }
  ex->body->append(data, len);
  return len;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* ex = static_cast<Exchange*>(user);
  if (ex->cancelled && *ex->cancelled && (*ex->cancelled)()) return 1;
  if (ex->dl && ex->dl->progress && ex->to_file) {
    auto now = std::chrono::steady_clock::now();
    if (now - ex->last_progress >= std::chrono::milliseconds(100)) {
      ex->last_progress = now;
      ex->dl->progress(ex->offset + ex->written, ex->total);
    }
  }
  return 0;
}

struct CurlResult {
  CURLcode code = CURLE_OK;
  std::string error;
};

CurlResult PerformOnce(const HttpOptions& opt, bool head, const std::string& url,
                       const RequestOptions& req, bool send_auth,
                       const std::vector<std::string>& extra_headers, Exchange& ex, bool buffered,
                       const char* method = nullptr, const std::string* body = nullptr) {
  CURL* c = curl_easy_init();
  if (!c) return {CURLE_FAILED_INIT, "curl_easy_init failed"};
  ex.curl = c;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* hdrs = nullptr;
  for (const auto& [k, v] : req.headers) hdrs = curl_slist_append(hdrs, (k + ": " + v).c_str());
  for (const auto& h : extra_headers) hdrs = curl_slist_append(hdrs, h.c_str());
  std::string auth;
  if (send_auth && !req.bearer_token.empty()) {
    auth = "Authorization: Bearer " + req.bearer_token;
    hdrs = curl_slist_append(hdrs, auth.c_str());
  }
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_USERAGENT, opt.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(opt.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, opt.low_speed_bytes);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, long(opt.low_speed_time.count()));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &ex);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, buffered ? "" : nullptr);
  if (head) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (method) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body->size()));
  }
  CURLcode code = curl_easy_perform(c);
  if (!ex.decided) Decide(&ex);
  curl_easy_cleanup(c);
  curl_slist_free_all(hdrs);
  ex.curl = nullptr;
  return {code, errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(code))};
}

std::chrono::milliseconds Backoff(const HttpOptions& opt, int retry,
                                  const std::map<std::string, std::string>& headers) {
  auto it = headers.find("retry-after");
  if (it != headers.end()) {
    try {
      long secs = std::stol(it->second);
      if (secs >= 0) return std::min(std::chrono::milliseconds(secs * 1000), opt.retry_max);
    } catch (...) {
    }
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double cap =
      std::min<double>(double(opt.retry_max.count()),
                       double(opt.retry_base.count()) * double(1ull << std::min(retry, 20)));
  std::uniform_real_distribution<double> dist(cap / 2, cap);  // "equal jitter": never ~0
  return std::chrono::milliseconds(std::int64_t(dist(rng)));
}

// Sleeps, waking early when cancelled. Returns false if cancelled.
bool SleepUnlessCancelled(std::chrono::milliseconds d, const RequestOptions& req) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
    if (req.cancelled && req.cancelled()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
  }
  return !(req.cancelled && req.cancelled());
}

bool IsNetworkError(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY: return true;
    default: return false;
  }
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Error StatusError(long status, const std::string& what) {
  std::string m = fmt::format("{}: HTTP {}", what, status);
  if (status == 404 || status == 410) return Error::NotFound(m);
  if (status == 401 || status == 403)
    return Error::FailedPrecondition(m + " (access denied: is a token needed?)");
  if (IsRetryableStatus(status)) return Error::Unavailable(m);
  if (status >= 400 && status < 500) return Error::InvalidArgument(m);
  return Error::Internal(m);
}

std::string EncodePathSegment(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += char(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string EncodePath(std::string_view s) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    auto slash = s.find('/', start);
    out += EncodePathSegment(
        s.substr(start, slash == std::string_view::npos ? s.npos : slash - start));
    if (slash == std::string_view::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

std::string UrlForLog(std::string_view url) {
  auto q = url.find_first_of("?#");
  return std::string(url.substr(0, q));
}

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) { GlobalInit(); }

Result<HttpResponse> HttpClient::GetRaw(const std::string& url, const RequestOptions& req) const {
  const std::string origin = Origin(url);
  if (origin.empty()) return Fail(Error::InvalidArgument("malformed URL " + UrlForLog(url)));
  for (int retry = 0;; ++retry) {
    HttpResponse resp;
    std::string current = url;
    Exchange ex;
    CurlResult cr;
    for (int hop = 0;; ++hop) {
      resp.body.clear();
      ex = Exchange{};
      ex.body = &resp.body;
      ex.max_body = options_.max_body_bytes;
      ex.cancelled = &req.cancelled;
      cr = PerformOnce(options_, false, current, req, Origin(current) == origin, {}, ex, true);
      if (cr.code != CURLE_OK || !IsRedirect(ex.status)) break;
      auto loc = ex.headers.find("location");
      if (loc == ex.headers.end() || hop >= kMaxRedirects) break;
      auto next = ResolveLocation(current, loc->second);
      if (!next) return Fail(Error::Unavailable("bad redirect from " + UrlForLog(current)));
      current = *next;
    }
    if (cr.code == CURLE_ABORTED_BY_CALLBACK) return Fail(Error::Cancelled("download cancelled"));
    if (ex.body_too_large)
      return Fail(Error::ResourceExhausted(fmt::format(
          "response of {} is larger than {} bytes", UrlForLog(current), options_.max_body_bytes)));
    bool retryable = cr.code != CURLE_OK ? IsNetworkError(cr.code) : IsRetryableStatus(ex.status);
    if (retryable && retry < options_.max_retries) {
      auto wait = Backoff(options_, retry, ex.headers);
      spdlog::debug("GET {}: {} — retry {} in {} ms", UrlForLog(current),
                    cr.code != CURLE_OK ? cr.error : fmt::format("HTTP {}", ex.status), retry + 1,
                    wait.count());
      if (!SleepUnlessCancelled(wait, req)) return Fail(Error::Cancelled("download cancelled"));
      continue;
    }
    if (cr.code != CURLE_OK) {
      std::string m = fmt::format("GET {}: {}", UrlForLog(current), cr.error);
      return Fail(IsNetworkError(cr.code) ? Error::Unavailable(m) : Error::Internal(m));
    }
    resp.status = ex.status;
    resp.headers = std::move(ex.headers);
    resp.effective_url = current;
    return resp;
  }
}

Result<HttpResponse> HttpClient::Send(const std::string& method, const std::string& url,
                                      const std::string& body, const RequestOptions& req) const {
  HttpResponse resp;
  Exchange ex;
  ex.body = &resp.body;
  ex.max_body = options_.max_body_bytes;
  ex.cancelled = &req.cancelled;
  auto cr = PerformOnce(options_, false, url, req, true, {}, ex, true, method.c_str(),
                        method == "GET" ? nullptr : &body);
  if (cr.code == CURLE_ABORTED_BY_CALLBACK) return Fail(Error::Cancelled("request cancelled"));
  if (cr.code != CURLE_OK) {
    std::string m = fmt::format("{} {}: {}", method, UrlForLog(url), cr.error);
    return Fail(IsNetworkError(cr.code) ? Error::Unavailable(m) : Error::Internal(m));
  }
  resp.status = ex.status;
  resp.headers = std::move(ex.headers);
  resp.effective_url = url;
  return resp;
}

Result<HttpResponse> HttpClient::Get(const std::string& url, const RequestOptions& req) const {
  auto r = GetRaw(url, req);
  if (!r) return r;
  if (r->status < 200 || r->status >= 300)
    return Fail(StatusError(r->status, "GET " + UrlForLog(url)));
  return r;
}

Result<HttpResponse> HttpClient::Head(const std::string& url, const RequestOptions& req) const {
  const std::string origin = Origin(url);
  if (origin.empty()) return Fail(Error::InvalidArgument("malformed URL " + UrlForLog(url)));
  for (int retry = 0;; ++retry) {
    std::string current = url;
    std::string sink;
    Exchange ex;
    CurlResult cr;
    for (int hop = 0;; ++hop) {
      ex = Exchange{};
      ex.body = &sink;
      ex.max_body = 0;
      ex.cancelled = &req.cancelled;
      cr = PerformOnce(options_, true, current, req, Origin(current) == origin, {}, ex, true);
      if (cr.code != CURLE_OK || !IsRedirect(ex.status)) break;
      auto loc = ex.headers.find("location");
      if (loc == ex.headers.end() || hop >= kMaxRedirects) break;
      auto next = ResolveLocation(current, loc->second);
      if (!next) return Fail(Error::Unavailable("bad redirect from " + UrlForLog(current)));
      current = *next;
    }
    if (cr.code == CURLE_ABORTED_BY_CALLBACK) return Fail(Error::Cancelled("request cancelled"));
    bool retryable = cr.code != CURLE_OK ? IsNetworkError(cr.code) : IsRetryableStatus(ex.status);
    if (retryable && retry < options_.max_retries) {
      if (!SleepUnlessCancelled(Backoff(options_, retry, ex.headers), req))
        return Fail(Error::Cancelled("request cancelled"));
      continue;
    }
    if (cr.code != CURLE_OK) {
      std::string m = fmt::format("HEAD {}: {}", UrlForLog(current), cr.error);
      return Fail(IsNetworkError(cr.code) ? Error::Unavailable(m) : Error::Internal(m));
    }
    if (ex.status < 200 || ex.status >= 300)
      return Fail(StatusError(ex.status, "HEAD " + UrlForLog(url)));
    HttpResponse resp;
    resp.status = ex.status;
    resp.headers = std::move(ex.headers);
    resp.effective_url = current;
    return resp;
  }
}

Result<DownloadResult> HttpClient::Download(const std::string& url,
                                            const std::filesystem::path& dest,
                                            const DownloadOptions& dl) const {
  const std::string origin = Origin(url);
  if (origin.empty()) return Fail(Error::InvalidArgument("malformed URL " + UrlForLog(url)));
  const RequestOptions& req = dl.request;
  DownloadResult result;
  bool first = true;
  for (int retry = 0;; ++retry) {
    std::error_code ec;
    std::uint64_t have =
        std::filesystem::exists(dest, ec) ? std::filesystem::file_size(dest, ec) : 0;
    if (ec) have = 0;
    if (first) result.resumed_from = have;
    FILE* f = std::fopen(dest.c_str(), have > 0 ? "r+b" : "wb");
    if (!f) return Fail(Error::Internal(fmt::format("cannot write {}", dest.string())));
    if (have > 0) std::fseek(f, 0, SEEK_END);
    std::vector<std::string> range;
    if (have > 0) range.push_back(fmt::format("Range: bytes={}-", have));

    std::string current = url;
    Exchange ex;
    CurlResult cr;
    for (int hop = 0;; ++hop) {
      ex = Exchange{};
      ex.file = f;
      ex.offset = have;
      ex.max_bytes = dl.max_bytes;
      ex.dl = &dl;
      ex.cancelled = &req.cancelled;
      cr = PerformOnce(options_, false, current, req, Origin(current) == origin, range, ex, false);
      if (hop == 0 && first) result.headers = ex.headers;
      if (cr.code != CURLE_OK || !IsRedirect(ex.status)) break;
      auto loc = ex.headers.find("location");
      if (loc == ex.headers.end() || hop >= kMaxRedirects) break;
      auto next = ResolveLocation(current, loc->second);
      if (!next) {
        std::fclose(f);
        return Fail(Error::Unavailable("bad redirect from " + UrlForLog(current)));
      }
      current = *next;
    }
    first = false;
    bool flushed = std::fflush(f) == 0;
    std::fclose(f);
    if (!flushed) ex.file_error = true;
    if (cr.code == CURLE_ABORTED_BY_CALLBACK) return Fail(Error::Cancelled("download cancelled"));
    if (ex.body_too_large)
      return Fail(Error::ResourceExhausted(
          fmt::format("{} is larger than the limit of {} bytes", UrlForLog(url), dl.max_bytes)));
    if (ex.file_error && !ex.to_file && ex.status == 206) {
      // A 206 for a range we did not ask for: start again from zero.
      std::filesystem::resize_file(dest, 0, ec);
    } else if (ex.file_error) {
      return Fail(Error::Internal(fmt::format("cannot write {}", dest.string())));
    }
    if (cr.code == CURLE_OK && ex.status == 416 && have > 0) {
      // Our Range starts at or past the end: complete if the sizes agree, else start over.
      auto it = ex.headers.find("content-range");  // "bytes */N"
      std::optional<std::uint64_t> size;
      if (it != ex.headers.end()) {
        auto slash = it->second.rfind('/');
        try {
          if (slash != std::string::npos) size = std::stoull(it->second.substr(slash + 1));
        } catch (...) {
        }
      }
      if (size && *size == have) {
        result.bytes = have;
        result.status = 206;
        result.final_headers = std::move(ex.headers);
        if (dl.progress) dl.progress(have, have);
        return result;
      }
      std::filesystem::resize_file(dest, 0, ec);
      if (retry < options_.max_retries) continue;
    }
    bool retryable = cr.code != CURLE_OK
                         ? IsNetworkError(cr.code)
                         : (IsRetryableStatus(ex.status) || (ex.file_error && ex.status == 206));
    if (retryable && retry < options_.max_retries) {
      ++result.retries;
      auto wait = Backoff(options_, retry, ex.headers);
      spdlog::info("download {}: {} — retry {} in {} ms (resuming at byte {})", UrlForLog(url),
                   cr.code != CURLE_OK ? cr.error : fmt::format("HTTP {}", ex.status), retry + 1,
                   wait.count(), have + ex.written);
      if (!SleepUnlessCancelled(wait, req)) return Fail(Error::Cancelled("download cancelled"));
      continue;
    }
    if (cr.code != CURLE_OK) {
      std::string m = fmt::format("download {}: {}", UrlForLog(current), cr.error);
      return Fail(IsNetworkError(cr.code) ? Error::Unavailable(m) : Error::Internal(m));
    }
    if (ex.status < 200 || ex.status >= 300)
      return Fail(StatusError(ex.status, "download " + UrlForLog(url)));
    std::uint64_t size = ex.offset + ex.written;
    if (ex.total && *ex.total != size) {
      // The connection closed early without curl noticing (no Content-Length check on 206).
      if (retry < options_.max_retries) {
        ++result.retries;
        if (!SleepUnlessCancelled(Backoff(options_, retry, {}), req))
          return Fail(Error::Cancelled("download cancelled"));
        continue;
      }
      return Fail(Error::Unavailable(
          fmt::format("download {}: got {} of {} bytes", UrlForLog(url), size, *ex.total)));
    }
    result.bytes = size;
    result.status = ex.status;
    result.final_headers = std::move(ex.headers);
    if (dl.progress) dl.progress(size, size);
    return result;
  }
}

}  // namespace vectorize::remote
