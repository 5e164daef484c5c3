#pragma once
// What a route handler returns. Value type.

#include <boost/json/value.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "http/event_stream.h"

namespace vectorize::http {

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Location, ETag…)
  std::string body;
  // When set, the response is a stream (see event_stream.h): the server sends the status and
  // headers, then calls this with a sink instead of sending `body`. HEAD gets the headers only.
  StreamStarter stream;
  std::size_t stream_buffer_limit = kDefaultStreamBufferLimit;

  static Response Json(int status, const boost::json::value& body);
  static Response Text(int status, std::string body, std::string content_type = "text/plain");
  static Response Empty(int status);  // e.g. 204, 304

  Response& WithHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// The one mapping from Error to HTTP (STYLE §2). Validation errors (error.fields non-empty) become
// 422 {"detail":[{"loc":[...],"msg":...,"type":...}]}; everything else becomes
// {"code": "NOT_FOUND", "message": "..."} with:
//   invalid_argument 400 BAD_REQUEST · not_found 404 NOT_FOUND · already_exists 409 CONFLICT ·
//   failed_precondition 409 CONFLICT · aborted 409 CONFLICT · resource_exhausted 429 OVERLOADED ·
//   unavailable 503 UNAVAILABLE · deadline_exceeded 504 TIMEOUT · cancelled 499 CANCELLED ·
//   internal 500 SERVER_ERROR (message replaced by a generic one; the detail is logged).
// error.public_code, when set, replaces the code string.
Response ErrorResponse(const Error& error);

// Convenience: 422 {"detail": [...]} with these field errors (e.g. loc = {"query", "limit"}), even
// when the list is empty.
Response ValidationError(std::vector<FieldError> fields);

}  // namespace vectorize::http
