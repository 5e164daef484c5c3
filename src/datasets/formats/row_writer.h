#pragma once
// RowWriter: the common back end of every reader. Resolves the three roles from a header (or a
// record's keys), checks and neutralises cells, and appends JSON Lines to the output file
// through a 1 MiB buffer. One per conversion; not thread-safe.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/formats/internal.h"

namespace vectorize::datasets::formats {

// Where a row came from, for messages: "<unit> <number>", e.g. "line 4", "row 3", "record 7".
struct Location {
  const char* unit = "row";
  uint64_t number = 0;
};

// One key/value of a keyed record (JSON object, XML element). kNested = an object or array,
// which a mapped role refuses.
struct Field {
  enum class Kind { kText, kNull, kNested };
  std::string_view key;
  std::string_view value;
  Kind kind = Kind::kText;
};

class RowWriter {
 public:
  // `display` names the input in messages. `validate_utf8` checks mapped cells (for readers whose
  // source does not guarantee UTF-8).
  RowWriter(std::string display, const ColumnOptions& options, bool validate_utf8);
  ~RowWriter();
  RowWriter(const RowWriter&) = delete;
  RowWriter& operator=(const RowWriter&) = delete;

  FormatStatus Open(const std::filesystem::path& output);

  // Resolves the roles from column names (ColumnOptions rules). INVALID_CSV_FORMAT when an
  // explicit name or a required role is missing.
  FormatStatus SetHeader(std::span<const std::string> names);
  bool has_header() const { return has_header_; }
  size_t header_size() const { return header_size_; }

  // A row of cells by header position; cells past the end count as empty.
  FormatStatus WriteRow(std::span<const std::string_view> cells, Location where);

  // A keyed record; the first one fixes the header from its keys (in order).
  FormatStatus WriteRecord(std::span<const Field> fields, Location where);

  // Flushes and closes; fills rows, skipped_rows, classification and columns.
  // EMPTY_FILE if no header/record was seen or no data row; INVALID_CSV_FORMAT if every row
  // was skipped.
  FormatStatus Finish(ConvertResult& result);

 private:
  FormatStatus WriteRoles(std::string_view q, std::string_view p, std::string_view n,
                          Location where);
  FormatStatus CheckCell(std::string_view v, int role, Location where);
  void AppendEscaped(std::string_view v);
  FormatStatus Flush();

  std::string display_;
  ColumnOptions options_;
  bool validate_utf8_;
  int fd_ = -1;
  std::string out_;
  bool has_header_ = false;
  size_t header_size_ = 0;
  int index_[3] = {-1, -1, -1};  // question, positive, negative → header position
  std::string names_[3];         // the source names of the roles
  uint64_t rows_ = 0;
  uint64_t skipped_ = 0;
  uint64_t seen_ = 0;
};

}  // namespace vectorize::datasets::formats
