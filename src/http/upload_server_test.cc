// Upload routes over loopback: bodies spooled to temp files, 413 early and late, and nothing left
// behind when a client drops the connection mid-body.

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "http/server.h"

namespace vectorize::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : stream_(ioc_) {
    stream_.expires_after(10s);
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void Write(std::string_view bytes) {
    stream_.expires_after(10s);
    asio::write(stream_, asio::buffer(bytes.data(), bytes.size()));
  }
  bhttp::response<bhttp::string_body> Read() {
    bhttp::response_parser<bhttp::string_body> parser;
    stream_.expires_after(10s);
    bhttp::read(stream_, buffer_, parser);
    return parser.release();
  }
  void Close() {
    beast::error_code ec;
    stream_.socket().close(ec);
  }

 private:
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

std::string Head(std::string_view method, std::string_view target, std::string_view extra) {
  return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         std::string(extra) + "\r\n";
}

class UploadServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vz-upload-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    router_.AddUpload("POST", "/upload", [this](Request& request) {
      seen_file_ = request.body_file;
      std::ifstream in(request.body_file, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string content = ss.str();
      const bool in_dir = fs::path(request.body_file).parent_path() == dir_;
      return Response::Text(200, std::to_string(content.size()) + " " +
                                     std::to_string(request.body_file_size) + " " +
                                     (request.body.empty() ? "mem-empty" : "mem-used") + " " +
                                     (in_dir ? "in-dir" : "elsewhere") + " " +
                                     content.substr(0, 5) + content.substr(content.size() - 5));
    });
    router_.Add("POST", "/json", [](Request& request) {
      return Response::Text(200, std::to_string(request.body.size()) +
                                     (request.body_file.empty() ? " no-file" : " file"));
    });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    fs::remove_all(dir_);
  }

  void StartServer() {
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.access_log = false;
    options.max_body_bytes = 1 << 20;
    options.upload_dir = dir_.string();
    options.max_upload_bytes = 4 << 20;
    server_ = std::make_unique<Server>(options, router_, metrics_);
    ASSERT_TRUE(server_->Start().has_value());
  }

  std::size_t FilesInDir() const {
    if (!fs::exists(dir_)) return 0;
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }
  bool WaitForFiles(std::size_t n, std::chrono::milliseconds timeout = 3000ms) const {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (FilesInDir() == n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return FilesInDir() == n;
  }

  fs::path dir_;
  Router router_;
  HttpMetrics metrics_;
  std::unique_ptr<Server> server_;
  std::string seen_file_;
};

TEST_F(UploadServerTest, LargeBodyIsSpooledToAFileThatIsRemovedAfterwards) {
  StartServer();
  std::string body(3 << 20, 'x');  // over max_body_bytes, under max_upload_bytes
  body.replace(0, 5, "first");
  body.replace(body.size() - 5, 5, "_last");
  RawClient client(server_->port());
  client.Write(
      Head("POST", "/v1/api/upload", "Content-Length: " + std::to_string(body.size()) + "\r\n") +
      body);
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), std::to_string(body.size()) + " " + std::to_string(body.size()) +
                                 " mem-empty in-dir first_last");
  EXPECT_FALSE(seen_file_.empty());
  EXPECT_FALSE(fs::exists(seen_file_));
  EXPECT_EQ(FilesInDir(), 0u);

  // The connection stays usable; a chunked upload works too.
  client.Write(Head("POST", "/upload", "Transfer-Encoding: chunked\r\n") +
               "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  const auto chunked = client.Read();
  EXPECT_EQ(chunked.result_int(), 200);
  EXPECT_EQ(chunked.body(), "11 11 mem-empty in-dir helloworld");
  EXPECT_EQ(FilesInDir(), 0u);
}

TEST_F(UploadServerTest, OversizeContentLengthIsRefusedBeforeTheBody) {
  StartServer();
  RawClient client(server_->port());
  client.Write(Head("POST", "/upload", "Content-Length: 5000000\r\n"));
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 413);
  EXPECT_NE(response.body().find("PAYLOAD_TOO_LARGE"), std::string::npos);
  EXPECT_NE(response.body().find("4194304"), std::string::npos);
  EXPECT_EQ(FilesInDir(), 0u);
}

TEST_F(UploadServerTest, ChunkedStreamPassingTheLimitIsRefusedAndRemoved) {
  StartServer();
  RawClient client(server_->port());
  client.Write(Head("POST", "/upload", "Transfer-Encoding: chunked\r\n"));
  const std::string chunk(1 << 20, 'y');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  beast::error_code ignored;
  for (int i = 0; i < 5; ++i) {
    try {
      client.Write(std::string(size_line) + chunk + "\r\n");
    } catch (const std::exception&) {
      break;  // the server may close after answering
    }
  }
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 413);
  EXPECT_TRUE(WaitForFiles(0));
}

TEST_F(UploadServerTest, ConnectionDroppedMidBodyLeavesNothingBehind) {
  StartServer();
  {
    RawClient client(server_->port());
    client.Write(Head("POST", "/upload", "Content-Length: 3000000\r\n") +
                 std::string(200'000, 'z'));
    ASSERT_TRUE(WaitForFiles(1)) << "the body is being spooled";
    client.Close();
  }
  EXPECT_TRUE(WaitForFiles(0)) << "the partial temp file is removed";
}

TEST_F(UploadServerTest, OrdinaryRoutesKeepTheirMemoryLimit) {
  StartServer();
  RawClient client(server_->port());
  client.Write(Head("POST", "/json", "Content-Length: 10\r\n") + "0123456789");
  auto response = client.Read();
  EXPECT_EQ(response.body(), "10 no-file");
  RawClient big(server_->port());
  big.Write(Head("POST", "/json", "Content-Length: 2000000\r\n"));
  response = big.Read();
  EXPECT_EQ(response.result_int(), 413);
  EXPECT_NE(response.body().find("1048576"), std::string::npos);
}

TEST_F(UploadServerTest, UnauthenticatedUploadsAreNotSpooled) {
  router_.RequireApiKeys({"secret"}, {});
  StartServer();
  RawClient client(server_->port());
  client.Write(Head("POST", "/upload", "Content-Length: 2000000\r\n"));
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 413) << "held to the in-memory limit";
  EXPECT_EQ(FilesInDir(), 0u);

  RawClient authed(server_->port());
  authed.Write(Head("POST", "/upload", "X-API-Key: secret\r\nContent-Length: 2000000\r\n") +
               std::string(2'000'000, 'k'));
  EXPECT_EQ(authed.Read().result_int(), 200);
}

}  // namespace
}  // namespace vectorize::http
