// HttpClient helpers that need no server.
#include "remote/http_client.h"

#include <gtest/gtest.h>

namespace vectorize::remote {
namespace {

TEST(HttpClientTest, EncodesPathSegments) {
  EXPECT_EQ(EncodePathSegment("refs/pr/1"), "refs%2Fpr%2F1");
  EXPECT_EQ(EncodePath("1_Pooling/config.json"), "1_Pooling/config.json");
  EXPECT_EQ(EncodePath("a b/c?d"), "a%20b/c%3Fd");
}

TEST(HttpClientTest, LogsUrlsWithoutQuery) {
  EXPECT_EQ(UrlForLog("http://h/x?token=abc#f"), "http://h/x");
}

TEST(HttpClientTest, MapsStatuses) {
  EXPECT_EQ(StatusError(404, "x").code, ErrorCode::kNotFound);
  EXPECT_EQ(StatusError(403, "x").code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(StatusError(503, "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(StatusError(429, "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(StatusError(400, "x").code, ErrorCode::kInvalidArgument);
}

TEST(HttpClientTest, RefusedConnectionIsUnavailable) {
  HttpClient http(HttpOptions{.max_retries = 1, .retry_base = std::chrono::milliseconds(1)});
  auto r = http.Get("http://127.0.0.1:1/x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST(HttpClientTest, MalformedUrlIsInvalid) {
  HttpClient http;
  auto r = http.Get("not a url");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace vectorize::remote
