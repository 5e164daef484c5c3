#pragma once
// TextDecoder: reads a text file as UTF-8, whatever its encoding (CSV input, SPEC §3.1):
//   UTF-8 with BOM ("utf-8-sig"), UTF-16 LE/BE with BOM, else UTF-8 if the first non-ASCII
//   sequence is valid UTF-8, else Windows-1252 (a superset of Latin-1), transcoded.
// Refuses NUL bytes and (once UTF-8 was decided) invalid UTF-8 with the line where they are.
// Streams through fixed buffers. Not thread-safe.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "datasets/formats/internal.h"

namespace vectorize::datasets::formats {

class TextDecoder {
 public:
  TextDecoder(std::filesystem::path path, std::string display);
  ~TextDecoder();
  TextDecoder(const TextDecoder&) = delete;
  TextDecoder& operator=(const TextDecoder&) = delete;

  FormatStatus Open();

  // Writes up to `cap` (≥ 16) bytes of valid UTF-8 to `dst`; 0 at the end of the file.
  std::expected<size_t, ConvertError> Read(char* dst, size_t cap);

  // "utf-8", "utf-8-sig", "utf-16le", "utf-16be" or "windows-1252".
  std::string_view encoding() const;

 private:
  enum class Mode { kUndecided, kUtf8, kUtf8Bom, kUtf16Le, kUtf16Be, kCp1252 };
  std::expected<size_t, ConvertError> ReadRaw(char* dst, size_t cap);
  std::expected<size_t, ConvertError> ReadUtf8(char* dst, size_t cap);
  std::expected<size_t, ConvertError> ReadCp1252(char* dst, size_t cap);
  std::expected<size_t, ConvertError> ReadUtf16(char* dst, size_t cap);
  FormatStatus CheckOutput(const char* out, size_t n);

  std::filesystem::path path_;
  std::string display_;
  int fd_ = -1;
  Mode mode_ = Mode::kUndecided;
  std::string pending_;  // raw bytes read but not yet decoded
  std::string scratch_;
  bool eof_ = false;
  uint64_t lines_before_ = 0;  // newlines in the output so far
};

}  // namespace vectorize::datasets::formats
