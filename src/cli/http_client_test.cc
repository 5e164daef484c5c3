#include "cli/http_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace vectorize::cli {
namespace {

TEST(ParseBaseUrl, HostPortPrefix) {
  auto u = ParseBaseUrl("http://127.0.0.1:8000");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8000");
  EXPECT_EQ(u->prefix, "");

  u = ParseBaseUrl("http://example.com/v1/api/");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->prefix, "/v1/api");

  u = ParseBaseUrl("http://[::1]:9000/x");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "9000");
  EXPECT_EQ(u->prefix, "/x");
}

TEST(ParseBaseUrl, Rejects) {
  for (const char* bad : {"", "localhost:8000", "https://example.com", "ftp://x", "http://",
                          "http://h:8000/?a=1", "http://u:p@h:8000", "http://h:0"}) {
    auto u = ParseBaseUrl(bad);
    ASSERT_FALSE(u.has_value()) << bad;
    EXPECT_EQ(u.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(EncodePathSegment, EscapesReserved) {
  EXPECT_EQ(EncodePathSegment("0193f2c0-8a1e"), "0193f2c0-8a1e");
  EXPECT_EQ(EncodePathSegment("a/b?c d"), "a%2Fb%3Fc%20d");
  EXPECT_EQ(EncodePathSegment("é"), "%C3%A9");
}

TEST(HttpClient, ConnectionRefusedIsUnavailable) {
  auto c = HttpClient::Create({.base_url = "http://127.0.0.1:1"});
  ASSERT_TRUE(c.has_value());
  auto r = c->Get("/tasks");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().message;
}

TEST(HttpClient, SilentServerIsDeadlineExceeded) {
  // A listening socket that is never accepted: the connection completes (backlog), no answer.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto c =
      HttpClient::Create({.base_url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)),
                          .timeout = std::chrono::milliseconds(200)});
  ASSERT_TRUE(c.has_value());
  const auto start = std::chrono::steady_clock::now();
  auto r = c->Get("/tasks");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  close(fd);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().message;
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

}  // namespace
}  // namespace vectorize::cli
