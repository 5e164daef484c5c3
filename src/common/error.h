#pragma once
// The one error type of Vectorize: a canonical code plus a message a user can act on.
// Fallible functions return Result<T> (std::expected<T, Error>). Thread safety: value type.

#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vectorize {

// Canonical codes (after abseil's Status). The HTTP layer maps them to statuses in one place;
// the task engine decides retries from them (kUnavailable and kDeadlineExceeded retry).
enum class ErrorCode {
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kAborted,
  kUnavailable,
  kResourceExhausted,
  kCancelled,
  kDeadlineExceeded,
  kInternal,
};

std::string_view ErrorCodeName(ErrorCode code);

// One problem with one input field, in FastAPI's shape: loc = ["query", "limit"]. A part made of
// digits only (after the first) is a list index and is written as a JSON integer, as FastAPI
// does: {"body", "input", "2"} → ["body", "input", 2].
struct FieldError {
  std::vector<std::string> loc;
  std::string msg;
  std::string type = "value_error";
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Set for request validation errors (answered 422 with {"detail": [...]}).
  std::vector<FieldError> fields;
  // Optional public code that overrides the default for `code` in the JSON body, e.g.
  // "VERSION_MISMATCH" (see SPEC §3 error bodies). Empty = derived from `code`.
  std::string public_code = {};

  static Error InvalidArgument(std::string m) {
    return {ErrorCode::kInvalidArgument, std::move(m), {}, {}};
  }
  static Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m), {}, {}}; }
  static Error AlreadyExists(std::string m) {
    return {ErrorCode::kAlreadyExists, std::move(m), {}, {}};
  }
  static Error FailedPrecondition(std::string m) {
    return {ErrorCode::kFailedPrecondition, std::move(m), {}, {}};
  }
  static Error Aborted(std::string m) { return {ErrorCode::kAborted, std::move(m), {}, {}}; }
  static Error Unavailable(std::string m) {
    return {ErrorCode::kUnavailable, std::move(m), {}, {}};
  }
  static Error ResourceExhausted(std::string m) {
    return {ErrorCode::kResourceExhausted, std::move(m), {}, {}};
  }
  static Error Cancelled(std::string m) { return {ErrorCode::kCancelled, std::move(m), {}, {}}; }
  static Error DeadlineExceeded(std::string m) {
    return {ErrorCode::kDeadlineExceeded, std::move(m), {}, {}};
  }
  static Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m), {}, {}}; }
  static Error Validation(std::vector<FieldError> f) {
    std::string m = f.empty() ? "invalid request" : f.front().msg;
    return {ErrorCode::kInvalidArgument, std::move(m), std::move(f), {}};
  }

  // Whether the task engine should try again later (network trouble, a busy service).
  [[nodiscard]] bool IsRetryable() const {
    return code == ErrorCode::kUnavailable || code == ErrorCode::kDeadlineExceeded;
  }
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> Fail(Error e) { return std::unexpected<Error>(std::move(e)); }

}  // namespace vectorize
