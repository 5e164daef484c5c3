#pragma once
// Helpers for the dataset format tests: a temp dir, files, zips built with libarchive, and the
// converted output read back.

#include <boost/json.hpp>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "datasets/formats/formats.h"

namespace vectorize::datasets::formats::testing {

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }
  // Regular files left in the directory (names).
  std::vector<std::string> Files() const;

 private:
  std::filesystem::path path_;
};

std::filesystem::path TestData(std::string_view relative);
void WriteFile(const std::filesystem::path& p, std::string_view bytes);
std::string ReadFile(const std::filesystem::path& p);

// One entry of a zip built for a test. kind: 'f' file, 'd' directory, 'l' symlink (data =
// target), 'h' hard link (data = target).
struct ZipEntry {
  std::string name;
  std::string data;
  char kind = 'f';
};
// Writes a zip (deflate) with libarchive.
void WriteZip(const std::filesystem::path& p, const std::vector<ZipEntry>& entries);

// An XLSX of one or more sheets; each sheet a list of rows of cells. A cell starting with "#n:"
// is written as a number, "#i:" as an inline string, anything else as a shared string.
void WriteXlsx(const std::filesystem::path& p,
               const std::vector<std::vector<std::vector<std::string>>>& sheets);

// The JSONL output parsed line by line.
std::vector<boost::json::object> ReadJsonl(const std::filesystem::path& p);

// Converts `content` written to a file named `filename` in a temp dir.
struct Converted {
  FormatResult<ConvertResult> result;
  std::vector<boost::json::object> rows;
  bool output_exists = false;
};
Converted ConvertBytes(std::string_view filename, std::string_view content,
                       const ColumnOptions& options = {}, const Limits& limits = {});
Converted ConvertPath(const std::filesystem::path& input, std::string_view filename,
                      const ColumnOptions& options = {}, const Limits& limits = {});

}  // namespace vectorize::datasets::formats::testing
