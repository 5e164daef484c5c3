#include "http/router.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <exception>
#include <optional>
#include <set>
#include <stdexcept>

#include "common/utf8.h"

namespace vectorize::http {
namespace {

bool IsCapture(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// "/a/b/" → {"a", "b"}; "/" → {}. The trailing slash is dropped so "/tasks/" matches "/tasks".
std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.starts_with('/')) path.remove_prefix(1);
  if (path.ends_with('/')) path.remove_suffix(1);
  if (path.empty()) return segments;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = path.find('/', start);
    segments.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

bool Matches(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (IsCapture(pattern[i])) {
      if (path[i].empty()) return false;
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

// True when a is more specific than b: at the first position where they differ in kind, a has a
// literal and b a capture.
bool MoreSpecific(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const bool a_literal = !IsCapture(a[i]);
    const bool b_literal = !IsCapture(b[i]);
    if (a_literal != b_literal) return a_literal;
  }
  return false;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler) {
  if (!pattern.starts_with('/')) {
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  }
  std::vector<std::string> segments;
  for (std::string_view segment : Split(pattern)) {
    const bool has_brace = segment.find_first_of("{}") != std::string_view::npos;
    if (segment.empty() || (has_brace && !IsCapture(segment)) ||
        (IsCapture(segment) &&
         segment.substr(1, segment.size() - 2).find_first_of("{}") != std::string_view::npos)) {
      throw std::invalid_argument("malformed route pattern: " + pattern);
    }
    segments.emplace_back(segment);
  }
  for (const Route& route : routes_) {
    if (route.method == method && route.segments.size() == segments.size() &&
        std::ranges::equal(route.segments, segments, [](const auto& a, const auto& b) {
          return IsCapture(a) ? IsCapture(b) : a == b;
        })) {
      throw std::invalid_argument("duplicate route: " + method + " " + pattern);
    }
  }
  routes_.push_back(
      Route{std::move(method), std::move(pattern), std::move(segments), std::move(handler)});
}

void Router::AddUpload(std::string method, std::string pattern, Handler handler) {
  Add(std::move(method), std::move(pattern), std::move(handler));
  routes_.back().upload = true;
  routes_.back().blocking = true;
}

void Router::AddBlocking(std::string method, std::string pattern, Handler handler) {
  Add(std::move(method), std::move(pattern), std::move(handler));
  routes_.back().blocking = true;
}

void Router::RequireApiKeys(std::vector<std::string> keys, std::vector<std::string> open_paths) {
  api_keys_ = std::move(keys);
  open_paths_ = std::move(open_paths);
}

namespace {

// Compares in time independent of where the strings differ (no early exit on a mismatch).
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

std::optional<std::string_view> PresentedKey(const Request& request) {
  if (auto auth = request.Header("authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth->size() > kBearer.size() &&
        std::equal(kBearer.begin(), kBearer.end(), auth->begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return auth->substr(kBearer.size());
    }
  }
  return request.Header("x-api-key");
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The `vectorize_api_key` cookie, percent-decoded (the dashboard sets it with
// encodeURIComponent).
std::optional<std::string> CookieKey(const Request& request) {
  for (const auto& [name, value] : request.headers) {
    if (name != "cookie") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      constexpr std::string_view kName = "vectorize_api_key=";
      if (!pair.starts_with(kName)) continue;
      pair.remove_prefix(kName.size());
      std::string out;
      for (std::size_t i = 0; i < pair.size(); ++i) {
        if (pair[i] == '%' && i + 2 < pair.size() && HexValue(pair[i + 1]) >= 0 &&
            HexValue(pair[i + 2]) >= 0) {
          out.push_back(static_cast<char>(HexValue(pair[i + 1]) * 16 + HexValue(pair[i + 2])));
          i += 2;
        } else {
          out.push_back(pair[i]);
        }
      }
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace

const Router::Route* Router::Find(std::string_view method,
                                  const std::vector<std::string_view>& path) const {
  const Route* best = nullptr;
  for (const Route& route : routes_) {
    if (route.method != method || !Matches(route.segments, path)) continue;
    if (best == nullptr || MoreSpecific(route.segments, best->segments)) best = &route;
  }
  return best;
}

bool Router::Authorized(const Request& request) const {
  if (api_keys_.empty()) return true;
  const auto key = PresentedKey(request);
  bool ok = false;
  for (const auto& k : api_keys_) ok |= key && ConstantTimeEquals(*key, k);
  return ok;
}

const std::string* Router::BlockingRoute(const Request& head) const {
  const auto path = Split(head.path);
  const Route* route = Find(head.method, path);
  if (route == nullptr && head.method == "HEAD") route = Find("GET", path);
  return route != nullptr && route->blocking ? &route->pattern : nullptr;
}

bool Router::WantsBodyFile(const Request& head) const {
  const Route* route = Find(head.method, Split(head.path));
  return route != nullptr && route->upload && Authorized(head);
}

Response Router::Dispatch(Request& request) const {
  request.route.clear();
  request.path_params.clear();
  if (!api_keys_.empty()) {
    const bool open =
        (request.method == "GET" || request.method == "HEAD") &&
        std::find(open_paths_.begin(), open_paths_.end(), request.path) != open_paths_.end();
    if (!open) {
      std::optional<std::string> key;
      if (auto k = PresentedKey(request)) key = std::string(*k);
      if (!key && request.method == "GET" &&
          std::find(key_in_query_paths_.begin(), key_in_query_paths_.end(), request.path) !=
              key_in_query_paths_.end()) {
        if (auto q = request.QueryAll("api_key"); !q.empty()) {
          key = std::string(q.back());
        } else {
          key = CookieKey(request);
        }
      }
      bool ok = false;
      for (const auto& k : api_keys_) ok |= key && ConstantTimeEquals(*key, k);
      if (!ok) {
        Response r = Response::Json(
            401, boost::json::object{
                     {"code", "UNAUTHORIZED"},
                     {"message", key ? "invalid API key"
                                     : "missing API key: send 'Authorization: Bearer <key>' or "
                                       "'X-API-Key: <key>'"}});
        r.WithHeader("WWW-Authenticate", "Bearer");
        return r;
      }
    }
  }
  const std::vector<std::string_view> path = Split(request.path);

  auto find = [&](std::string_view method) -> const Route* {
    const Route* best = nullptr;
    for (const Route& route : routes_) {
      if (route.method != method || !Matches(route.segments, path)) continue;
      if (best == nullptr || MoreSpecific(route.segments, best->segments)) best = &route;
    }
    return best;
  };

  const Route* route = find(request.method);
  if (route == nullptr && request.method == "HEAD") route = find("GET");

  if (route == nullptr) {
    std::set<std::string> allowed;
    for (const Route& candidate : routes_) {
      if (!Matches(candidate.segments, path)) continue;
      allowed.insert(candidate.method);
      if (candidate.method == "GET") allowed.insert("HEAD");
    }
    if (allowed.empty()) {
      return Response::Json(
          404, boost::json::object{{"code", "NOT_FOUND"},
                                   {"message", SanitizeUtf8("No route for " + request.method + " " +
                                                            request.path)}});
    }
    std::string allow;
    for (const std::string& method : allowed) {
      if (!allow.empty()) allow += ", ";
      allow += method;
    }
    Response response = Response::Json(
        405, boost::json::object{
                 {"code", "METHOD_NOT_ALLOWED"},
                 {"message", SanitizeUtf8("Method " + request.method + " not allowed for " +
                                          request.path + " (allowed: " + allow + ")")}});
    response.WithHeader("Allow", std::move(allow));
    return response;
  }

  request.route = route->pattern;
  for (std::size_t i = 0; i < route->segments.size(); ++i) {
    const std::string& segment = route->segments[i];
    if (IsCapture(segment)) {
      request.path_params.emplace_back(segment.substr(1, segment.size() - 2), path[i]);
    }
  }
  try {
    return route->handler(request);
  } catch (const std::exception& e) {
    return ErrorResponse(Error::Internal(request.method + " " + route->pattern + ": " + e.what()));
  } catch (...) {
    return ErrorResponse(
        Error::Internal(request.method + " " + route->pattern + ": unknown exception"));
  }
}

std::vector<RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> routes;
  routes.reserve(routes_.size());
  for (const Route& route : routes_) routes.push_back(RouteInfo{route.method, route.pattern});
  return routes;
}

}  // namespace vectorize::http
