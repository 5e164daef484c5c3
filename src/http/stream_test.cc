// Streaming responses (event_stream.h) of the real Server over loopback: the head, writes made
// after the handler returned, a client that goes away, a client too slow for the bound, and Stop.

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "http/server.h"

namespace vectorize::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/stream", [this](Request&) {
      Response r;
      r.content_type = "text/event-stream";
      r.stream_buffer_limit = limit_;
      r.WithHeader("X-Stream", "yes");
      r.stream = [this](std::shared_ptr<StreamSink> sink) {
        sink->Write(": hello\n\n");
        sinks_.set_value(std::move(sink));
      };
      return r;
    });
    server_ =
        std::make_unique<Server>(ServerOptions{.port = 0, .access_log = false}, router_, metrics_);
    ASSERT_TRUE(server_->Start().has_value());
  }
  void TearDown() override { server_->Stop(); }

  // Connects and sends GET /stream; returns the socket.
  tcp::socket Open(int rcvbuf = 0) {
    tcp::socket s(ioc_);
    s.open(tcp::v4());
    if (rcvbuf) s.set_option(asio::socket_base::receive_buffer_size(rcvbuf));
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    const std::string req = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
    asio::write(s, asio::buffer(req));
    return s;
  }
  std::shared_ptr<StreamSink> Sink() {
    auto f = sinks_.get_future();
    EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
    return f.get();
  }
  // Reads until `needle` has arrived (or the connection ends); returns everything read.
  std::string ReadUntil(tcp::socket& s, std::string_view needle) {
    std::string got;
    char buf[4096];
    while (got.find(needle) == std::string::npos) {
      boost::system::error_code ec;
      const std::size_t n = s.read_some(asio::buffer(buf), ec);
      if (ec) break;
      got.append(buf, n);
    }
    return got;
  }

  std::size_t limit_ = kDefaultStreamBufferLimit;
  asio::io_context ioc_;
  Router router_;
  HttpMetrics metrics_;
  std::unique_ptr<Server> server_;
  std::promise<std::shared_ptr<StreamSink>> sinks_;
};

bool Eventually(const std::function<bool()>& f) {
  for (int i = 0; i < 500; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST_F(StreamTest, HeadThenWhatTheApplicationWritesLater) {
  tcp::socket s = Open();
  auto sink = Sink();
  std::string got = ReadUntil(s, ": hello\n\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
  EXPECT_NE(got.find("Content-Type: text/event-stream\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("Cache-Control: no-cache\r\n"), std::string::npos);
  EXPECT_NE(got.find("X-Stream: yes\r\n"), std::string::npos);
  EXPECT_EQ(got.find("Content-Length"), std::string::npos);
  EXPECT_TRUE(sink->IsOpen());
  std::thread writer([sink] { EXPECT_TRUE(sink->Write("data: from another thread\n\n")); });
  writer.join();
  got = ReadUntil(s, "another thread\n\n");
  EXPECT_NE(got.find("data: from another thread"), std::string::npos);
  // The client goes away: the sink notices, and writes fail.
  s.close();
  EXPECT_TRUE(Eventually([&] { return !sink->IsOpen(); }));
  EXPECT_FALSE(sink->Write("late\n\n"));
}

TEST_F(StreamTest, ABurstWithinTheHardLimitReachesAClientThatReads) {
  limit_ = 64 << 10;
  tcp::socket s = Open();
  auto sink = Sink();
  const std::string chunk(4000, 'x');
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(sink->Write("data: " + chunk + "\n\n")) << i;
  ASSERT_TRUE(sink->Write("data: end\n\n"));  // 200 KB queued at once: over the limit, no stall
  const std::string got = ReadUntil(s, "data: end\n\n");
  EXPECT_NE(got.find("data: end"), std::string::npos);
  EXPECT_TRUE(sink->IsOpen());
}

TEST_F(StreamTest, AClientThatNeverReadsIsDroppedOnceItStalls) {
  limit_ = 64 << 10;
  tcp::socket s = Open(/*rcvbuf=*/4096);
  auto sink = Sink();
  const std::string chunk(4096, 'x');
  // Paced like a busy event feed (~4 MB/s): the kernel's buffers fill first, then the unsent
  // bytes pass the limit while the socket takes nothing, and the server drops the client.
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t accepted = 0;
  while (sink->Write("data: " + chunk + "\n\n")) {
    accepted += chunk.size();
    ASSERT_LT(std::chrono::steady_clock::now() - t0, 60s) << "never dropped";
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_FALSE(sink->IsOpen());
  EXPECT_GT(accepted, limit_) << "dropped before the limit was reached";
  // The server still serves others.
  std::promise<std::shared_ptr<StreamSink>> fresh;
  sinks_.swap(fresh);
  tcp::socket t = Open();
  auto other = Sink();
  EXPECT_NE(ReadUntil(t, ": hello\n\n").find(": hello"), std::string::npos);
  EXPECT_TRUE(other->Write("data: ok\n\n"));
}

TEST_F(StreamTest, StopEndsOpenStreamsAtOnce) {
  tcp::socket s = Open();
  auto sink = Sink();
  ReadUntil(s, ": hello\n\n");
  const auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "Stop waited for an endless stream";
  char byte;
  boost::system::error_code ec;
  s.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_FALSE(sink->Write("after stop\n\n"));
}

}  // namespace
}  // namespace vectorize::http
