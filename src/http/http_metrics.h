#pragma once
// HTTP request counts and latency histograms by route pattern, method and status, rendered in
// Prometheus text format. Thread safety: Record and Render may be called from any thread.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace vectorize::http {

// Appends a Prometheus label value with backslash, double quote and newline escaped.
void AppendLabelValue(std::string& out, std::string_view value);

class HttpMetrics {
 public:
  HttpMetrics();
  void Record(const std::string& method, const std::string& route, int status, double seconds);
  // Appends vectorize_http_requests_total{method,route,status} and
  // vectorize_http_request_duration_seconds histogram (with # HELP / # TYPE lines).
  void Render(std::string& out) const;

 private:
  std::vector<double> bounds_;
  struct Series {
    std::uint64_t count = 0;
    double sum = 0;
    std::vector<std::uint64_t> buckets;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, Series> series_;
};

}  // namespace vectorize::http
