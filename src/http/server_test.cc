// Starts a real Server on 127.0.0.1:0 and talks to it over loopback with a Beast client.

#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>

namespace vectorize::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

using ClientResponse = bhttp::response<bhttp::string_body>;

// A blocking client connection with a deadline on every operation, so a broken server fails the
// test instead of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port) : stream_(ioc_) {
    stream_.expires_after(5s);
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  ClientResponse Send(bhttp::verb method, std::string target, std::string body = {},
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    bhttp::request<bhttp::string_body> request{method, target, 11};
    request.set(bhttp::field::host, "127.0.0.1");
    for (auto& [name, value] : headers) request.set(name, value);
    request.body() = std::move(body);
    request.prepare_payload();
    stream_.expires_after(5s);
    bhttp::write(stream_, request);
    return Read(method == bhttp::verb::head);
  }

  void WriteRaw(std::string_view bytes) {
    stream_.expires_after(5s);
    asio::write(stream_, asio::buffer(bytes.data(), bytes.size()));
  }

  ClientResponse Read(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head);
    stream_.expires_after(5s);
    bhttp::read(stream_, buffer_, parser);
    return parser.release();
  }

  // True when the server closed the connection (EOF) within the deadline.
  bool SeesEof(std::chrono::seconds deadline = 5s) {
    stream_.expires_after(deadline);
    char byte;
    beast::error_code ec;
    stream_.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

boost::json::value Json(const ClientResponse& response) {
  return boost::json::parse(response.body());
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/echo/{name}", [](Request& request) {
      boost::json::array query;
      for (const auto& [key, value] : request.query) query.push_back({key, value});
      return Response::Json(
          200, boost::json::object{{"path", request.path},
                                   {"route", request.route},
                                   {"name", request.PathParam("name")},
                                   {"query", std::move(query)},
                                   {"x_test", request.Header("X-Test").value_or("<none>")},
                                   {"remote", request.remote_address}});
    });
    router_.Add("POST", "/echo/{name}", [](Request& request) {
      return Response::Text(200, request.body, "application/octet-stream");
    });
    router_.Add("GET", "/tasks", [](Request&) { return Response::Text(200, "tasks"); });
    router_.Add("GET", "/", [](Request&) { return Response::Text(200, "root"); });
    router_.Add("DELETE", "/tasks/{id}",
                [](Request&) { return Response::Empty(204).WithHeader("X-Deleted", "yes"); });
    router_.Add("GET", "/boom", [](Request&) -> Response { throw std::runtime_error("boom"); });
    router_.Add("GET", "/slow", [this](Request&) {
      slow_started_.set_value();
      std::this_thread::sleep_for(300ms);
      return Response::Text(200, "slow done");
    });
    // Waits until the test releases it (or 5 s), like an embeddings request waiting for its
    // forward pass.
    router_.AddBlocking("POST", "/wait/{name}", [this](Request& request) {
      waiting_.fetch_add(1);
      std::unique_lock lock(release_mu_);
      release_cv_.wait_for(lock, 5s, [&] { return released_; });
      return Response::Text(200, "waited " + std::string(request.PathParam("name")));
    });
  }

  void Release() {
    {
      std::lock_guard lock(release_mu_);
      released_ = true;
    }
    release_cv_.notify_all();
  }

  // Every test ends with a Stop that must not wait out the grace period: the client connections
  // are closed or idle by then.
  void TearDown() override {
    if (!server_) return;
    const auto start = std::chrono::steady_clock::now();
    server_->Stop();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  }

  void StartServer(ServerOptions options = {}, bool access_log = false) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.access_log = access_log;
    server_ = std::make_unique<Server>(options, router_, metrics_);
    ASSERT_TRUE(server_->Start().has_value());
    ASSERT_NE(server_->port(), 0);
  }

  // Samples are recorded after the response is written; Stop waits for that.
  std::string MetricsAfterStop() {
    server_->Stop();
    std::string out;
    metrics_.Render(out);
    return out;
  }

  Router router_;
  HttpMetrics metrics_;
  std::unique_ptr<Server> server_;
  std::promise<void> slow_started_;
  std::atomic<int> waiting_ = 0;
  std::mutex release_mu_;
  std::condition_variable release_cv_;
  bool released_ = false;
};

TEST_F(ServerTest, GetWithDecodedPathAndRepeatedQuery) {
  StartServer({}, /*access_log=*/true);
  Client client(server_->port());
  const auto response = client.Send(bhttp::verb::get, "/echo/a%20b?tag=x&tag=y%2Fz&q=a+b%20c&flag",
                                    {}, {{"X-Test", "hello"}});
  ASSERT_EQ(response.result_int(), 200);
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  EXPECT_EQ(response[bhttp::field::content_length], std::to_string(response.body().size()));
  EXPECT_EQ(response[bhttp::field::server], "vectorize");
  const auto body = Json(response);
  EXPECT_EQ(body.at("path"), "/echo/a b");
  EXPECT_EQ(body.at("route"), "/echo/{name}");
  EXPECT_EQ(body.at("name"), "a b");
  EXPECT_EQ(body.at("query"),
            boost::json::parse(R"([["tag","x"],["tag","y/z"],["q","a b c"],["flag",""]])"));
  EXPECT_EQ(body.at("x_test"), "hello");
  EXPECT_EQ(body.at("remote"), "127.0.0.1");
}

TEST_F(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  StartServer();
  Client client(server_->port());
  const auto first = client.Send(bhttp::verb::post, "/echo/x", "payload-1");
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_EQ(first.body(), "payload-1");
  EXPECT_TRUE(first.keep_alive());
  const auto second = client.Send(bhttp::verb::get, "/tasks");
  EXPECT_EQ(second.result_int(), 200);
  EXPECT_EQ(second.body(), "tasks");
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Client client(server_->port());
  client.WriteRaw(
      "GET /tasks HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.Read().body(), "tasks");
  EXPECT_EQ(client.Read().body(), "root");
}

TEST_F(ServerTest, ApiPrefixIsStripped) {
  StartServer();
  Client client(server_->port());
  EXPECT_EQ(client.Send(bhttp::verb::get, "/v1/api/tasks").body(), "tasks");
  EXPECT_EQ(client.Send(bhttp::verb::get, "/v1/api/tasks/").body(), "tasks");
  EXPECT_EQ(client.Send(bhttp::verb::get, "/v1/api").body(), "root");
  EXPECT_EQ(Json(client.Send(bhttp::verb::get, "/v1/api/echo/n")).at("path"), "/echo/n");
  EXPECT_EQ(client.Send(bhttp::verb::get, "/v1/apitasks").result_int(), 404);
}

TEST_F(ServerTest, UnknownRouteIs404Json) {
  StartServer();
  Client client(server_->port());
  const auto response = client.Send(bhttp::verb::get, "/nope");
  EXPECT_EQ(response.result_int(), 404);
  EXPECT_EQ(response[bhttp::field::content_type], "application/json");
  EXPECT_EQ(Json(response),
            boost::json::parse(R"({"code":"NOT_FOUND","message":"No route for GET /nope"})"));
}

TEST_F(ServerTest, WrongMethodIs405WithAllow) {
  StartServer();
  Client client(server_->port());
  const auto response = client.Send(bhttp::verb::put, "/v1/api/tasks", "{}");
  EXPECT_EQ(response.result_int(), 405);
  EXPECT_EQ(response[bhttp::field::allow], "GET, HEAD");
  EXPECT_EQ(Json(response).at("code"), "METHOD_NOT_ALLOWED");
  // The connection stays usable after an error answer.
  EXPECT_EQ(client.Send(bhttp::verb::get, "/tasks").result_int(), 200);
}

TEST_F(ServerTest, NoContentHasNoBodyAndKeepsExtraHeaders) {
  StartServer();
  Client client(server_->port());
  const auto response = client.Send(bhttp::verb::delete_, "/tasks/9");
  EXPECT_EQ(response.result_int(), 204);
  EXPECT_EQ(response["X-Deleted"], "yes");
  EXPECT_TRUE(response.body().empty());
  EXPECT_EQ(client.Send(bhttp::verb::get, "/tasks").body(), "tasks");
}

TEST_F(ServerTest, HeadHasGetHeadersWithoutBody) {
  StartServer();
  Client client(server_->port());
  const auto response = client.Send(bhttp::verb::head, "/tasks");
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response[bhttp::field::content_length], "5");
  EXPECT_TRUE(response.body().empty());
  EXPECT_EQ(client.Send(bhttp::verb::get, "/tasks").body(), "tasks");
}

TEST_F(ServerTest, OversizedBodyIs413) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  Client client(server_->port());
  const auto response = client.Send(bhttp::verb::post, "/echo/x", std::string(4096, 'a'));
  EXPECT_EQ(response.result_int(), 413);
  const auto body = Json(response);
  EXPECT_EQ(body.at("code"), "PAYLOAD_TOO_LARGE");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.SeesEof());
}

TEST_F(ServerTest, OversizedChunkedBodyIs413) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  Client client(server_->port());
  std::string raw = "POST /echo/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) raw += "200\r\n" + std::string(512, 'b') + "\r\n";
  raw += "0\r\n\r\n";
  client.WriteRaw(raw);
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(Json(response).at("code"), "PAYLOAD_TOO_LARGE");
}

TEST_F(ServerTest, ExpectContinueTooLargeIsRefusedBeforeTheBody) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(options);
  Client client(server_->port());
  client.WriteRaw(
      "POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
      "Expect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 413);
}

TEST_F(ServerTest, ExpectContinueWithinLimitGets100ThenAnswer) {
  StartServer();
  Client client(server_->port());
  client.WriteRaw(
      "POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
      "Expect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 100);
  client.WriteRaw("hello");
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "hello");
}

TEST_F(ServerTest, MalformedPercentEncodingIs400Json) {
  StartServer();
  Client client(server_->port());
  const auto response = client.Send(bhttp::verb::get, "/echo/%zz");
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_EQ(Json(response).at("code"), "BAD_REQUEST");
}

// A bad escape in the query (the path being fine) is a bad parameter: 422 naming it, like any
// other invalid parameter value.
TEST_F(ServerTest, MalformedPercentEncodingInTheQueryIs422NamingTheParameter) {
  StartServer();
  Client client(server_->port());
  for (const auto& [target, name] :
       std::vector<std::pair<std::string, std::string>>{{"/echo/a?tag=%zz", "tag"},
                                                        {"/echo/a?limit=5&tag=50%", "tag"},
                                                        {"/echo/a?x=1&%zz=2", ""}}) {
    const auto response = client.Send(bhttp::verb::get, target);
    EXPECT_EQ(response.result_int(), 422) << target;
    const auto body = Json(response);
    const auto& loc = body.at("detail").at(0).at("loc").as_array();
    ASSERT_EQ(loc.size(), 2u) << target;
    EXPECT_EQ(loc.at(0), "query") << target;
    EXPECT_EQ(loc.at(1), name.c_str()) << target;
  }
  // A bad escape in the path stays a 400.
  EXPECT_EQ(client.Send(bhttp::verb::get, "/echo/%zz?tag=a").result_int(), 400);
}

TEST_F(ServerTest, GarbageRequestIs400) {
  StartServer();
  Client client(server_->port());
  client.WriteRaw("NOT A REQUEST\r\n\r\n");
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_EQ(Json(response).at("code"), "BAD_REQUEST");
}

TEST_F(ServerTest, OversizedHeadersAre431) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  StartServer(options);
  Client client(server_->port());
  const auto response =
      client.Send(bhttp::verb::get, "/tasks", {}, {{"X-Big", std::string(4096, 'h')}});
  EXPECT_EQ(response.result_int(), 431);
}

TEST_F(ServerTest, HandlerExceptionIs500) {
  StartServer();
  Client client(server_->port());
  const auto response = client.Send(bhttp::verb::get, "/boom");
  EXPECT_EQ(response.result_int(), 500);
  EXPECT_EQ(Json(response),
            boost::json::parse(R"({"code":"SERVER_ERROR","message":"internal server error"})"));
}

TEST_F(ServerTest, RecordsMetricsByRoutePattern) {
  StartServer();
  {
    Client client(server_->port());
    client.Send(bhttp::verb::get, "/echo/one");
    client.Send(bhttp::verb::get, "/echo/two");
    client.Send(bhttp::verb::get, "/no/such/path");
    client.Send(bhttp::verb::get, "/echo/%zz");
  }
  const std::string out = MetricsAfterStop();
  EXPECT_NE(
      out.find(
          R"(vectorize_http_requests_total{method="GET",route="/echo/{name}",status="200"} 2)"),
      std::string::npos)
      << out;
  EXPECT_NE(
      out.find(R"(vectorize_http_requests_total{method="GET",route="<unmatched>",status="404"} 1)"),
      std::string::npos);
  EXPECT_NE(
      out.find(R"(vectorize_http_requests_total{method="GET",route="<unmatched>",status="400"} 1)"),
      std::string::npos);
  EXPECT_EQ(out.find("/no/such/path"), std::string::npos);
}

TEST_F(ServerTest, StopClosesIdleConnectionsPromptly) {
  StartServer();
  Client idle_fresh(server_->port());  // connected, never sent anything
  Client idle_used(server_->port());   // keep-alive connection between requests
  ASSERT_EQ(idle_used.Send(bhttp::verb::get, "/tasks").result_int(), 200);

  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_TRUE(idle_fresh.SeesEof());
  EXPECT_TRUE(idle_used.SeesEof());
  server_->Stop();  // idempotent
}

TEST_F(ServerTest, StopLetsInFlightRequestFinish) {
  StartServer();
  auto future = std::async(std::launch::async, [port = server_->port()] {
    Client client(port);
    return client.Send(bhttp::verb::get, "/slow");
  });
  slow_started_.get_future().wait();
  server_->Stop();
  const auto response = future.get();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "slow done");
  EXPECT_FALSE(response.keep_alive());
}

// Blocking routes run on the blocking threads: with one I/O thread and eight requests waiting in
// their handlers, other requests are still answered at once, and the waiting ones all complete.
TEST_F(ServerTest, BlockingHandlersDoNotHoldUpTheIoThreads) {
  ServerOptions options;
  options.threads = 1;
  options.blocking_threads = 8;
  StartServer(options);
  std::vector<std::future<ClientResponse>> waiting;
  for (int i = 0; i < 8; ++i) {
    waiting.push_back(std::async(std::launch::async, [port = server_->port(), i] {
      Client client(port);
      return client.Send(bhttp::verb::post, "/wait/" + std::to_string(i));
    }));
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (waiting_.load() < 8 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(waiting_.load(), 8);
  Client other(server_->port());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(other.Send(bhttp::verb::get, "/tasks").body(), "tasks");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);  // not after the 5 s wait
  Release();
  for (int i = 0; i < 8; ++i) {
    const auto response = waiting[static_cast<std::size_t>(i)].get();
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(response.body(), "waited " + std::to_string(i));
  }
}

// One blocking thread and room for one waiting request: of two more arriving while the first
// runs, one waits and succeeds, the other is answered 429 at once.
TEST_F(ServerTest, BlockingRequestsBeyondTheWaitingLimitAre429) {
  ServerOptions options;
  options.blocking_threads = 1;
  options.max_blocking_waiting = 1;
  StartServer(options);
  auto send = [port = server_->port()](std::string name) {
    return std::async(std::launch::async, [port, name] {
      Client client(port);
      return client.Send(bhttp::verb::post, "/wait/" + name);
    });
  };
  auto first = send("first");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (waiting_.load() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(waiting_.load(), 1);
  auto second = send("second");
  auto third = send("third");
  // The refused one answers while the first still waits to be released.
  const auto ready = [](auto& f) { return f.wait_for(0s) == std::future_status::ready; };
  while (!ready(second) && !ready(third) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(ready(second) || ready(third));
  EXPECT_EQ(waiting_.load(), 1);
  Release();
  const auto a = second.get();
  const auto b = third.get();
  EXPECT_EQ(first.get().result_int(), 200);
  const auto& refused = a.result_int() == 429 ? a : b;
  const auto& served = a.result_int() == 429 ? b : a;
  EXPECT_EQ(refused.result_int(), 429);
  EXPECT_EQ(refused[bhttp::field::retry_after], "1");
  EXPECT_EQ(Json(refused).at("code"), "OVERLOADED");
  EXPECT_EQ(served.result_int(), 200);
  // The refusal is counted under the route it was for (no handler ran).
  EXPECT_NE(
      MetricsAfterStop().find(
          R"(vectorize_http_requests_total{method="POST",route="/wait/{name}",status="429"} 1)"),
      std::string::npos);
}

TEST_F(ServerTest, StopLetsABlockingRequestFinish) {
  StartServer();
  auto future = std::async(std::launch::async, [port = server_->port()] {
    Client client(port);
    return client.Send(bhttp::verb::post, "/wait/x");
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (waiting_.load() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(waiting_.load(), 1);
  std::thread releaser([this] {
    std::this_thread::sleep_for(200ms);
    Release();
  });
  server_->Stop();
  releaser.join();
  const auto response = future.get();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "waited x");
  EXPECT_FALSE(response.keep_alive());
}

TEST_F(ServerTest, RefusesConnectionsAfterStop) {
  StartServer();
  const auto port = server_->port();
  server_->Stop();
  asio::io_context ioc;
  tcp::socket socket(ioc);
  beast::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_EQ(ec, asio::error::connection_refused);
}

TEST_F(ServerTest, BindingABusyPortIsUnavailable) {
  StartServer();
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = server_->port();
  Server second(options, router_, metrics_);
  const auto status = second.Start();
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
}

TEST(ServerLifecycle, StopWithoutStartIsHarmless) {
  Router router;
  HttpMetrics metrics;
  Server server(ServerOptions{}, router, metrics);
  server.Stop();
}

}  // namespace
}  // namespace vectorize::http
