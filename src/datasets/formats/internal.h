#pragma once
// Internals shared by the readers of this library (not part of the contract in formats.h).

#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

#include "datasets/formats/formats.h"

namespace vectorize::datasets::formats {

using FormatStatus = std::expected<void, ConvertError>;

inline std::unexpected<ConvertError> EmptyFileError(std::string m) {
  return std::unexpected(ConvertError{std::string(kEmptyFile), 400, std::move(m)});
}
inline std::unexpected<ConvertError> InvalidFileError(std::string m) {
  return std::unexpected(ConvertError{std::string(kInvalidFile), 400, std::move(m)});
}
inline std::unexpected<ConvertError> UnsupportedError(std::string m) {
  return std::unexpected(ConvertError{std::string(kUnsupportedFormat), 422, std::move(m)});
}
inline std::unexpected<ConvertError> InvalidContentError(std::string m) {
  return std::unexpected(ConvertError{std::string(kInvalidCsvFormat), 422, std::move(m)});
}
inline std::unexpected<ConvertError> TooLargeError(std::string m) {
  return std::unexpected(ConvertError{std::string(kPayloadTooLarge), 413, std::move(m)});
}
inline std::unexpected<ConvertError> IoError(std::string m) {
  return std::unexpected(ConvertError{std::string(kServerError), 500, std::move(m)});
}

// 1-based line of byte `offset` of the file (counts '\n' before it); 0 if unreadable.
uint64_t LineOfOffset(const std::filesystem::path& file, uint64_t offset);

// For messages: `s` as valid UTF-8, at most 60 code points, quoted.
std::string Quote(std::string_view s);

// Size of the file or an INVALID_FILE/EMPTY_FILE/PAYLOAD_TOO_LARGE error naming `display`.
std::expected<uint64_t, ConvertError> CheckInputSize(const std::filesystem::path& file,
                                                     std::string_view display,
                                                     const Limits& limits);

}  // namespace vectorize::datasets::formats
