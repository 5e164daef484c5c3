#include "http/response.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <string_view>

#include "common/utf8.h"
#include "http/json_text.h"

namespace vectorize::http {
namespace {

struct Mapping {
  int status;
  std::string_view code;
};

// The one table from canonical code to HTTP status and public code (STYLE §2).
Mapping MapCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return {400, "BAD_REQUEST"};
    case ErrorCode::kNotFound: return {404, "NOT_FOUND"};
    case ErrorCode::kAlreadyExists: return {409, "CONFLICT"};
    case ErrorCode::kFailedPrecondition: return {409, "CONFLICT"};
    case ErrorCode::kAborted: return {409, "CONFLICT"};
    case ErrorCode::kResourceExhausted: return {429, "OVERLOADED"};
    case ErrorCode::kUnavailable: return {503, "UNAVAILABLE"};
    case ErrorCode::kDeadlineExceeded: return {504, "TIMEOUT"};
    case ErrorCode::kCancelled: return {499, "CANCELLED"};
    case ErrorCode::kInternal: return {500, "SERVER_ERROR"};
  }
  return {500, "SERVER_ERROR"};
}

Response ValidationBody(const std::vector<FieldError>& fields) {
  boost::json::array detail;
  for (const FieldError& field : fields) {
    boost::json::array loc;
    for (const std::string& part : field.loc) {
      const bool index =
          !loc.empty() && !part.empty() && part.size() <= 9 &&
          std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (index) {
        loc.emplace_back(std::stoll(part));
      } else {
        loc.emplace_back(SanitizeUtf8(part, 200));
      }
    }
    detail.emplace_back(boost::json::object{
        {"loc", std::move(loc)}, {"msg", SanitizeUtf8(field.msg, 1000)}, {"type", field.type}});
  }
  return Response::Json(422, boost::json::object{{"detail", std::move(detail)}});
}

}  // namespace

Response Response::Json(int status, const boost::json::value& body) {
  Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = SerializeJson(body);
  return response;
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response response;
  response.status = status;
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  return response;
}

Response Response::Empty(int status) {
  Response response;
  response.status = status;
  response.content_type.clear();
  return response;
}

Response ErrorResponse(const Error& error) {
  if (!error.fields.empty()) return ValidationBody(error.fields);
  const Mapping mapping = MapCode(error.code);
  std::string_view message = error.message;
  if (error.code == ErrorCode::kInternal) {
    // Internal detail (SQL, paths, library messages) goes to the log, never to the client.
    spdlog::error("internal error: {}", error.message);
    message = "internal server error";
  }
  const std::string_view code = error.public_code.empty() ? mapping.code : error.public_code;
  // Messages may echo request input (a path, a value): JSON output must stay valid UTF-8.
  Response response =
      Response::Json(mapping.status,
                     boost::json::object{{"code", code}, {"message", SanitizeUtf8(message, 1000)}});
  // Overload is momentary (a full queue drains in well under a second): tell clients and their
  // retry libraries when to come back (RFC 9110 §10.2.3).
  if (mapping.status == 429) response.WithHeader("Retry-After", "1");
  return response;
}

Response ValidationError(std::vector<FieldError> fields) { return ValidationBody(fields); }

}  // namespace vectorize::http
