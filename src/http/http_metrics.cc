#include "http/http_metrics.h"

#include <algorithm>
#include <charconv>
#include <system_error>

namespace vectorize::http {

void AppendLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

namespace {

void AppendNumber(std::string& out, double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec == std::errc()) out.append(buffer, end);
}

// Bucket bounds in fixed notation ("0.0005", not "5e-04"), as Prometheus clients write them.
void AppendBound(std::string& out, double value) {
  char buffer[64];
  const auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  if (ec == std::errc()) out.append(buffer, end);
}

void AppendNumber(std::string& out, std::uint64_t value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec == std::errc()) out.append(buffer, end);
}

void AppendLabels(std::string& out, const std::string& method, const std::string& route,
                  int status) {
  out += "method=\"";
  AppendLabelValue(out, method);
  out += "\",route=\"";
  AppendLabelValue(out, route);
  out += "\",status=\"";
  out += std::to_string(status);
  out += '"';
}

}  // namespace

HttpMetrics::HttpMetrics()
    : bounds_{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10} {}

void HttpMetrics::Record(const std::string& method, const std::string& route, int status,
                         double seconds) {
  // First bucket whose upper bound holds the sample; bounds_.size() means only +Inf.
  const auto bucket =
      static_cast<std::size_t>(std::ranges::lower_bound(bounds_, seconds) - bounds_.begin());
  std::lock_guard lock(mu_);
  Series& series = series_[{method, route, status}];
  if (series.buckets.empty()) series.buckets.assign(bounds_.size(), 0);
  ++series.count;
  series.sum += seconds;
  if (bucket < bounds_.size()) ++series.buckets[bucket];
}

void HttpMetrics::Render(std::string& out) const {
  std::lock_guard lock(mu_);
  out +=
      "# HELP vectorize_http_requests_total HTTP requests by method, route pattern and status.\n";
  out += "# TYPE vectorize_http_requests_total counter\n";
  for (const auto& [key, series] : series_) {
    const auto& [method, route, status] = key;
    out += "vectorize_http_requests_total{";
    AppendLabels(out, method, route, status);
    out += "} ";
    AppendNumber(out, series.count);
    out += '\n';
  }
  out += "# HELP vectorize_http_request_duration_seconds HTTP request latency in seconds.\n";
  out += "# TYPE vectorize_http_request_duration_seconds histogram\n";
  for (const auto& [key, series] : series_) {
    const auto& [method, route, status] = key;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      out += "vectorize_http_request_duration_seconds_bucket{";
      AppendLabels(out, method, route, status);
      out += ",le=\"";
      if (i < bounds_.size()) {
        cumulative += series.buckets[i];
        AppendBound(out, bounds_[i]);
      } else {
        cumulative = series.count;
        out += "+Inf";
      }
      out += "\"} ";
      AppendNumber(out, cumulative);
      out += '\n';
    }
    out += "vectorize_http_request_duration_seconds_sum{";
    AppendLabels(out, method, route, status);
    out += "} ";
    AppendNumber(out, series.sum);
    out += '\n';
    out += "vectorize_http_request_duration_seconds_count{";
    AppendLabels(out, method, route, status);
    out += "} ";
    AppendNumber(out, series.count);
    out += '\n';
  }
}

}  // namespace vectorize::http
