// ConvertError → Error, and the small helpers of internal.h.

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

#include "common/utf8.h"
#include "datasets/formats/internal.h"

namespace vectorize::datasets::formats {

Error ConvertError::ToError() const {
  ErrorCode c = ErrorCode::kInvalidArgument;
  if (status == 413) c = ErrorCode::kResourceExhausted;
  if (status >= 500) c = ErrorCode::kInternal;
  Error e{c, message, {}, code};
  return e;
}

uint64_t LineOfOffset(const std::filesystem::path& file, uint64_t offset) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  uint64_t line = 1;
  uint64_t pos = 0;
  char buf[1 << 16];
  while (pos < offset) {
    ssize_t n = ::read(fd, buf, static_cast<size_t>(std::min<uint64_t>(sizeof buf, offset - pos)));
    if (n <= 0) break;
    line += static_cast<uint64_t>(std::count(buf, buf + n, '\n'));
    pos += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return line;
}

std::string Quote(std::string_view s) {
  std::string inner = SanitizeUtf8(s, 60);
  std::string out;
  out.reserve(inner.size() + 2);
  out.push_back('\'');
  out.append(inner);
  out.push_back('\'');
  return out;
}

std::expected<uint64_t, ConvertError> CheckInputSize(const std::filesystem::path& file,
                                                     std::string_view display,
                                                     const Limits& limits) {
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(file, ec);
  if (ec) return InvalidFileError(fmt::format("{}: cannot read the file", Quote(display)));
  if (size == 0) return EmptyFileError(fmt::format("{} is empty", Quote(display)));
  if (size > limits.max_file_bytes) {
    return TooLargeError(fmt::format("{} is {} bytes; the limit is {} bytes", Quote(display), size,
                                     limits.max_file_bytes));
  }
  return size;
}

}  // namespace vectorize::datasets::formats
