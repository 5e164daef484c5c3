// Format detection by extension and file-name sanitising (SPEC §3.1).

#include <fmt/format.h>

#include "datasets/formats/internal.h"

namespace vectorize::datasets::formats {
namespace {

std::string_view LastComponent(std::string_view name) {
  size_t slash = name.find_last_of("/\\");
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string_view InputFormatName(InputFormat f) {
  switch (f) {
    case InputFormat::kCsv: return "csv";
    case InputFormat::kJson: return "json";
    case InputFormat::kJsonl: return "jsonl";
    case InputFormat::kXml: return "xml";
    case InputFormat::kXlsx: return "xlsx";
    case InputFormat::kXls: return "xls";
  }
  return "?";
}

FormatResult<InputFormat> DetectFormat(std::string_view filename) {
  std::string_view last = LastComponent(filename);
  size_t dot = last.rfind('.');
  std::string ext = dot == std::string_view::npos ? std::string() : Lower(last.substr(dot + 1));
  if (ext == "csv") return InputFormat::kCsv;
  if (ext == "json") return InputFormat::kJson;
  if (ext == "jsonl") return InputFormat::kJsonl;
  if (ext == "xml") return InputFormat::kXml;
  if (ext == "xlsx") return InputFormat::kXlsx;
  if (ext == "xls") return InputFormat::kXls;
  return UnsupportedError(fmt::format(
      "{}: unsupported file format {}; expected csv, json, jsonl, xml, xlsx, xls or a zip of them",
      Quote(filename), ext.empty() ? std::string("(no extension)") : Quote(ext)));
}

FormatResult<std::string> SanitizeFilename(std::string_view name) {
  std::string_view last = LastComponent(name);
  size_t dot = last.rfind('.');
  std::string_view stem = dot == std::string_view::npos ? last : last.substr(0, dot);
  std::string out;
  out.reserve(stem.size());
  for (char c : stem) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    char m = ok ? c : '_';
    if (m == '_' && !out.empty() && out.back() == '_') continue;
    out.push_back(m);
  }
  size_t b = out.find_first_not_of("_-");
  if (b == std::string::npos) {
    return InvalidFileError(
        fmt::format("file name {} has no usable name before its extension", Quote(name)));
  }
  size_t e = out.find_last_not_of("_-");
  out = out.substr(b, e - b + 1);
  if (out.size() > 128) {
    out.resize(128);
    while (!out.empty() && (out.back() == '_' || out.back() == '-')) out.pop_back();
  }
  return out;
}

}  // namespace vectorize::datasets::formats
