#include "http/response.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace vectorize::http {
namespace {

struct Case {
  Error error;
  int status;
  std::string code;
};

class ErrorResponseTest : public ::testing::TestWithParam<Case> {};

TEST_P(ErrorResponseTest, MapsCodeToStatusAndBody) {
  const Case& c = GetParam();
  const Response response = ErrorResponse(c.error);
  EXPECT_EQ(response.status, c.status);
  EXPECT_EQ(response.content_type, "application/json");
  const auto body = boost::json::parse(response.body);
  EXPECT_EQ(body.at("code"), c.code.c_str());
  EXPECT_EQ(body.at("message"), c.error.message.c_str());
  EXPECT_EQ(body.as_object().size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    AllCodes, ErrorResponseTest,
    ::testing::Values(Case{Error::InvalidArgument("bad limit"), 400, "BAD_REQUEST"},
                      Case{Error::NotFound("Dataset with ID 7 not found"), 404, "NOT_FOUND"},
                      Case{Error::AlreadyExists("exists"), 409, "CONFLICT"},
                      Case{Error::FailedPrecondition("in use"), 409, "CONFLICT"},
                      Case{Error::Aborted("raced"), 409, "CONFLICT"},
                      Case{Error::ResourceExhausted("queue full"), 429, "OVERLOADED"},
                      Case{Error::Unavailable("db down"), 503, "UNAVAILABLE"},
                      Case{Error::DeadlineExceeded("slow"), 504, "TIMEOUT"},
                      Case{Error::Cancelled("cancelled"), 499, "CANCELLED"}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return std::string(ErrorCodeName(info.param.error.code)) + "_" +
             std::to_string(info.param.status);
    });

TEST(ErrorResponse, OverloadTellsWhenToRetry) {
  const Response overloaded = ErrorResponse(Error::ResourceExhausted("queue full"));
  EXPECT_EQ(overloaded.headers,
            (std::vector<std::pair<std::string, std::string>>{{"Retry-After", "1"}}));
  EXPECT_TRUE(ErrorResponse(Error::Unavailable("db down")).headers.empty());
}

TEST(ErrorResponse, InternalHidesMessage) {
  const Response response = ErrorResponse(Error::Internal("SQLITE_CORRUPT at /var/db"));
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(boost::json::parse(response.body),
            boost::json::parse(R"({"code":"SERVER_ERROR","message":"internal server error"})"));
}

TEST(ErrorResponse, PublicCodeOverridesCode) {
  Error error = Error::FailedPrecondition("version 3 is stale");
  error.public_code = "VERSION_MISMATCH";
  const Response response = ErrorResponse(error);
  EXPECT_EQ(response.status, 409);
  EXPECT_EQ(boost::json::parse(response.body),
            boost::json::parse(R"({"code":"VERSION_MISMATCH","message":"version 3 is stale"})"));
}

TEST(ErrorResponse, FieldsGive422Detail) {
  const Response response = ErrorResponse(Error::Validation(
      {FieldError{{"body", "name"}, "Field required", "missing"},
       FieldError{{"query", "limit"}, "Input should be less than or equal to 500"}}));
  EXPECT_EQ(response.status, 422);
  EXPECT_EQ(boost::json::parse(response.body), boost::json::parse(R"({"detail":[
      {"loc":["body","name"],"msg":"Field required","type":"missing"},
      {"loc":["query","limit"],"msg":"Input should be less than or equal to 500",
       "type":"value_error"}]})"));
}

TEST(ValidationError, Is422WithGivenFields) {
  const Response response =
      ValidationError({FieldError{{"query", "offset"}, "must be >= 0", "greater_than_equal"}});
  EXPECT_EQ(response.status, 422);
  EXPECT_EQ(boost::json::parse(response.body), boost::json::parse(R"({"detail":[
      {"loc":["query","offset"],"msg":"must be >= 0","type":"greater_than_equal"}]})"));
}

TEST(Response, JsonTextEmpty) {
  const Response json = Response::Json(201, boost::json::object{{"id", "x"}});
  EXPECT_EQ(json.status, 201);
  EXPECT_EQ(json.content_type, "application/json");
  EXPECT_EQ(json.body, R"({"id":"x"})");

  const Response text = Response::Text(200, "ok", "text/csv");
  EXPECT_EQ(text.content_type, "text/csv");
  EXPECT_EQ(text.body, "ok");
  EXPECT_EQ(Response::Text(200, "ok").content_type, "text/plain");

  Response empty = Response::Empty(204);
  EXPECT_EQ(empty.status, 204);
  EXPECT_TRUE(empty.body.empty());
  EXPECT_TRUE(empty.content_type.empty());
  empty.WithHeader("Location", "/tasks/1").WithHeader("ETag", "\"2\"");
  ASSERT_EQ(empty.headers.size(), 2u);
  EXPECT_EQ(empty.headers[1].second, "\"2\"");
}

}  // namespace
}  // namespace vectorize::http
