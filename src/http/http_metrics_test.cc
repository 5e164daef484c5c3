#include "http/http_metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace vectorize::http {
namespace {

bool Contains(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(HttpMetrics, RendersCounterAndCumulativeHistogram) {
  HttpMetrics metrics;
  metrics.Record("GET", "/tasks/{id}", 200, 0.0003);
  metrics.Record("GET", "/tasks/{id}", 200, 0.02);
  metrics.Record("GET", "/tasks/{id}", 200, 30.0);
  std::string out;
  metrics.Render(out);
  const std::string labels = R"(method="GET",route="/tasks/{id}",status="200")";
  EXPECT_TRUE(Contains(out, "# TYPE vectorize_http_requests_total counter"));
  EXPECT_TRUE(Contains(out, "# TYPE vectorize_http_request_duration_seconds histogram"));
  EXPECT_TRUE(Contains(out, "vectorize_http_requests_total{" + labels + "} 3"));
  const std::string bucket = "vectorize_http_request_duration_seconds_bucket{" + labels;
  EXPECT_TRUE(Contains(out, bucket + R"(,le="0.0005"} 1)")) << out;
  EXPECT_TRUE(Contains(out, bucket + R"(,le="0.01"} 1)"));
  EXPECT_TRUE(Contains(out, bucket + R"(,le="0.025"} 2)"));
  EXPECT_TRUE(Contains(out, bucket + R"(,le="10"} 2)"));
  EXPECT_TRUE(Contains(out, bucket + R"(,le="+Inf"} 3)"));
  EXPECT_TRUE(Contains(out, "vectorize_http_request_duration_seconds_count{" + labels + "} 3"));
  EXPECT_NE(out.find("vectorize_http_request_duration_seconds_sum{" + labels + "} 30.02"),
            std::string::npos);
}

TEST(HttpMetrics, EscapesLabelValues) {
  HttpMetrics metrics;
  metrics.Record("GET", "a\"b\\c\nd", 404, 0.001);
  std::string out;
  metrics.Render(out);
  EXPECT_TRUE(Contains(
      out, R"(vectorize_http_requests_total{method="GET",route="a\"b\\c\nd",status="404"} 1)"))
      << out;
}

TEST(HttpMetrics, EmptyStillHasHeaders) {
  HttpMetrics metrics;
  std::string out = "prefix\n";
  metrics.Render(out);
  EXPECT_TRUE(out.starts_with("prefix\n# HELP vectorize_http_requests_total"));
  EXPECT_EQ(out.find("{"), std::string::npos);
}

}  // namespace
}  // namespace vectorize::http
