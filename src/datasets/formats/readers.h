#pragma once
// One converter per input format; ConvertFile (convert.cc) picks one. Each streams `input` into
// `writer` and fills the format-specific parts of `result` (delimiter, encoding).

#include <filesystem>
#include <string_view>

#include "datasets/formats/row_writer.h"

namespace vectorize::datasets::formats {

FormatStatus ConvertCsv(const std::filesystem::path& input, std::string_view display,
                        RowWriter& writer, const Limits& limits, ConvertResult& result);
FormatStatus ConvertJson(const std::filesystem::path& input, std::string_view display,
                         RowWriter& writer, const Limits& limits);
FormatStatus ConvertJsonl(const std::filesystem::path& input, std::string_view display,
                          RowWriter& writer, const Limits& limits);
FormatStatus ConvertXml(const std::filesystem::path& input, std::string_view display,
                        RowWriter& writer, const Limits& limits);
FormatStatus ConvertXlsx(const std::filesystem::path& input, std::string_view display,
                         RowWriter& writer, const ColumnOptions& options, const Limits& limits);
FormatStatus ConvertXls(const std::filesystem::path& input, std::string_view display,
                        RowWriter& writer, const ColumnOptions& options, const Limits& limits);

}  // namespace vectorize::datasets::formats
