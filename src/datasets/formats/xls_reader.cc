// XLS (BIFF5/BIFF8 in a compound file) through Debian's FreeXL, which loads the workbook into
// memory; the file is bounded by Limits::max_file_bytes before it gets here and BIFF8 sheets
// by 65,536 rows. The first non-empty row is the header.

#include <fmt/format.h>
#include <freexl.h>

#include <cstdio>
#include <vector>

#include "datasets/formats/readers.h"

namespace vectorize::datasets::formats {

FormatStatus ConvertXls(const std::filesystem::path& input, std::string_view display,
                        RowWriter& writer, const ColumnOptions& options, const Limits& limits) {
  const void* h = nullptr;
  int rc = freexl_open(input.c_str(), &h);
  if (rc != FREEXL_OK) {
    if (h) freexl_close(h);
    return InvalidFileError(
        fmt::format("{}: not a readable XLS workbook (FreeXL error {})", Quote(display), rc));
  }
  struct Closer {
    const void* h;
    ~Closer() { freexl_close(h); }
  } closer{h};

  unsigned int info = 0;
  if (freexl_get_info(h, FREEXL_BIFF_PASSWORD, &info) == FREEXL_OK &&
      info == FREEXL_BIFF_OBFUSCATED) {
    return InvalidFileError(fmt::format("{}: the workbook is password-protected", Quote(display)));
  }
  unsigned int sheets = 0;
  freexl_get_info(h, FREEXL_BIFF_SHEET_COUNT, &sheets);
  if (options.sheet_index >= sheets) {
    return InvalidContentError(
        fmt::format("{}: sheet_index {} is out of range; the workbook has {} sheet{}",
                    Quote(display), options.sheet_index, sheets, sheets == 1 ? "" : "s"));
  }
  if (freexl_select_active_worksheet(h, static_cast<unsigned short>(options.sheet_index)) !=
      FREEXL_OK) {
    return InvalidFileError(
        fmt::format("{}: cannot select sheet {}", Quote(display), options.sheet_index));
  }
  unsigned int rows = 0;
  unsigned short cols = 0;
  if (freexl_worksheet_dimensions(h, &rows, &cols) != FREEXL_OK) {
    return InvalidFileError(fmt::format("{}: unreadable sheet dimensions", Quote(display)));
  }
  std::vector<std::string> cells(cols);
  std::vector<std::string_view> views(cols);
  for (unsigned int r = 0; r < rows; ++r) {
    bool any = false;
    for (unsigned short c = 0; c < cols; ++c) {
      FreeXL_CellValue v;
      std::string& out = cells[c];
      out.clear();
      if (freexl_get_cell_value(h, r, c, &v) != FREEXL_OK) {
        return InvalidFileError(
            fmt::format("{}: unreadable cell in row {}, column {}", Quote(display), r + 1, c + 1));
      }
      switch (v.type) {
        case FREEXL_CELL_INT: out = std::to_string(v.value.int_value); break;
        case FREEXL_CELL_DOUBLE: {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.15g", v.value.double_value);
          out = buf;
          break;
        }
        case FREEXL_CELL_TEXT:
        case FREEXL_CELL_SST_TEXT:
        case FREEXL_CELL_DATE:
        case FREEXL_CELL_DATETIME:
        case FREEXL_CELL_TIME:
          if (v.value.text_value) out = v.value.text_value;
          break;
        default: break;
      }
      if (out.size() > limits.max_record_bytes) {
        return TooLargeError(fmt::format("{}: a cell in row {} is longer than {} bytes",
                                         Quote(display), r + 1, limits.max_record_bytes));
      }
      any |= !out.empty();
    }
    if (!any) continue;
    if (!writer.has_header()) {
      if (auto s = writer.SetHeader(cells); !s) return s;
      continue;
    }
    views.assign(cells.begin(), cells.end());
    if (auto s = writer.WriteRow(views, Location{"row", r + 1}); !s) return s;
  }
  return {};
}

}  // namespace vectorize::datasets::formats
