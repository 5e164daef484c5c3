// ConvertFile: size checks, the reader for the format, and removal of the output on failure.

#include <fmt/format.h>

#include <system_error>

#include "datasets/formats/readers.h"

namespace vectorize::datasets::formats {

FormatResult<ConvertResult> ConvertFile(const std::filesystem::path& input,
                                        std::string_view original_filename,
                                        const ColumnOptions& options,
                                        const std::filesystem::path& output_jsonl,
                                        const Limits& limits) {
  auto format = DetectFormat(original_filename);
  if (!format) return std::unexpected(format.error());
  auto size = CheckInputSize(input, original_filename, limits);
  if (!size) return std::unexpected(size.error());

  ConvertResult result;
  result.format = *format;
  result.input_bytes = *size;
  const bool binary = *format == InputFormat::kXls;
  FormatStatus status;
  {
    RowWriter writer(std::string(original_filename), options, binary);
    status = writer.Open(output_jsonl);
    if (status) {
      switch (*format) {
        case InputFormat::kCsv:
          status = ConvertCsv(input, original_filename, writer, limits, result);
          break;
        case InputFormat::kJson:
          status = ConvertJson(input, original_filename, writer, limits);
          break;
        case InputFormat::kJsonl:
          status = ConvertJsonl(input, original_filename, writer, limits);
          break;
        case InputFormat::kXml:
          status = ConvertXml(input, original_filename, writer, limits);
          break;
        case InputFormat::kXlsx:
          status = ConvertXlsx(input, original_filename, writer, options, limits);
          break;
        case InputFormat::kXls:
          status = ConvertXls(input, original_filename, writer, options, limits);
          break;
      }
    }
    if (status) status = writer.Finish(result);
  }
  if (!status) {
    std::error_code ec;
    std::filesystem::remove(output_jsonl, ec);
    return std::unexpected(status.error());
  }
  return result;
}

}  // namespace vectorize::datasets::formats
