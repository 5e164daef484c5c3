#include "datasets/formats/test_support.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace vectorize::datasets::formats::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "vz_formats_XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> TempDir::Files() const {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(path_)) {
    out.push_back(e.path().filename().string());
  }
  return out;
}

std::filesystem::path TestData(std::string_view relative) {
  return std::filesystem::path(VZ_DATASETS_TESTDATA) / relative;
}

void WriteFile(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteZip(const std::filesystem::path& p, const std::vector<ZipEntry>& entries) {
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_set_options(a, "zip:compression=deflate");
  if (archive_write_open_filename(a, p.c_str()) != ARCHIVE_OK) {
    throw std::runtime_error(archive_error_string(a));
  }
  for (const auto& e : entries) {
    archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.name.c_str());
    archive_entry_set_perm(en, 0644);
    if (e.kind == 'd') {
      archive_entry_set_filetype(en, AE_IFDIR);
      archive_entry_set_size(en, 0);
    } else if (e.kind == 'l') {
      archive_entry_set_filetype(en, AE_IFLNK);
      archive_entry_set_symlink(en, e.data.c_str());
      archive_entry_set_size(en, 0);
    } else if (e.kind == 'h') {
      archive_entry_set_filetype(en, AE_IFREG);
      archive_entry_set_hardlink(en, e.data.c_str());
      archive_entry_set_size(en, 0);
    } else {
      archive_entry_set_filetype(en, AE_IFREG);
      archive_entry_set_size(en, static_cast<la_int64_t>(e.data.size()));
    }
    archive_write_header(a, en);
    if (e.kind == 'f' && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
}

namespace {

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string ColumnName(size_t i) {
  std::string s;
  ++i;
  while (i > 0) {
    s.insert(s.begin(), static_cast<char>('A' + (i - 1) % 26));
    i = (i - 1) / 26;
  }
  return s;
}

}  // namespace

void WriteXlsx(const std::filesystem::path& p,
               const std::vector<std::vector<std::vector<std::string>>>& sheets) {
  std::vector<std::string> shared;
  std::vector<ZipEntry> entries;
  entries.push_back(
      {"[Content_Types].xml",
       R"(<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>)"});
  std::string workbook =
      R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>)";
  std::string rels =
      R"(<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)";
  for (size_t s = 0; s < sheets.size(); ++s) {
    // Sheet files are numbered backwards so the relationship, not the name, must be followed.
    size_t file_no = sheets.size() - s;
    workbook +=
        fmt::format(R"(<sheet name="Sheet{}" sheetId="{}" r:id="rId{}"/>)", s + 1, s + 1, s + 1);
    rels += fmt::format(
        R"(<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{}.xml"/>)",
        s + 1, file_no);
    std::string xml =
        R"(<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>)";
    for (size_t r = 0; r < sheets[s].size(); ++r) {
      xml += fmt::format(R"(<row r="{}">)", r + 1);
      for (size_t c = 0; c < sheets[s][r].size(); ++c) {
        const std::string& v = sheets[s][r][c];
        if (v.empty()) continue;
        std::string ref = ColumnName(c) + std::to_string(r + 1);
        if (v.rfind("#n:", 0) == 0) {
          xml += fmt::format(R"(<c r="{}"><v>{}</v></c>)", ref, v.substr(3));
        } else if (v.rfind("#i:", 0) == 0) {
          xml += fmt::format(R"(<c r="{}" t="inlineStr"><is><t>{}</t></is></c>)", ref,
                             XmlEscape(v.substr(3)));
        } else {
          xml += fmt::format(R"(<c r="{}" t="s"><v>{}</v></c>)", ref, shared.size());
          shared.push_back(v);
        }
      }
      xml += "</row>";
    }
    xml += "</sheetData></worksheet>";
    entries.push_back({fmt::format("xl/worksheets/sheet{}.xml", file_no), xml});
  }
  workbook += "</sheets></workbook>";
  rels += "</Relationships>";
  std::string sst = fmt::format(
      R"(<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{}" uniqueCount="{}">)",
      shared.size(), shared.size());
  for (const auto& s : shared) sst += "<si><t xml:space=\"preserve\">" + XmlEscape(s) + "</t></si>";
  sst += "</sst>";
  // Shared strings after the sheets, as some producers do: the reader must not depend on order.
  entries.push_back({"xl/workbook.xml", workbook});
  entries.push_back({"xl/_rels/workbook.xml.rels", rels});
  entries.push_back({"xl/sharedStrings.xml", sst});
  WriteZip(p, entries);
}

std::vector<boost::json::object> ReadJsonl(const std::filesystem::path& p) {
  std::vector<boost::json::object> rows;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line)) rows.push_back(boost::json::parse(line).as_object());
  return rows;
}

Converted ConvertPath(const std::filesystem::path& input, std::string_view filename,
                      const ColumnOptions& options, const Limits& limits) {
  TempDir out;
  auto output = out / "out.jsonl";
  Converted c{ConvertFile(input, filename, options, output, limits), {}, false};
  c.output_exists = std::filesystem::exists(output);
  if (c.output_exists) c.rows = ReadJsonl(output);
  return c;
}

Converted ConvertBytes(std::string_view filename, std::string_view content,
                       const ColumnOptions& options, const Limits& limits) {
  TempDir in;
  auto input = in / "upload.bin";
  WriteFile(input, content);
  return ConvertPath(input, filename, options, limits);
}

}  // namespace vectorize::datasets::formats::testing
