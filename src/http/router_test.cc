#include "http/router.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <stdexcept>
#include <string>

namespace vectorize::http {
namespace {

Request Make(std::string method, std::string path) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  return request;
}

// A handler that answers with the pattern it was registered under, so a test sees which route won.
Handler Named(std::string name) {
  return [name](Request&) { return Response::Text(200, name); };
}

std::string HeaderOf(const Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "<absent>";
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/tasks", Named("list"));
    router_.Add("POST", "/tasks", Named("create"));
    router_.Add("GET", "/tasks/{id}", Named("get"));
    router_.Add("DELETE", "/tasks/{id}", Named("delete"));
    router_.Add("GET", "/tasks/stats", Named("stats"));
    router_.Add("POST", "/tasks/{id}/cancel", Named("cancel"));
    router_.Add("GET", "/models/{tag}/files/{file}", Named("file"));
    router_.Add("GET", "/", Named("root"));
  }
  Router router_;
};

TEST_F(RouterTest, MatchesLiteralRoute) {
  Request request = Make("GET", "/tasks");
  const Response response = router_.Dispatch(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "list");
  EXPECT_EQ(request.route, "/tasks");
  EXPECT_TRUE(request.path_params.empty());
}

TEST(RouterBlockingTest, BlockingAndUploadRoutesAreBlocking) {
  Router router;
  router.Add("GET", "/tasks", [](Request&) { return Response::Empty(204); });
  router.AddBlocking("POST", "/embeddings", [](Request&) { return Response::Empty(204); });
  router.AddBlocking("GET", "/slow/{id}", [](Request&) { return Response::Empty(204); });
  router.AddUpload("POST", "/datasets", [](Request&) { return Response::Empty(204); });
  EXPECT_EQ(nullptr, router.BlockingRoute(Make("GET", "/tasks")));
  EXPECT_NE(nullptr, router.BlockingRoute(Make("POST", "/embeddings")));
  EXPECT_NE(nullptr, router.BlockingRoute(Make("POST", "/embeddings/")));
  const std::string* slow = router.BlockingRoute(Make("HEAD", "/slow/7"));  // the GET route
  ASSERT_NE(slow, nullptr);
  EXPECT_EQ(*slow, "/slow/{id}");
  EXPECT_NE(nullptr, router.BlockingRoute(Make("POST", "/datasets")));
  EXPECT_EQ(nullptr, router.BlockingRoute(Make("GET", "/embeddings")));  // 405, answered inline
  EXPECT_EQ(nullptr, router.BlockingRoute(Make("GET", "/nowhere")));
}

TEST_F(RouterTest, SelectsByMethod) {
  Request request = Make("POST", "/tasks");
  EXPECT_EQ(router_.Dispatch(request).body, "create");
}

TEST_F(RouterTest, CapturesSegments) {
  Request request = Make("GET", "/models/bert-base/files/config.json");
  const Response response = router_.Dispatch(request);
  EXPECT_EQ(response.body, "file");
  EXPECT_EQ(request.route, "/models/{tag}/files/{file}");
  EXPECT_EQ(request.PathParam("tag"), "bert-base");
  EXPECT_EQ(request.PathParam("file"), "config.json");
  EXPECT_EQ(request.PathParam("nope"), "");
}

TEST_F(RouterTest, LiteralBeatsCaptureRegardlessOfOrder) {
  Request stats = Make("GET", "/tasks/stats");
  EXPECT_EQ(router_.Dispatch(stats).body, "stats");
  EXPECT_EQ(stats.route, "/tasks/stats");
  EXPECT_TRUE(stats.path_params.empty());

  Request other = Make("GET", "/tasks/42");
  EXPECT_EQ(router_.Dispatch(other).body, "get");
  EXPECT_EQ(other.PathParam("id"), "42");
}

TEST_F(RouterTest, CaptureWithSuffix) {
  Request request = Make("POST", "/tasks/abc/cancel");
  EXPECT_EQ(router_.Dispatch(request).body, "cancel");
  EXPECT_EQ(request.PathParam("id"), "abc");
}

TEST_F(RouterTest, TrailingSlashMatches) {
  Request request = Make("GET", "/tasks/");
  EXPECT_EQ(router_.Dispatch(request).body, "list");
  Request root = Make("GET", "/");
  EXPECT_EQ(router_.Dispatch(root).body, "root");
}

TEST_F(RouterTest, UnknownPathIs404Json) {
  Request request = Make("GET", "/x");
  const Response response = router_.Dispatch(request);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(boost::json::parse(response.body),
            boost::json::parse(R"({"code":"NOT_FOUND","message":"No route for GET /x"})"));
  EXPECT_EQ(request.route, "");
}

TEST_F(RouterTest, EmptyCaptureDoesNotMatch) {
  Request request = Make("POST", "/tasks//cancel");
  EXPECT_EQ(router_.Dispatch(request).status, 404);
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  Request request = Make("PUT", "/tasks");
  const Response response = router_.Dispatch(request);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(HeaderOf(response, "Allow"), "GET, HEAD, POST");
  const auto body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("code"), "METHOD_NOT_ALLOWED");
  EXPECT_TRUE(body.at("message").is_string());
}

TEST_F(RouterTest, AllowListsEveryMethodOfMatchingPatterns) {
  Request request = Make("PATCH", "/tasks/7");
  const Response response = router_.Dispatch(request);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(HeaderOf(response, "Allow"), "DELETE, GET, HEAD");
}

TEST_F(RouterTest, MethodMatchOnCaptureBeatsLiteralWithOtherMethod) {
  // "/tasks/stats" only has GET; DELETE falls to "/tasks/{id}" rather than 405.
  Request request = Make("DELETE", "/tasks/stats");
  const Response response = router_.Dispatch(request);
  EXPECT_EQ(response.body, "delete");
  EXPECT_EQ(request.PathParam("id"), "stats");
}

TEST_F(RouterTest, HeadFallsBackToGet) {
  Request request = Make("HEAD", "/tasks/stats");
  EXPECT_EQ(router_.Dispatch(request).body, "stats");
  EXPECT_EQ(request.route, "/tasks/stats");
}

TEST_F(RouterTest, HandlerExceptionIs500WithGenericMessage) {
  router_.Add("GET", "/boom",
              [](Request&) -> Response { throw std::runtime_error("secret database detail"); });
  Request request = Make("GET", "/boom");
  const Response response = router_.Dispatch(request);
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(boost::json::parse(response.body),
            boost::json::parse(R"({"code":"SERVER_ERROR","message":"internal server error"})"));
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
}

TEST_F(RouterTest, DispatchResetsParamsFromEarlierUse) {
  Request request = Make("GET", "/tasks/1");
  router_.Dispatch(request);
  request.path = "/tasks/2";
  router_.Dispatch(request);
  ASSERT_EQ(request.path_params.size(), 1u);
  EXPECT_EQ(request.PathParam("id"), "2");
}

TEST_F(RouterTest, RoutesListsEveryRegistration) {
  const auto routes = router_.Routes();
  ASSERT_EQ(routes.size(), 8u);
  EXPECT_EQ(routes[0].method, "GET");
  EXPECT_EQ(routes[0].pattern, "/tasks");
  EXPECT_EQ(routes[5].method, "POST");
  EXPECT_EQ(routes[5].pattern, "/tasks/{id}/cancel");
}

TEST(RouterAddTest, RejectsMalformedAndDuplicatePatterns) {
  Router router;
  EXPECT_THROW(router.Add("GET", "tasks", Named("x")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/tasks/{id", Named("x")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/a//b", Named("x")), std::invalid_argument);
  router.Add("GET", "/tasks/{id}", Named("x"));
  EXPECT_THROW(router.Add("GET", "/tasks/{other}", Named("y")), std::invalid_argument);
  EXPECT_NO_THROW(router.Add("DELETE", "/tasks/{id}", Named("z")));
}

TEST(RequestTest, HeaderIsCaseInsensitiveAndFirstWins) {
  Request request;
  request.headers = {{"content-type", "text/csv"}, {"x-dup", "1"}, {"x-dup", "2"}};
  EXPECT_EQ(request.Header("Content-Type"), "text/csv");
  EXPECT_EQ(request.Header("CONTENT-TYPE"), "text/csv");
  EXPECT_EQ(request.Header("x-dup"), "1");
  EXPECT_EQ(request.Header("missing"), std::nullopt);
}

TEST(RequestTest, QueryAllKeepsOrderOfRepeatedKeys) {
  Request request;
  request.query = {{"tag", "a"}, {"limit", "5"}, {"tag", "b"}, {"tag", ""}};
  EXPECT_EQ(request.QueryAll("tag"), (std::vector<std::string_view>{"a", "b", ""}));
  EXPECT_EQ(request.QueryAll("limit"), (std::vector<std::string_view>{"5"}));
  EXPECT_TRUE(request.QueryAll("none").empty());
}

}  // namespace
}  // namespace vectorize::http

namespace vectorize::http {
namespace {

class RouterAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/tasks", [](Request&) { return Response::Text(200, "list"); });
    router_.Add("GET", "/health", [](Request&) { return Response::Text(200, "ok"); });
    router_.Add("POST", "/health", [](Request&) { return Response::Text(200, "post"); });
    router_.RequireApiKeys({"key-one", "key-two"}, {"/health"});
  }
  Response Send(std::string method, std::string path,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.headers = std::move(headers);
    return router_.Dispatch(r);
  }
  Router router_;
};

TEST_F(RouterAuthTest, MissingOrWrongKeyIs401Json) {
  for (auto headers : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {},
           {{"authorization", "Bearer nope"}},
           {{"x-api-key", "key-one "}},
           {{"authorization", "Basic key-one"}},
           {{"authorization", "Bearer "}}}) {
    Response r = Send("GET", "/tasks", headers);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(boost::json::parse(r.body).at("code").as_string(), "UNAUTHORIZED");
    bool has_challenge = false;
    for (auto& [k, v] : r.headers) has_challenge |= k == "WWW-Authenticate" && v == "Bearer";
    EXPECT_TRUE(has_challenge);
  }
  // Unknown routes do not reveal themselves to anonymous callers.
  EXPECT_EQ(Send("GET", "/secret").status, 401);
}

TEST_F(RouterAuthTest, EitherHeaderWithAnyKeyPasses) {
  EXPECT_EQ(Send("GET", "/tasks", {{"authorization", "Bearer key-one"}}).status, 200);
  EXPECT_EQ(Send("GET", "/tasks", {{"authorization", "bearer key-two"}}).status, 200);
  EXPECT_EQ(Send("GET", "/tasks", {{"x-api-key", "key-two"}}).status, 200);
  EXPECT_EQ(Send("GET", "/secret", {{"x-api-key", "key-two"}}).status, 404);
}

TEST_F(RouterAuthTest, HealthStaysOpenForGetOnly) {
  EXPECT_EQ(Send("GET", "/health").status, 200);
  EXPECT_EQ(Send("HEAD", "/health").status, 200);
  EXPECT_EQ(Send("POST", "/health").status, 401);
}

TEST(RouterNoAuthTest, WithoutKeysEverythingIsOpen) {
  Router router;
  router.Add("GET", "/tasks", [](Request&) { return Response::Text(200, "list"); });
  router.RequireApiKeys({}, {"/health"});
  Request r;
  r.method = "GET";
  r.path = "/tasks";
  EXPECT_EQ(router.Dispatch(r).status, 200);
}

}  // namespace
}  // namespace vectorize::http
