#pragma once
// A streaming multipart/form-data parser (RFC 7578 over RFC 2046 framing). Bytes are fed in
// chunks of any size (a boundary may be split across them); file parts (those with a filename)
// are written to their own temp files as they arrive, plain fields are kept as strings up to a
// small limit. Memory stays bounded by the limits, not by the body size.
//
// Errors (all invalid_argument → 400 BAD_REQUEST, with a message that says what is wrong): no or
// bad boundary in Content-Type, missing first boundary, malformed part headers, no
// Content-Disposition name, a field over max_field_bytes, too many parts, part headers over
// max_header_bytes, the body ending before the closing boundary. Temp files cannot be created or
// written: internal.
// Thread safety: a parser and a form belong to one thread at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace vectorize::http {

struct MultipartLimits {
  std::size_t max_parts = 1000;
  std::size_t max_header_bytes = 16 << 10;  // all header lines of one part
  std::size_t max_field_bytes = 64 << 10;   // a part without a filename
};

struct MultipartPart {
  std::string name;                     // Content-Disposition name
  std::optional<std::string> filename;  // as sent (filename* decoded to UTF-8); set = file part
  std::string content_type;             // empty when absent
  std::string value;                    // plain fields: the content
  std::string file_path;                // file parts: temp file with the content
  std::uint64_t size = 0;               // bytes of content
};

// The parts of one body. Owns the parts' temp files: removed when the form is destroyed, unless
// a caller renamed them away first (then the unlink finds nothing). Move-only.
class MultipartForm {
 public:
  MultipartForm() = default;
  MultipartForm(MultipartForm&&) noexcept = default;
  MultipartForm& operator=(MultipartForm&&) noexcept;
  MultipartForm(const MultipartForm&) = delete;
  MultipartForm& operator=(const MultipartForm&) = delete;
  ~MultipartForm();

  std::vector<MultipartPart> parts;

  // Parts named `name`, in order.
  [[nodiscard]] std::vector<const MultipartPart*> All(std::string_view name) const;
  // Unlinks every part's temp file now.
  void RemoveFiles();
};

// The boundary parameter of a multipart/form-data Content-Type (quoted or not, 1..70 chars).
// Errors: invalid_argument when the type is not multipart/form-data or has no valid boundary.
[[nodiscard]] Result<std::string> MultipartBoundary(std::string_view content_type);

class MultipartParser {
 public:
  // REQUIRES: temp_dir exists and is writable.
  MultipartParser(std::string boundary, std::string temp_dir, MultipartLimits limits = {});
  ~MultipartParser();
  MultipartParser(const MultipartParser&) = delete;
  MultipartParser& operator=(const MultipartParser&) = delete;

  // Consumes the next bytes of the body. After an error the parser stays failed.
  [[nodiscard]] Status Feed(std::string_view bytes);
  // The body has ended: the form when the closing boundary was seen. Call once.
  [[nodiscard]] Result<MultipartForm> Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Convenience: parses a whole body stored in `body_path` (read in 256 KiB chunks).
[[nodiscard]] Result<MultipartForm> ParseMultipartFile(const std::string& body_path,
                                                       std::string_view content_type,
                                                       const std::string& temp_dir,
                                                       MultipartLimits limits = {});

}  // namespace vectorize::http
